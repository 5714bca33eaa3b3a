"""Migration 0014 on a populated database: partitioned with every row, the audit chain still
verifying, and back to the exact plain schema before it with every row again."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa

from popdb.core import audit
from popdb.ops import migrate

BEFORE = "0013"  # the revision before 0014
TABLES = ("source_record", "match_candidate", "audit_event", "match_key")


def _schema(conn: sa.Connection) -> dict[str, Any]:
    """Everything about the schema a downgrade must give back: columns, constraints,
    indexes, triggers, sequence ownership, grants, and which tables are partitioned."""
    q = lambda sql: sorted(tuple(r) for r in conn.execute(sa.text(sql)))  # noqa: E731
    return {
        "columns": q("SELECT table_name, column_name, ordinal_position, data_type, is_nullable, "
                     "column_default FROM information_schema.columns "
                     "WHERE table_schema = 'public'"),
        "constraints": q("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                         "FROM pg_constraint WHERE connamespace = 'public'::regnamespace"),
        "indexes": q("SELECT tablename, indexname, indexdef FROM pg_indexes "
                     "WHERE schemaname = 'public'"),
        "triggers": q("SELECT tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger "
                      "WHERE NOT tgisinternal"),
        "sequences": q("SELECT s.relname, d.refobjid::regclass::text, d.refobjsubid "
                       "FROM pg_class s JOIN pg_depend d ON d.objid = s.oid "
                       "AND d.deptype = 'a' WHERE s.relkind = 'S'"),
        "kinds": q("SELECT relname, relkind FROM pg_class "
                   "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p')"),
        "grants": q("SELECT table_name, grantee, privilege_type FROM "
                    "information_schema.role_table_grants WHERE table_schema = 'public'"),
    }  # fmt: skip


def _rows(conn: sa.Connection) -> dict[str, list[tuple[Any, ...]]]:
    columns = {
        "source_record": "id, batch_id, row_number, raw::text, personal_id_number, person_id",
        "match_candidate": "id, left_record_id, right_record_id, probability, review_status",
        "audit_event": "id, occurred_at, action, prev_hash, hash",
        "match_key": "record_id, pin, sex",
    }
    return {
        t: [tuple(r) for r in conn.execute(sa.text(f"SELECT {c} FROM {t} ORDER BY 1"))]
        for t, c in columns.items()
    }


def _populate(conn: sa.Connection) -> None:
    run = lambda sql, **p: conn.execute(sa.text(sql), p)  # noqa: E731
    run("INSERT INTO import_batch (id, commune_code, file_name, sha256, size_bytes, collected_on,"
        " options) VALUES (1, '00004', 'a.csv', repeat('0', 64), 1, '2025-07-01', :o), "
        "(2, '00007', 'b.csv', repeat('1', 64), 1, '2025-07-01', :o), "
        "(3, '00007', 'c.csv', repeat('2', 64), 1, '2025-07-01', :o)",
        o=json.dumps({"header": ["name", "note", "other"]}))  # fmt: skip
    run("INSERT INTO source_record (batch_id, row_number, raw, personal_id_number) "
        "SELECT 1 + (n % 2), n, CAST(:raw AS jsonb), CASE WHEN n % 3 = 0 THEN "
        "lpad(n::text, 12, '0') END FROM generate_series(2, 301) AS n",
        raw=json.dumps(["Nguyễn Văn A", None, "x\ty"]))  # fmt: skip
    run("INSERT INTO match_key (record_id, pin, sex, dob_year, dob_month, dob_day) "
        "SELECT id, personal_id_number, 1, 0, 0, 0 FROM source_record WHERE id % 5 = 0")
    run("INSERT INTO match_model (version, params) VALUES (1, '{}')")
    run("INSERT INTO match_candidate (left_record_id, right_record_id, model_id, gammas, "
        "match_weight, probability, decision, review_status) "
        "SELECT a.id, a.id + 1, (SELECT id FROM match_model), '{}', 1.5, 0.7, 'review', "
        "'pending' FROM source_record a WHERE a.id % 7 = 0 AND a.id < 300")
    prev, keys = audit.GENESIS, audit.keyring()
    start = dt.datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    for i in range(1, 41):  # across 2024, 2025 and 2026, one chain
        row: dict[str, Any] = {
            "id": i, "occurred_at": start + dt.timedelta(days=20 * (i - 1)),
            "actor_id": None, "actor_name": "cli", "role": "operator", "action": f"act-{i}",
            "subject_type": "person", "subject_id": str(i), "purpose": None,
            "legal_basis": None, "fields": [], "request_id": None, "detail": {"n": i},
            "prev_hash": prev, "hash_version": audit.KEYED, "key_id": keys.active_id,
        }  # fmt: skip
        row["hash"] = prev = audit.compute_hash(row, keys)
        run("INSERT INTO audit_event (id, occurred_at, actor_id, actor_name, role, action, "
            "subject_type, subject_id, purpose, legal_basis, fields, request_id, detail, "
            "prev_hash, hash_version, key_id, hash) VALUES (:id, :occurred_at, :actor_id, "
            ":actor_name, :role, :action, :subject_type, :subject_id, :purpose, :legal_basis, "
            "CAST(:f AS jsonb), :request_id, CAST(:d AS jsonb), :prev_hash, :hash_version, "
            ":key_id, :hash)",
            **row, f="[]", d=json.dumps(row["detail"]))  # fmt: skip
    run("SELECT setval('audit_event_id_seq', 40)")


@pytest.fixture
def engine_before(scratch_database_url: str) -> Any:
    engine = sa.create_engine(scratch_database_url)
    migrate.upgrade(engine, BEFORE)
    yield engine
    migrate.downgrade(engine, "base")
    engine.dispose()


def test_populated_database_partitions_and_comes_back_exactly(engine_before: Any) -> None:
    engine = engine_before
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE ROLE popdb_test_reader_0014"))
        conn.execute(sa.text("GRANT SELECT ON audit_event, source_record TO "
                             "popdb_test_reader_0014"))  # fmt: skip
    try:
        with engine.begin() as conn:
            _populate(conn)
        with engine.connect() as conn:
            schema, rows = _schema(conn), _rows(conn)
            assert audit.verify(conn).ok
        assert len(rows["audit_event"]) == 40 and len(rows["match_candidate"]) > 10

        migrate.upgrade(engine, "0014")
        with engine.connect() as conn:
            assert _rows(conn) == rows
            verdict = audit.verify(conn)
            assert verdict.ok and verdict.checked == 40
            parts = dict(conn.execute(sa.text(
                "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                "JOIN pg_class c ON c.oid = i.inhrelid")).all())  # fmt: skip
            per_part = dict(conn.execute(sa.text(
                "SELECT tableoid::regclass::text, count(*) FROM audit_event GROUP BY 1")).all())
            batch_of = conn.execute(sa.text(
                "SELECT count(*) FROM match_candidate m JOIN source_record r "
                "ON r.id = m.right_record_id AND r.batch_id = m.batch_id")).scalar_one()
            grants = _schema(conn)["grants"]
        # the append-only triggers hold on every partition, TRUNCATE included
        for statement in ("UPDATE audit_event_y2025 SET action = 'x'",
                          "DELETE FROM audit_event WHERE id = 1",
                          "TRUNCATE audit_event_y2026"):  # fmt: skip
            with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as conn:
                conn.execute(sa.text(statement))
        assert parts["source_record_b1"] == "FOR VALUES IN ('1')"
        assert parts["source_record_b2"] == "FOR VALUES IN ('2')"
        assert parts["match_candidate_b2"] == "FOR VALUES IN ('2')"
        assert "source_record_default" not in parts and parts["audit_event_default"] == "DEFAULT"
        years = [r[1].astimezone(dt.UTC).year for r in rows["audit_event"]]
        assert per_part == {f"audit_event_y{y}": years.count(y) for y in set(years)}
        assert len(per_part) == 4  # 2024 (its last microsecond) to 2027
        assert batch_of == len(rows["match_candidate"])
        assert ("audit_event", "popdb_test_reader_0014", "SELECT") in grants

        migrate.downgrade(engine, BEFORE)
        with engine.connect() as conn:
            assert _rows(conn) == rows
            assert audit.verify(conn).ok
            after = _schema(conn)
        assert after == schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP OWNED BY popdb_test_reader_0014"))
            conn.execute(sa.text("DROP ROLE popdb_test_reader_0014"))
