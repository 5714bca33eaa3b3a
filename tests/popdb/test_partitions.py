"""Partitions (migration 0014, popdb.core.partitions): a loaded batch is its own partition,
batches and audit years are detached for archiving and attached back, and the audit chain
verifies across the cut."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit, partitions
from popdb.core.errors import InvalidInput, NotFound
from popdb.ops import migrate
from popdb.registry.matching import RunOptions, match
from tests.conftest import as_service
from tests.importers.test_pipeline import COMMUNE, import_file
from tests.popdb.test_cli import _env, popdb
from tests.support.dc01 import fake_rows, write_csv


def _scalar(conn: sa.Connection, sql: str, **params: Any) -> Any:
    return conn.execute(sa.text(sql), params).scalar()


def test_a_loaded_batch_is_an_attached_partition_with_the_parents_indexes_and_keys(
    session: Session, scope: Any, tmp_path: Path
) -> None:
    summary = import_file(session, scope, write_csv(tmp_path / "a.csv", fake_rows(40)))
    batch = summary["batch_id"]
    conn = session.connection()
    parents = dict(conn.execute(sa.text(
        "SELECT c.relname, p.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE c.relname LIKE :n"),
        {"n": f"%_b{batch}"}).all())  # fmt: skip
    assert parents == {f"source_record_b{batch}": "source_record",
                       f"match_candidate_b{batch}": "match_candidate"}  # fmt: skip
    for table in partitions.BY_BATCH:
        part = partitions.batch_partition(table, batch)
        # every partitioned index (keys included) has its share on the partition
        indexes = "SELECT count(*) FROM pg_index WHERE indrelid = CAST(:t AS regclass)"
        assert _scalar(conn, indexes, t=part) == _scalar(conn, indexes, t=table) > 0
        fks = ("SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
               "AND conrelid = CAST(:t AS regclass)")  # fmt: skip
        assert _scalar(conn, fks, t=part) == _scalar(conn, fks, t=table) > 0
    # rows were copied frozen (COPY FREEZE): every page all-frozen, no vacuum must visit them
    conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_visibility"))
    pages, frozen = conn.execute(sa.text(
        f"SELECT pg_relation_size('source_record_b{batch}') / current_setting('block_size')::int,"
        f" (SELECT all_frozen FROM pg_visibility_map_summary('source_record_b{batch}'))")).one()
    assert frozen == pages > 0
    # a row of another batch cannot be put into this batch's partition
    with pytest.raises(sa.exc.IntegrityError), session.begin_nested():
        session.execute(sa.text(f"INSERT INTO source_record_b{batch} (batch_id, row_number, raw) "
                                f"VALUES ({batch + 1000}, 1, '[]')"))  # fmt: skip


@pytest.mark.parametrize(
    "statement, refusal",
    [
        ("SELECT batch_partition('drop', 'source_record', {batch})", "holds rows"),
        ("SELECT batch_partition('create', 'person', {batch})", "not a batch partition"),
        ("SELECT batch_partition('attach', 'audit_event', {batch})", "not a batch partition"),
        ("ALTER TABLE source_record DETACH PARTITION source_record_b{batch}", "must be owner"),
        ("DROP TABLE source_record_b{batch}", "must be owner"),
        ("DELETE FROM source_record_b{batch}", None),  # allowed, as on source_record itself
        ("DELETE FROM audit_event_y{year}", "permission denied"),
        ("TRUNCATE audit_event_default", "permission denied"),
        ("UPDATE audit_event_y2021 SET purpose = 'x'", "permission denied"),
        ("INSERT INTO archived_partition (name, parent, rows) VALUES ('x', 'audit_event', 0)",
         "permission denied"),
    ],
)
def test_the_service_role_loads_a_batch_but_cannot_reshape_the_partitions(
    session: Session, scope: Any, tmp_path: Path, statement: str, refusal: str | None
) -> None:
    conn = session.connection()
    partitions.ensure_audit_years(conn, since=2021)  # as the owner, like `popdb audit partitions`
    as_service(conn)
    summary = import_file(session, scope, write_csv(tmp_path / "a.csv", fake_rows(5)))
    assert summary["status"] in {"loaded", "matched"}, summary
    sql = statement.format(batch=summary["batch_id"], year=dt.datetime.now(dt.UTC).year)
    if refusal is None:
        with session.begin_nested():
            session.execute(sa.text(sql))
        return
    with pytest.raises(sa.exc.DBAPIError, match=refusal), session.begin_nested():
        session.execute(sa.text(sql))


def _partitions_of(conn: sa.Connection, table: str) -> dict[str, str]:
    return dict(conn.execute(sa.text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = CAST(:t AS regclass)"),
        {"t": table}).all())  # fmt: skip


def _snapshot(conn: sa.Connection) -> dict[str, list[Any]]:
    return {
        table: list(conn.execute(sa.text(
            f"SELECT to_jsonb(t) FROM {table} t ORDER BY id")).scalars())
        for table in partitions.BY_BATCH
    }  # fmt: skip


def test_a_provinces_batches_fold_into_one_partition_and_come_back_from_the_archive(
    session: Session, scope: Any, tmp_path: Path
) -> None:
    conn = session.connection()
    batches = []
    for i in range(3):
        # the same people again, and more: the later batches' matching finds pairs
        path = write_csv(tmp_path / f"{i}.csv", fake_rows(10 + i, seed=1))
        batches.append(import_file(session, scope, path)["batch_id"])
        if i < 2:  # the third stays `loaded`: not folded until it is matched
            match(conn, RunOptions())
    province = _scalar(conn, "SELECT province_code FROM admin_unit WHERE code = :c AND "
                             "level = 'commune' LIMIT 1", c=COMMUNE)  # fmt: skip
    before = _snapshot(conn)
    assert before["match_candidate"], "the second batch's matching found pairs"

    # one batch per transaction at most (`limit`), then the next joins the same partition
    first = partitions.fold_province(conn, province, limit=1)
    assert first.batches == batches[:1]
    folded = partitions.fold_province(conn, province)
    assert folded.batches == batches[1:2]
    assert folded.partitions_after == first.partitions_before - 1
    for table in partitions.BY_BATCH:
        parts = _partitions_of(conn, table)
        target = partitions.province_partition(table, province)
        assert parts[target] == f"FOR VALUES IN ('{batches[0]}', '{batches[1]}')"
        assert f"{table}_b{batches[2]}" in parts and f"{table}_b{batches[0]}" not in parts
        # the parent's indexes and keys were adopted, none built a second time
        indexes = "SELECT count(*) FROM pg_index WHERE indrelid = CAST(:t AS regclass)"
        assert _scalar(conn, indexes, t=target) == _scalar(conn, indexes, t=table)
        assert _scalar(conn, "SELECT count(*) FROM pg_index i JOIN pg_inherits h ON "
                             "h.inhrelid = i.indexrelid WHERE i.indrelid = CAST(:t AS regclass)",
                       t=target) == _scalar(conn, indexes, t=table)  # fmt: skip
    assert _snapshot(conn) == before  # every row, every id, every column
    # a read by person plans over fewer partitions and finds the same records
    person = before["source_record"][0]["person_id"]
    assert _scalar(conn, "SELECT count(*) FROM source_record WHERE person_id = :p", p=person) >= 1

    # the third batch, once matched, folds into the same partition
    match(conn, RunOptions())
    again = partitions.fold_province(conn, province)
    assert again.batches == [batches[2]]
    assert _partitions_of(conn, "source_record")[
        partitions.province_partition("source_record", province)
    ] == "FOR VALUES IN ({})".format(", ".join(f"'{b}'" for b in batches))
    assert partitions.fold_province(conn, province).batches == []  # nothing left to fold
    everything = _snapshot(conn)

    # archived as a province, and attached back
    detached = partitions.detach_province(conn, province)
    assert {d.name for d in detached} == {
        partitions.province_partition(t, province) for t in partitions.BY_BATCH
    }
    assert _scalar(conn, "SELECT count(*) FROM source_record WHERE batch_id = ANY(:b)",
                   b=batches) == 0  # fmt: skip
    with pytest.raises(NotFound, match="folded"):
        partitions.detach_batches(conn, [batches[0]])
    partitions.attach_archived_province(conn, province)
    assert _snapshot(conn) == everything


def test_a_province_is_archived_and_attached_back_by_the_cli(
    scratch_database_url: str, tmp_path: Path
) -> None:
    env = _env(DATABASE_URL=scratch_database_url, POPDB_HOME=str(tmp_path / "home"))
    ids = []
    for name, rows in (("a.csv", 30), ("b.csv", 20)):
        done = popdb("import", str(write_csv(tmp_path / name, fake_rows(rows, seed=len(ids) + 1))),
                     "--commune", "00004", "--no-match", env=env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        ids.append(json.loads(done.stdout)["batch_id"])
    engine = sa.create_engine(scratch_database_url)

    def count() -> list[Any]:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT batch_id, count(*) FROM source_record GROUP BY 1 ORDER BY 1")).all()

    try:
        assert [tuple(r) for r in count()] == [(ids[0], 30), (ids[1], 20)]
        done = popdb("db", "archive", "--batch", str(ids[0]), env=env)
        assert done.returncode == 0, done.stderr
        assert [d["rows"] for d in json.loads(done.stdout)["detached"]] == [30, 0]
        assert [tuple(r) for r in count()] == [(ids[1], 20)]
        with engine.connect() as conn:
            # the detached table is still there, to be dumped, and recorded
            assert _scalar(conn, f"SELECT count(*) FROM source_record_b{ids[0]}") == 30
            assert _scalar(conn, "SELECT count(*) FROM archived_partition") == 2
            province = _scalar(conn, "SELECT province_code FROM admin_unit WHERE code = "
                                     "'00004' AND level = 'commune' LIMIT 1")  # fmt: skip
        done = popdb("db", "archive", "--province", province, env=env)  # the other batch
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["batches"] == [ids[1]]
        assert count() == []
        done = popdb("db", "reattach", "--province", province, env=env)
        assert done.returncode == 0, done.stderr
        assert [tuple(r) for r in count()] == [(ids[0], 30), (ids[1], 20)]
        with engine.connect() as conn:
            assert _scalar(conn, "SELECT count(*) FROM archived_partition") == 0
            actions = list(conn.scalars(sa.text(
                "SELECT action FROM audit_event WHERE action LIKE 'records_%' ORDER BY id")))
        assert actions == ["records_archived", "records_archived", "records_reattached"]
        assert json.loads(popdb("audit", "verify", env=env).stdout)["ok"] is True
    finally:
        engine.dispose()


def _chain(conn: sa.Connection, times: list[dt.datetime]) -> None:
    """Audit events at the given times, chained on the head, as the chain would have them."""
    prev = _scalar(conn, "SELECT hash FROM audit_event ORDER BY id DESC LIMIT 1") or audit.GENESIS
    for at in times:
        event_id = _scalar(conn, "SELECT nextval('audit_event_id_seq')")
        row: dict[str, Any] = {
            "id": event_id, "occurred_at": at, "actor_id": None, "actor_name": "cli",
            "role": "operator", "action": "test", "subject_type": None, "subject_id": None,
            "purpose": None, "legal_basis": None, "fields": [], "request_id": None,
            "detail": {}, "prev_hash": prev, "hash_version": audit.KEYED,
            "key_id": audit.keyring().active_id,
        }  # fmt: skip
        row["hash"] = prev = audit.compute_hash(row, audit.keyring())
        conn.execute(sa.text(
            "INSERT INTO audit_event (id, occurred_at, actor_name, role, action, prev_hash, "
            "hash_version, key_id, hash) VALUES (:id, :occurred_at, :actor_name, :role, "
            ":action, :prev_hash, :hash_version, :key_id, :hash)"), row)  # fmt: skip


def test_the_cli_folds_matched_batches_a_transaction_at_a_time(
    scratch_database_url: str, tmp_path: Path
) -> None:
    env = _env(DATABASE_URL=scratch_database_url, POPDB_HOME=str(tmp_path / "home"))
    ids = []
    for rows in (10, 12):  # matched after load (no --no-match)
        done = popdb("import", str(write_csv(tmp_path / f"{rows}.csv", fake_rows(rows, seed=3))),
                     "--commune", COMMUNE, env=env)  # fmt: skip
        assert done.returncode == 0, done.stderr
        ids.append(json.loads(done.stdout)["batch_id"])
    done = popdb("db", "fold", env=env)
    assert done.returncode == 0, done.stderr
    folded = json.loads(done.stdout)["folded"]
    assert [f["batches"] for f in folded] == [ids]
    assert folded[0]["rows"]["source_record"] == 22
    again = popdb("db", "fold", env=env)
    assert again.returncode == 0 and json.loads(again.stdout) == {"folded": []}, again.stderr
    engine = sa.create_engine(scratch_database_url)
    try:
        with engine.connect() as conn:
            assert _scalar(conn, "SELECT count(*) FROM source_record") == 22
            assert _scalar(conn, "SELECT count(*) FROM audit_event WHERE action = "
                                 "'records_folded'") == 1  # fmt: skip
    finally:
        engine.dispose()


def test_audit_years_are_archived_and_the_chain_verifies_from_the_cut(
    scratch_database_url: str,
) -> None:
    engine = sa.create_engine(scratch_database_url)
    utc = dt.UTC
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            _chain(conn, [dt.datetime(y, m, 1, tzinfo=utc) for y in (2021, 2022, 2023)
                          for m in (1, 6)])  # fmt: skip
            _chain(conn, [dt.datetime.now(utc)])
            assert _scalar(conn, "SELECT count(*) FROM audit_event_default") == 6
            # past years' events in the default partition move into their own years
            made = partitions.ensure_audit_years(conn, since=2021)
            assert made[:3] == ["audit_event_y2021", "audit_event_y2022", "audit_event_y2023"]
            assert _scalar(conn, "SELECT count(*) FROM audit_event_default") == 0
            assert _scalar(conn, "SELECT count(*) FROM audit_event_y2022") == 2
        with engine.connect() as conn:
            before = audit.verify(conn)
        assert before.ok and before.checked == 7

        with engine.begin() as conn:
            detached = partitions.detach_audit_before(conn, 2023)
        assert [(d.name, d.rows) for d in detached] == [("audit_event_y2021", 2),
                                                         ("audit_event_y2022", 2)]  # fmt: skip
        with engine.connect() as conn:
            after = audit.verify(conn)
            assert _scalar(conn, "SELECT count(*) FROM audit_event") == 3
        assert after.ok and (after.checked, after.archived) == (3, 4)
        assert after.head_hash == before.head_hash

        # a forged cut (the archive record altered) is caught
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE archived_partition SET last_hash = repeat('f', 64) "
                                 "WHERE name = 'audit_event_y2021'"))  # fmt: skip
            forged = audit.verify(conn)
            assert not forged.ok and "does not continue" in (forged.problem or "")
            conn.rollback()
        with engine.begin() as conn:
            assert partitions.attach_archived_audit(conn) == ["audit_event_y2021",
                                                              "audit_event_y2022"]  # fmt: skip
        with engine.connect() as conn:
            again = audit.verify(conn)
        assert again.ok and again.checked == 7 and again.archived is None
    finally:
        migrate.downgrade(engine, "base")
        engine.dispose()


def test_an_audit_cut_that_is_not_the_oldest_part_of_the_chain_is_refused(
    scratch_database_url: str,
) -> None:
    engine = sa.create_engine(scratch_database_url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            partitions.ensure_audit_years(conn, since=2021)
            # a later id with an earlier time: the 2021 year is not a prefix of the chain
            _chain(conn, [dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
                          dt.datetime(2021, 1, 1, tzinfo=dt.UTC)])  # fmt: skip
        with engine.begin() as conn, pytest.raises(InvalidInput):
            partitions.detach_audit_before(conn, 2022)
        with engine.connect() as conn:
            assert audit.verify(conn).ok
    finally:
        migrate.downgrade(engine, "base")
        engine.dispose()
