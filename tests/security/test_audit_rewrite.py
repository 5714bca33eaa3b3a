"""Issue 22 item 5: the service's database role could rewrite the audit log.

The attack as reported: `ALTER TABLE audit_event DISABLE TRIGGER`, delete rows, re-hash the
rest with the project's own function, and `popdb audit verify` said ok. Now:

- the service's role may not alter the table, delete, update, truncate or reset its sequence
  (each refused by PostgreSQL's privileges, before any trigger);
- whoever holds the owner's role (or the raw database) but not the key cannot re-hash the
  rows after a deleted one: the chain is an HMAC under a key held outside the database, and
  an unkeyed row after a keyed one is itself a break;
- rows written before the keyed chain (hash version 1) still verify; a wrong key fails
  clearly; a retired key still verifies its rows.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.models import AuditEvent
from popdb.ops import migrate, roles
from tests.conftest import SERVICE_ROLE, as_service, service_url_for
from tests.popdb.test_cli import _env, popdb

ALICE = audit.Actor(7, "Bộ Y tế", "agency")
OTHER_KEY = "not-the-key-" + "f" * 40


def _append(session: Session, n: int) -> list[int]:
    entries = [audit.Entry("identity.verify", "person", 100 + i, "khám bệnh", "a", ["dob"],
                           f"r{i}", {"match": True}) for i in range(n)]  # fmt: skip
    return [a.id for a in audit.append_many(session, actor=ALICE, entries=entries)]


def _rows(session: Session) -> list[dict]:
    columns = [getattr(AuditEvent, c) for c in audit.HASHED_V2] + [AuditEvent.hash]
    found = session.execute(sa.select(*columns).order_by(AuditEvent.id)).mappings()
    return [dict(r) for r in found]


def _rewrite_without_the_key(session: Session, delete_id: int, *, as_v1: bool) -> None:
    """The reported attack, as the owner: triggers off, a row deleted, every later row
    re-hashed with the project's own function: unkeyed (v1), or keyed under a guessed key."""
    guessed = audit.Keyring(OTHER_KEY)
    session.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    session.execute(sa.text("DELETE FROM audit_event WHERE id = :i"), {"i": delete_id})
    rows = _rows(session)
    prev = audit.GENESIS
    for row in rows:
        if row["id"] > delete_id:
            row["prev_hash"] = prev
            if as_v1:
                row.update(hash_version=1, key_id=None)
            else:
                row["key_id"] = guessed.active_id
            new = audit.compute_hash(row, guessed)
            session.execute(
                sa.text("UPDATE audit_event SET prev_hash = :p, hash = :h, hash_version = :v, "
                        "key_id = :k WHERE id = :i"),
                {"p": row["prev_hash"], "h": new, "v": row["hash_version"], "k": row["key_id"],
                 "i": row["id"]},
            )  # fmt: skip
            row["hash"] = new
        prev = row["hash"]
    session.execute(sa.text("ALTER TABLE audit_event ENABLE TRIGGER USER"))


# --- the service's role -----------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE audit_event DISABLE TRIGGER USER",
        "ALTER TABLE audit_event DISABLE TRIGGER ALL",
        "DROP TRIGGER audit_event_no_update_delete ON audit_event",
        "DELETE FROM audit_event",
        "UPDATE audit_event SET purpose = 'x'",
        "TRUNCATE audit_event",
        "SELECT setval('audit_event_id_seq', 1)",
        "UPDATE alembic_version SET version_num = '0001'",
        "CREATE TABLE public.mine (id int)",
        "ALTER TABLE person ADD COLUMN x int",
        "CREATE OR REPLACE FUNCTION audit_event_refuse_change() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    ],
)
def test_the_service_role_cannot_touch_the_log_or_the_schema(session, statement) -> None:
    _append(session, 2)
    as_service(session.connection())
    with pytest.raises(ProgrammingError, match="permission denied|must be owner"), \
            session.begin_nested():  # fmt: skip
        session.execute(sa.text(statement))


