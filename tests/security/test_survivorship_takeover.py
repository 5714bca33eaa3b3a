"""Issue 22 item 2: one commune's batch must not take over a person living elsewhere.

The attack: a police client of commune B uploads a later-dated record that links to a person
whose records all come from commune A, with another religion, phone, address and commune.
Before the fix every field went to the most recent record, and `resides_in` answered for B.
"""

from __future__ import annotations

import datetime as dt
import itertools

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import partitions
from popdb.core.models import ImportBatch, Person, PersonEvent, SourceRecord
from popdb.identity.answers import check, province_of
from popdb.registry.clusters import refresh_golden
from popdb.registry.staging import staged_persons
from tests.support.persons import add_person

HOME, OTHER = "00004", "26740"  # Hà Nội and another province
_sha = itertools.count()


def _batch(session: Session, commune: str, on: dt.date) -> ImportBatch:
    batch = ImportBatch(commune_code=commune, file_name="f.csv", sha256=f"{next(_sha):064d}",
                        size_bytes=1, collected_on=on, status="matched")  # fmt: skip
    session.add(batch)
    session.flush()
    partitions.ensure_batch(session.connection(), batch.id)  # records outside an import
    return batch


def _record(session: Session, person: Person, batch: ImportBatch, **fields) -> SourceRecord:
    record = SourceRecord(batch_id=batch.id, row_number=1, raw=[], person_id=person.id,
                          matched=True, full_name=person.full_name, name_key=person.name_key,
                          name_fold=person.name_fold, dob_year=1990, **fields)  # fmt: skip
    session.add(record)
    session.flush()
    return record


def _resident(session: Session) -> Person:
    person = add_person(session, personal_id_number=None)
    _record(session, person, _batch(session, HOME, dt.date(2024, 1, 1)),
            current_commune_code=HOME, permanent_commune_code=HOME,
            current_address="Số 1 phố Huế", religion_code="00", phone="0912000001")  # fmt: skip
    with staged_persons(session.connection(), [person.id]):
        refresh_golden(session.connection())
    session.refresh(person)
    assert person.current_commune_code == HOME and person.religion_code == "00"
    return person


def _moves(session: Session, person: Person) -> list[PersonEvent]:
    """The residence changes (`moved`); other golden changes write their own events."""
    return list(session.scalars(sa.select(PersonEvent).where(
        PersonEvent.person_id == person.id, PersonEvent.kind == "field_changed",
        PersonEvent.reason == "moved")))  # fmt: skip


def test_a_later_batch_of_another_commune_does_not_rewrite_a_person_elsewhere(session):
    person = _resident(session)
    home_province = province_of(session, HOME)
    assert home_province != province_of(session, OTHER)
    # the forgery keeps the person's residence as recorded (it cannot register a residence
    # in commune A), and changes everything else
    _record(session, person, _batch(session, OTHER, dt.date.today()),
            current_commune_code=HOME, current_address="Số 99 đường giả",
            religion_code="05", phone="0999999999")  # fmt: skip
    with staged_persons(session.connection(), [person.id]):
        refresh_golden(session.connection())
    session.refresh(person)
    assert (person.current_commune_code, person.current_address) == (HOME, "Số 1 phố Huế")
    assert (person.religion_code, person.phone) == ("00", "0912000001")
    assert check(session, person, {"resides_in": home_province})["resides_in"] is True
    assert _moves(session, person) == []


def test_a_record_of_another_commune_fills_only_what_the_home_commune_left_empty(session):
    person = _resident(session)
    _record(session, person, _batch(session, OTHER, dt.date.today()),
            religion_code="05", email="x@example.org")  # fmt: skip
    with staged_persons(session.connection(), [person.id]):
        refresh_golden(session.connection())
    session.refresh(person)
    assert person.religion_code == "00" and person.email == "x@example.org"


def test_a_move_is_a_residence_registered_by_the_new_commune_and_leaves_an_event(session):
    person = _resident(session)
    batch = _batch(session, OTHER, dt.date.today())
    record = _record(session, person, batch, current_commune_code=OTHER,
                     current_address="Số 5 đường Mới", phone="0988000002")  # fmt: skip
    with staged_persons(session.connection(), [person.id]):
        refresh_golden(session.connection())
    session.refresh(person)
    assert (person.current_commune_code, person.current_address) == (OTHER, "Số 5 đường Mới")
    assert person.permanent_commune_code == HOME  # not re-registered: unchanged
    assert person.phone == "0988000002"  # the commune of residence now speaks for them
    [event] = _moves(session, person)
    assert event.reason == "moved"
    assert event.data == {"field": "current_commune_code", "from": HOME, "to": OTHER,
                          "source_record_id": record.id, "batch_id": batch.id,
                          "batch_commune": OTHER,
                          "collected_on": batch.collected_on.isoformat()}  # fmt: skip
    assert check(session, person, {"resides_in": province_of(session, OTHER)})["resides_in"]
