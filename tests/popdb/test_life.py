"""Life events, corrections and as-of reads: every change an event, nothing deleted, any
past state rebuilt from the events."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from popdb.core import audit
from popdb.core.errors import Conflict, Forbidden, InvalidInput
from popdb.registry import corrections, history, life_events
from tests.support.registry import build_in, person_of

ADMIN_A = audit.Actor(101, "alice", "admin")
ADMIN_B = audit.Actor(102, "bob", "admin")


@pytest.fixture
def registry(session, scope, tmp_path):
    return build_in(session, scope, tmp_path)


def _person(session, registry, key="n1a") -> int:
    return person_of(session, registry[key])


def _events(session, person_id: int, kind: str) -> list:
    return session.execute(
        sa.text("SELECT actor, reason, data FROM person_event WHERE person_id = :p AND kind = :k "
                "ORDER BY id"), {"p": person_id, "k": kind},
    ).all()  # fmt: skip


def _backdate(session, person_id: int, when: dt.datetime) -> None:
    """Make everything known so far about the person look recorded at `when` (a test's
    transaction has one clock)."""
    session.flush()
    for table, column in (("person", "id"), ("person_event", "person_id"),
                          ("person_pin", "person_id"), ("life_event", "person_id")):  # fmt: skip
        stamp = "assigned_at" if table == "person_pin" else "created_at"
        session.execute(sa.text(f"UPDATE {table} SET {stamp} = :w WHERE {column} = :p"),
                        {"w": when, "p": person_id})  # fmt: skip


def test_a_death_needs_its_civil_status_record_and_changes_status_by_an_event(session, registry):
    p = _person(session, registry)
    with pytest.raises(InvalidInput):
        life_events.record(session, p, kind="death", actor=ADMIN_A, reason="civil status")
    result = life_events.record(
        session, p, kind="death", actor=ADMIN_A, reason="from the civil-status register",
        occurred_on=dt.date(2026, 1, 5), record_reference="KT-2026/0012", authority="UBND xã",
    )  # fmt: skip
    assert (result.status_before, result.status_after) == ("active", "deceased")
    status = session.scalar(sa.text("SELECT status FROM person WHERE id = :p"), {"p": p})
    assert status == "deceased"
    [event] = _events(session, p, "status_changed")
    assert event.actor == "admin:alice (#101)"
    assert event.data["old"] == "active" and event.data["new"] == "deceased"
    assert event.data["record_reference"] == "KT-2026/0012"
    # nothing deleted: the records and the number are still the person's
    assert session.scalar(sa.text("SELECT count(*) FROM source_record WHERE person_id = :p"),
                          {"p": p}) >= 1  # fmt: skip
    # a dead person cannot go missing; a restoration brings them back
    with pytest.raises(Conflict):
        life_events.record(session, p, kind="missing", actor=ADMIN_A, reason="x")
    life_events.record(session, p, kind="restored", actor=ADMIN_B, reason="recorded in error")
    assert [e["kind"] for e in life_events.list_for(session, p)] == ["death", "restored"]
    actions = session.scalars(sa.text(
        "SELECT action FROM audit_event WHERE subject_id = :p AND action LIKE 'person.life%' "
        "ORDER BY id"), {"p": str(p)}).all()  # fmt: skip
    assert actions == ["person.life_event.death", "person.life_event.restored"]


def test_a_plain_field_correction_applies_at_once_and_survives_a_recomputation(
    session, registry
):
    p = _person(session, registry)
    c = corrections.request(session, p, field="permanent_address", value="Số 5 phố Huế, Hà Nội",
                            evidence="CT07 residence certificate 123", reason="moved",
                            actor=ADMIN_A)  # fmt: skip
    assert c.status == "applied" and not c.four_eyes
    address = "SELECT permanent_address FROM person WHERE id = :p"
    assert session.scalar(sa.text(address), {"p": p}) == "Số 5 phố Huế, Hà Nội"
    # a survivorship run (a merge, a new upload) does not undo it
    from popdb.registry.clusters import refresh_golden
    from popdb.registry.staging import staged_persons

    with staged_persons(session.connection(), [p]):
        refresh_golden(session.connection())
    assert session.scalar(sa.text(address), {"p": p}) == "Số 5 phố Huế, Hà Nội"
    [change] = _events(session, p, "field_changed")
    old, new = change.data["fields"]["permanent_address"]
    assert new == "Số 5 phố Huế, Hà Nội" and old != new
    assert change.actor == "admin:alice (#101)"


def test_an_identity_correction_needs_a_second_admin_and_can_be_reverted(session, registry):
    p = _person(session, registry)
    name = "SELECT full_name, name_key, given_name FROM person WHERE id = :p"
    before = session.execute(sa.text(name), {"p": p}).one()
    c = corrections.request(session, p, field="full_name", value="Lê Thị Hoà Bình",
                            evidence="birth certificate 45/2001", reason="typing error",
                            actor=ADMIN_A)  # fmt: skip
    assert c.status == "pending" and c.four_eyes
    assert session.execute(sa.text(name), {"p": p}).one() == before
    with pytest.raises(Forbidden):
        corrections.approve(session, c.id, actor=ADMIN_A)
    corrections.approve(session, c.id, actor=ADMIN_B, version=c.version)
    after = session.execute(sa.text(name), {"p": p}).one()
    assert after.full_name == "Lê Thị Hoà Bình" and after.given_name == "Bình"
    corrections.revert(session, c.id, actor=ADMIN_A, reason="wrong person's certificate")
    assert session.execute(sa.text(name), {"p": p}).one() == before
    steps = [e.data["step"] for e in _events(session, p, "correction")]
    assert steps == ["requested", "applied", "reverted"]
    changes = [e.data["fields"]["full_name"] for e in _events(session, p, "field_changed")]
    assert changes == [[before.full_name, "Lê Thị Hoà Bình"], ["Lê Thị Hoà Bình", before.full_name]]


def test_a_number_correction_keeps_the_old_number_findable_and_reverts(session, registry):
    p = person_of(session, registry["t1"])
    old = session.scalar(sa.text("SELECT personal_id_number FROM person WHERE id = :p"), {"p": p})
    c = corrections.request(session, p, field="personal_id_number", value="001315000999",
                            evidence="decision 7/QD", reason="re-issued", actor=ADMIN_A)
    corrections.approve(session, c.id, actor=ADMIN_B)
    pins = dict(session.execute(sa.text(
        "SELECT personal_id_number, retired_at IS NOT NULL FROM person_pin WHERE person_id = :p"),
        {"p": p}).all())  # fmt: skip
    assert pins[old] is True and pins["001315000999"] is False
    from popdb.identity.answers import resolve

    assert resolve(session, old).id == p  # the old number still finds the person
    corrections.revert(session, c.id, actor=ADMIN_B, reason="decision annulled")
    assert session.scalar(
        sa.text("SELECT personal_id_number FROM person WHERE id = :p"), {"p": p}) == old


def test_a_correction_is_refused_without_evidence_or_for_an_unknown_field(session, registry):
    p = _person(session, registry)
    with pytest.raises(InvalidInput):
        corrections.request(session, p, field="full_name", value="X Y", evidence=" ",
                            reason="r", actor=ADMIN_A)  # fmt: skip
    with pytest.raises(InvalidInput):
        corrections.request(session, p, field="status", value="deceased", evidence="e",
                            reason="r", actor=ADMIN_A)  # fmt: skip


def test_as_of_rebuilds_fields_status_and_numbers_from_the_events(session, registry):
    p = person_of(session, registry["t1"])
    original = session.execute(sa.text("SELECT full_name, personal_id_number FROM person "
                                        "WHERE id = :p"), {"p": p}).one()  # fmt: skip
    day1 = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    _backdate(session, p, day1)
    c = corrections.request(session, p, field="full_name", value="Trần Minh Ánh",
                            evidence="birth certificate", reason="tone", actor=ADMIN_A)
    corrections.approve(session, c.id, actor=ADMIN_B)
    life_events.record(session, p, kind="death", actor=ADMIN_A, reason="civil status",
                       occurred_on=dt.date(2026, 2, 1), record_reference="KT-1")  # fmt: skip
    session.flush()
    session.execute(sa.text("UPDATE person_event SET created_at = :w WHERE person_id = :p "
                            "AND created_at > :d1"),
                    {"w": dt.datetime(2026, 2, 10, tzinfo=dt.UTC), "p": p, "d1": day1})
    session.execute(sa.text("UPDATE life_event SET created_at = :w WHERE person_id = :p"),
                    {"w": dt.datetime(2026, 2, 10, tzinfo=dt.UTC), "p": p})

    before = history.state_as_of(session, p, history.end_of(dt.date(2026, 1, 15)))
    assert before["status"] == "active"
    assert before["fields"]["full_name"] == original.full_name
    assert before["personal_id_number"] == original.personal_id_number
    assert before["life_event"] is None
    later = history.state_as_of(session, p, history.end_of(dt.date(2026, 2, 10)))
    assert later["status"] == "deceased" and later["fields"]["full_name"] == "Trần Minh Ánh"
    assert later["life_event"]["record_reference"] == "KT-1"
    assert history.state_as_of(session, p, history.end_of(dt.date(2025, 12, 31))) is None