def test_the_service_role_appends_reads_and_verifies(session) -> None:
    as_service(session.connection())
    assert session.scalar(sa.text("SELECT current_user")) == SERVICE_ROLE
    ids = _append(session, 3)
    audit.record(session, actor=ALICE, action="identity.lookup", subject_id=1)
    assert audit.verify(session.connection()).ok
    assert session.scalar(sa.select(sa.func.count()).where(AuditEvent.id.in_(ids))) == 3


def test_the_api_runs_as_the_service_role(client) -> None:
    body = client.get("/readyz").get_json()
    assert body["database_role"] == "service", body


def test_a_table_a_later_migration_creates_is_usable_by_the_service(scratch_database_url) -> None:
    """Default privileges: a table the owner creates after the grant step (a later migration,
    even one run by hand without popdb) can be read and written by the service at once."""
    owner = sa.create_engine(scratch_database_url)
    service = sa.create_engine(service_url_for(scratch_database_url))
    try:
        migrate.upgrade(owner)
        with owner.begin() as conn:
            roles.grant_service(conn, SERVICE_ROLE)
            conn.execute(sa.text("CREATE TABLE later_thing (id bigserial PRIMARY KEY, v text)"))
        with service.begin() as conn:
            conn.execute(sa.text("INSERT INTO later_thing (v) VALUES ('a'), ('b')"))
            conn.execute(sa.text("UPDATE later_thing SET v = 'c' WHERE v = 'a'"))
            conn.execute(sa.text("DELETE FROM later_thing WHERE v = 'b'"))
            assert conn.scalar(sa.text("SELECT v FROM later_thing")) == "c"
        with pytest.raises(ProgrammingError, match="must be owner"), service.begin() as conn:
            conn.execute(sa.text("DROP TABLE later_thing"))
    finally:
        service.dispose()
        owner.dispose()


# --- the keyed chain against the owner's role ---------------------------------------------


@pytest.mark.parametrize("as_v1", [True, False], ids=["rehashed-unkeyed", "guessed-key"])
def test_deleting_a_row_and_rehashing_the_rest_without_the_key_is_found(session, as_v1) -> None:
    ids = _append(session, 5)
    assert audit.verify(session.connection()).ok
    _rewrite_without_the_key(session, ids[1], as_v1=as_v1)
    verdict = audit.verify(session.connection())
    assert not verdict.ok
    assert verdict.first_bad_id == ids[2]
    assert ("unkeyed row after keyed" if as_v1 else "not among the keys") in verdict.problem


