"""The audit chain: appends chain, the database refuses changes, verify finds tampering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.models import AuditEvent
from tests.popdb.test_cli import _env, popdb

ALICE = audit.Actor(7, "Bộ Y tế", "agency")


def _append(session: Session, n: int) -> list[AuditEvent]:
    """n events appended one at a time, read back as stored."""
    appended = [
        audit.record(
            session,
            actor=ALICE,
            action="identity.verify",
            subject_type="person",
            subject_id=100 + i,
            purpose="khám bệnh",
            legal_basis="a",
            fields=["full_name", "dob"],
            request_id=f"r{i}",
            detail={"match": True, "n": i},
        )  # fmt: skip
        for i in range(n)
    ]
    return [session.get_one(AuditEvent, a.id) for a in appended]


def _tamper(session: Session, sql: str) -> None:
    """What a database superuser could do; the rolled-back test transaction undoes it."""
    session.execute(sa.text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
    session.execute(sa.text(sql))
    session.execute(sa.text("ALTER TABLE audit_event ENABLE TRIGGER USER"))


def test_each_event_carries_the_hash_of_the_one_before(session: Session) -> None:
    head = audit.anchor(session).head_hash
    first, second = _append(session, 2)
    assert first.prev_hash == head
    assert second.prev_hash == first.hash and second.id > first.id
    verdict = audit.verify(session.connection())
    assert verdict.ok and verdict.head_hash == second.hash


def test_the_hash_is_recomputed_from_the_stored_row(session: Session) -> None:
    (event,) = _append(session, 1)
    session.expire_all()
    row = (
        session.execute(
            sa.select(*[getattr(AuditEvent, c) for c in audit.HASHED_V2]).where(
                AuditEvent.id == event.id
            )
        )
        .mappings()
        .one()
    )
    assert audit.compute_hash(row) == event.hash


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET purpose = 'x'", "DELETE FROM audit_event", "TRUNCATE audit_event"],
)
def test_the_database_refuses_to_change_the_log(session: Session, statement: str) -> None:
    _append(session, 1)
    with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
        session.execute(sa.text(statement))


def test_an_edited_row_is_named(session: Session) -> None:
    events = _append(session, 3)
    _tamper(session, f"UPDATE audit_event SET purpose = 'other' WHERE id = {events[1].id}")
    verdict = audit.verify(session.connection())
    assert not verdict.ok and verdict.first_bad_id == events[1].id
    assert "content" in (verdict.problem or "")


def test_a_removed_row_breaks_the_link_of_the_next(session: Session) -> None:
    events = _append(session, 3)
    _tamper(session, f"DELETE FROM audit_event WHERE id = {events[1].id}")
    verdict = audit.verify(session.connection())
    assert not verdict.ok and verdict.first_bad_id == events[2].id


def test_an_anchor_reveals_a_cut_tail(session: Session, tmp_path: Path) -> None:
    events = _append(session, 3)
    path = tmp_path / "anchor.json"
    audit.anchor(session).write(path)
    kept = audit.Anchor.read(path)
    assert kept.head_id == events[-1].id and kept.head_hash == events[-1].hash
    _tamper(session, f"DELETE FROM audit_event WHERE id = {events[-1].id}")
    assert audit.verify(session.connection()).ok  # a clean cut leaves a valid shorter chain
    verdict = audit.verify(session.connection(), kept)
    assert not verdict.ok and "cut" in (verdict.problem or "")


def test_a_bad_anchor_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "anchor.json"
    path.write_text("{}")
    with pytest.raises(audit.InvalidInput, match="not an audit anchor"):
        audit.Anchor.read(path)


def test_values_that_jsonb_would_rewrite_are_stored_as_hashed(session: Session) -> None:
    detail = {"p": 1e5, "s": {2, 1}}
    event = audit.record(session, actor=audit.Actor.operator(), action="x", detail=detail)
    stored = session.get(AuditEvent, event.id)
    assert stored is not None and stored.detail == {"p": "100000.0", "s": [1, 2]}
    assert audit.verify(session.connection()).ok


def test_cli_verifies_anchors_and_exits_1_on_a_broken_chain(
    scratch_database_url: str, tmp_path: Path
) -> None:
    env = _env(DATABASE_URL=scratch_database_url)
    created = popdb("clients", "create", "--name", "x", "--role", "admin", env=env)
    assert created.returncode == 0, created.stderr
    engine = sa.create_engine(scratch_database_url)
    with Session(engine) as session:
        _append(session, 3)
        session.commit()
    anchor = tmp_path / "anchor.json"
    assert popdb("audit", "anchor", "--out", str(anchor), env=env).returncode == 0
    done = popdb("audit", "verify", "--anchor", str(anchor), env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    with Session(engine) as session:
        _tamper(session, "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)")
        session.commit()
    assert popdb("audit", "verify", env=env).returncode == 0
    cut = popdb("audit", "verify", "--anchor", str(anchor), env=env)
    assert cut.returncode == 1 and "cut" in cut.stderr
    engine.dispose()


def test_many_events_appended_at_once_chain_like_single_ones(session: Session) -> None:
    _append(session, 2)
    entries = [
        audit.Entry(
            "identity.verify_batch", "person", 200 + i, "kyc", "a", ["dob"], "rb", {"index": i}
        )  # fmt: skip
        for i in range(5)
    ]
    assert audit.record_many(session, actor=ALICE, entries=entries) == 5
    _append(session, 1)
    rows = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    batch = [r for r in rows if r.action == "identity.verify_batch"]
    assert [r.detail["index"] for r in batch] == [0, 1, 2, 3, 4]
    assert audit.verify(session.connection()).ok
    assert audit.record_many(session, actor=ALICE, entries=[]) == 0


def test_an_inserted_row_is_named(session: Session) -> None:
    events = _append(session, 3)
    # a forged event slipped in between two real ones, with a plausible hash of its own
    forged_id = events[1].id
    _tamper(session, f"UPDATE audit_event SET id = id + 1000 WHERE id > {events[0].id}")
    row = {c: getattr(events[0], c) for c in audit.HASHED_V2}
    row.update(id=forged_id, action="identity.lookup", prev_hash=events[0].hash)
    # even with the key (the worst case), the next row's link gives the forgery away
    session.execute(
        sa.insert(AuditEvent).values(**row, hash=audit.compute_hash(row))
    )  # plain INSERT: the triggers allow appends
    verdict = audit.verify(session.connection())
    assert not verdict.ok and verdict.first_bad_id == events[1].id + 1000


def test_reordered_rows_are_named(session: Session) -> None:
    events = _append(session, 3)
    a, b = events[0].id, events[1].id
    _tamper(session, f"UPDATE audit_event SET id = -1 WHERE id = {a}")
    _tamper(session, f"UPDATE audit_event SET id = {a} WHERE id = {b}")
    _tamper(session, f"UPDATE audit_event SET id = {b} WHERE id = -1")
    verdict = audit.verify(session.connection())
    assert not verdict.ok and verdict.first_bad_id == a


def test_the_database_hashes_the_bytes_python_would(session: Session) -> None:
    """What the database stores hashes as Python hashed it: escapes and non-ASCII text, and
    values that once were markers (audit_append, migration 0005), survive the round trip."""
    detail = {"quote": 'a"b\\c\nd', "vi": "Nguyễn Thị Hòa", "emoji": "🙂\u2028",
              "marker": "@@id-0@@", "nested": {"k": [1, None, True]}}  # fmt: skip
    event = audit.record(session, actor=audit.Actor(None, "Ông \"Tư\"", "operator"),
                         action="x", purpose="@@prev-@@", detail=detail)  # fmt: skip
    row = session.execute(
        sa.select(*[getattr(AuditEvent, c) for c in audit.HASHED_V2])
        .where(AuditEvent.id == event.id)
    ).mappings().one()  # fmt: skip
    assert audit.compute_hash(row) == event.hash
    assert audit.verify(session.connection()).ok


def test_one_append_many_takes_entries_of_several_actors(session: Session) -> None:
    """A group commit: many clients' events in one list, each with its own actor."""
    bob = audit.Actor(8, "Ngân hàng X", "agency")
    appended = audit.append_many(session, entries=[
        audit.Entry("identity.verify", actor=ALICE), audit.Entry("identity.lookup", actor=bob),
    ])  # fmt: skip
    assert [a.prev_hash for a in appended[1:]] == [appended[0].hash]
    names = [session.get_one(AuditEvent, a.id).actor_name for a in appended]
    assert names == [ALICE.name, bob.name]
    assert audit.verify(session.connection()).ok
    with pytest.raises(audit.InvalidInput, match="actor"):
        audit.append_many(session, entries=[audit.Entry("x")])
