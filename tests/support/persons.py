"""Person factory for tests: a golden record added and flushed, never committed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from popdb.core.models import Person, PersonPin
from popdb.core.text import canonical, fold


def add_person(
    session: Session,
    *,
    personal_id_number: str | None,
    full_name: str = "Nguyễn Thị Hòa",
    dob: tuple[int, int | None, int | None] | None = (1990, 5, 12),
    sex: int | None = 2,
    old_numbers: tuple[str, ...] = (),
    **fields: Any,
) -> Person:
    year, month, day = dob if dob else (None, None, None)
    person = Person(
        personal_id_number=personal_id_number,
        full_name=full_name,
        name_key=canonical(full_name),
        name_fold=fold(full_name),
        dob_year=year,
        dob_month=month,
        dob_day=day,
        sex=sex,
        pin_state="kept" if personal_id_number else "pending",
        **fields,
    )
    session.add(person)
    session.flush()
    for number in old_numbers:
        session.add(PersonPin(person_id=person.id, personal_id_number=number, reason="test"))
    session.flush()
    return person


def retire_into(session: Session, retired: Person, survivor: Person) -> None:
    """What a merge leaves behind: the retired person points at its survivor."""
    retired.status = "retired"
    retired.merged_into_id = survivor.id
    session.flush()