def test_rewriting_the_whole_chain_unkeyed_is_found(session) -> None:
    """Every row made version 1 (no keyed row left for the unkeyed-after-keyed rule)."""
    ids = _append(session, 3)
    session.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    session.execute(sa.text("DELETE FROM audit_event WHERE id = :i"), {"i": ids[0]})
    prev = audit.GENESIS
    for row in _rows(session):
        row.update(prev_hash=prev, hash_version=1, key_id=None)
        prev = audit.compute_hash(row)
        session.execute(sa.text("UPDATE audit_event SET prev_hash = :p, hash = :h, "
                                "hash_version = 1, key_id = NULL WHERE id = :i"),
                        {"p": row["prev_hash"], "h": prev, "i": row["id"]})  # fmt: skip
    session.execute(sa.text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
    verdict = audit.verify(session.connection())
    assert not verdict.ok and "no keyed row" in verdict.problem


def test_a_wrong_key_fails_clearly_and_a_retired_key_still_verifies(session) -> None:
    _append(session, 2)
    wrong = audit.verify(session.connection(), keys=audit.Keyring(OTHER_KEY))
    assert not wrong.ok and "not among the keys given" in wrong.problem
    current = audit.keyring().active
    rotated = audit.Keyring(OTHER_KEY, retired=(current,))
    audit.use_keyring(rotated)
    try:
        _append(session, 1)  # hashed with the new key
    finally:
        audit.use_keyring(None)
    assert audit.verify(session.connection(), keys=rotated).ok
    old_only = audit.verify(session.connection())
    assert not old_only.ok and "not among the keys" in old_only.problem


def test_appending_without_a_key_is_refused(session) -> None:
    audit.use_keyring(audit.Keyring(None))
    try:
        with pytest.raises(audit.ConfigError, match="no audit key"):
            audit.record(session, actor=ALICE, action="x")
    finally:
        audit.use_keyring(None)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(audit.ConfigError, match="at least 32"):
        audit.Keyring("short")


# --- rows from before the keyed chain ------------------------------------------------------


def test_rows_written_before_migration_0011_still_verify_and_are_sealed(
    scratch_database_url,
) -> None:
    engine = sa.create_engine(scratch_database_url)
    try:
        migrate.upgrade(engine, "0010")
        with engine.begin() as conn:  # three events as 0010's code wrote them (SHA-256)
            prev = audit.GENESIS
            for i in range(1, 4):
                row = {"id": i, "occurred_at": conn.scalar(sa.text("SELECT now()")),
                       "actor_id": 7, "actor_name": "Bộ Y tế", "role": "agency",
                       "action": "identity.verify", "subject_type": "person",
                       "subject_id": str(i), "purpose": "p", "legal_basis": "a",
                       "fields": ["dob"], "request_id": None, "detail": {"n": i},
                       "prev_hash": prev}  # fmt: skip
                prev = audit.compute_hash(row)
                conn.execute(
                    sa.text("INSERT INTO audit_event (id, occurred_at, actor_id, actor_name, "
                            "role, action, subject_type, subject_id, purpose, legal_basis, "
                            "fields, request_id, detail, prev_hash, hash) VALUES (:id, :at, "
                            ":actor_id, :actor_name, :role, :action, :subject_type, "
                            ":subject_id, :purpose, :legal_basis, CAST(:fields AS jsonb), "
                            ":request_id, CAST(:detail AS jsonb), :prev_hash, :hash)"),
                    {**row, "at": row["occurred_at"], "fields": json.dumps(row["fields"]),
                     "detail": json.dumps(row["detail"]), "hash": prev},
                )  # fmt: skip
            conn.execute(sa.text("SELECT setval('audit_event_id_seq', 3)"))
        migrate.upgrade(engine)
        with Session(engine) as session:
            # not sealed yet: an unkeyed-only chain cannot be told from a rewritten one
            assert "no keyed row" in (audit.verify(session.connection()).problem or "")
            assert audit.seal(session) and not audit.seal(session)
            _append(session, 2)
            session.commit()
            verdict = audit.verify(session.connection())
        assert verdict.ok and verdict.checked == 6 and verdict.unkeyed == 3, verdict
        with Session(engine) as session:  # and an old row edited is still found
            session.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            session.execute(sa.text("UPDATE audit_event SET purpose = 'x' WHERE id = 2"))
            verdict = audit.verify(session.connection())
            assert not verdict.ok and verdict.first_bad_id == 2
            session.rollback()
        migrate.downgrade(engine, "0010")  # exact: the columns and the function go
        with engine.connect() as conn:
            columns = {c["name"] for c in sa.inspect(conn).get_columns("audit_event")}
            assert not {"hash_version", "key_id"} & columns
            assert conn.scalar(sa.text("SELECT to_regproc('audit_reserve')")) is None
    finally:
        engine.dispose()


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_verify_finds_the_rewrite_and_a_wrong_key(scratch_database_url) -> None:
    env = _env(DATABASE_URL=scratch_database_url)
    assert popdb("clients", "create", "--name", "x", "--role", "admin", env=env).returncode == 0
    engine = sa.create_engine(scratch_database_url)
    try:
        with Session(engine) as session:
            ids = _append(session, 4)
            session.commit()
        ok = popdb("audit", "verify", env=env)
        assert ok.returncode == 0 and json.loads(ok.stdout)["ok"], ok.stderr
        wrong = popdb("audit", "verify", env={**env, "POPDB_AUDIT_KEY": OTHER_KEY})
        assert wrong.returncode == 1 and "not among the keys given" in wrong.stderr
        with Session(engine) as session:
            _rewrite_without_the_key(session, ids[1], as_v1=True)
            session.commit()
        broken = popdb("audit", "verify", env=env)
        assert broken.returncode == 1, broken.stdout
        assert f"broken at {ids[2]}" in broken.stderr
    finally:
        engine.dispose()


def test_db_url_prints_the_service_url_and_the_owner_only_when_asked(
    scratch_database_url,
) -> None:
    service = service_url_for(scratch_database_url)
    env = _env(DATABASE_URL=service, POPDB_OWNER_DATABASE_URL=scratch_database_url)
    plain = popdb("db", "url", env=env)
    assert plain.returncode == 0, plain.stderr
    assert sa.make_url(plain.stdout.strip()).username == SERVICE_ROLE
    owner = popdb("db", "url", "--owner", env=env)
    assert owner.returncode == 0, owner.stderr
    assert owner.stdout.strip() == sa.make_url(scratch_database_url).render_as_string(
        hide_password=False
    )
    status = json.loads(popdb("db", "status", env=env).stdout)
    assert status["service_runs_as_owner"] is False and status["at_head"]
    # `db url` migrated as the owner and granted: the service can use the registry at once
    engine = sa.create_engine(service)
    try:
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT count(*) FROM admin_unit")) > 0
    finally:
        engine.dispose()


def test_serve_refuses_to_start_without_the_audit_key(scratch_database_url, tmp_path) -> None:
    env = _env(DATABASE_URL=scratch_database_url, POPDB_HOME=str(tmp_path / "home"))
    env.pop("POPDB_AUDIT_KEY", None)
    done = popdb("serve", "--port", "1", env=env)
    assert done.returncode == 2, done.stderr
    assert "no audit key" in done.stderr


def test_embedded_set_up_makes_both_roles_and_a_private_key(tmp_path) -> None:
    from popdb.core import embedded

    home = tmp_path / "home"
    env = _env(POPDB_HOME=str(home))
    env.pop("POPDB_AUDIT_KEY", None)
    try:
        service = popdb("db", "url", env=env)
        assert service.returncode == 0, service.stderr
        owner = popdb("db", "url", "--owner", env=env)
        assert sa.make_url(service.stdout.strip()).username == "popdb_service"
        assert sa.make_url(owner.stdout.strip()).username != "popdb_service"
        for name in ("audit.key", "service.password"):
            mode = stat.S_IMODE(os.stat(home / name).st_mode)
            assert mode == 0o600, (name, oct(mode))
        password = (home / "service.password").read_text().strip()
        assert password not in service.stderr and password not in owner.stderr
        engine = sa.create_engine(service.stdout.strip())
        try:
            with engine.connect() as conn, pytest.raises(DBAPIError, match="must be owner"):
                conn.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
        finally:
            engine.dispose()
        created = popdb("clients", "create", "--name", "x", "--role", "admin", env=env)
        assert created.returncode == 0, created.stderr
        verified = popdb("audit", "verify", env=env)
        assert verified.returncode == 0 and json.loads(verified.stdout)["ok"], verified.stderr
    finally:
        embedded.stop(home / "pgdata") if (home / "pgdata").exists() else None


def test_keys_come_from_the_environment_or_the_file(tmp_path: Path) -> None:
    from popdb.core.settings import Settings

    path = tmp_path / "audit.key"
    new, old = "n" * 40, "o" * 40
    path.write_text(f"# rotated 2026-12-07\n{new}\n{old}\n")
    keys = audit.Keyring.from_settings(Settings(None, tmp_path, audit_key_file=path))
    assert keys.active == new and keys.retired == (old,)
    env_keys = audit.Keyring.from_settings(
        Settings(None, tmp_path, audit_key="e" * 40, audit_key_file=path)
    )
    assert env_keys.active == "e" * 40 and set(env_keys.retired) == {new, old}
    assert audit.ensure_key_file(tmp_path / "fresh.key")
    assert not audit.ensure_key_file(tmp_path / "fresh.key")
    assert stat.S_IMODE(os.stat(tmp_path / "fresh.key").st_mode) == 0o600
