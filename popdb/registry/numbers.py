"""Which personal ID numbers are taken: `person_pin` holds every number ever assigned.

Uniqueness under concurrency comes from the database: a number is claimed by inserting it
with ON CONFLICT DO NOTHING, so two sessions can never both win the same number (the
second waits for the first to commit, then sees the conflict and draws again).
"""

from __future__ import annotations

import random

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from popdb.core import pin
from popdb.core.errors import Conflict
from popdb.core.models import Person, PersonPin

MAX_ATTEMPTS = 50


def claim_number(session: Session, person: Person, number: str, *, reason: str) -> bool:
    """Record `number` as `person`'s; False when it already belongs to someone."""
    claimed = session.scalar(
        insert(PersonPin)
        .values(person_id=person.id, personal_id_number=number, reason=reason)
        .on_conflict_do_nothing(index_elements=[PersonPin.personal_id_number])
        .returning(PersonPin.id)
    )
    if claimed is None:
        return (
            session.scalar(
                sa.select(PersonPin.person_id).where(PersonPin.personal_id_number == number)
            )
            == person.id
        )
    return True


def allocate_number(
    session: Session,
    person: Person,
    *,
    place_code: str,
    sex: int,
    birth_year: int,
    rng: random.Random | None = None,
) -> str:
    """Generate a fresh random number for `person` and make it theirs."""
    for _ in range(MAX_ATTEMPTS):
        number = pin.generate_pin(place_code=place_code, sex=sex, birth_year=birth_year, rng=rng)
        if claim_number(session, person, number, reason="generated"):
            person.personal_id_number = number
            person.pin_state = "generated"
            session.flush()
            return number
    raise Conflict(
        f"no free personal ID number found in {MAX_ATTEMPTS} draws for place {place_code}, "
        f"year {birth_year}: the range may be nearly full"
    )
