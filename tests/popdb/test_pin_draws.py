"""Personal ID numbers drawn set-wise (issue 17, speed at 1M): tails in bulk from the
operating system's CSPRNG, prefixes per distinct (place, sex, year), collisions drawn again,
and every number still follows the PIN rules and is unique."""

from __future__ import annotations

import random

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import pin
from popdb.core.models import Person, PersonPin
from popdb.registry.clusters import assign_numbers, random_tails
from popdb.registry.staging import staged_persons
from tests.popdb.test_pin_registry import FixedTails


def test_bulk_tails_are_six_digits_uniform_and_unpredictable() -> None:
    tails = random_tails(200_000)
    assert len(tails) == 200_000 and all(0 <= t < 1_000_000 for t in tails)
    assert len(set(tails)) > 150_000  # about 181,000 distinct of a million for 200,000 draws
    buckets = [0] * 10
    for t in tails:
        buckets[t // 100_000] += 1
    assert all(abs(b - 20_000) < 1_000 for b in buckets), buckets  # 7 standard deviations
    assert random_tails(1000) != random_tails(1000)
    assert random_tails(0) == []


def test_a_given_rng_draws_as_before() -> None:
    same = random.Random(3)
    assert random_tails(4, random.Random(3)) == [same.randrange(1_000_000) for _ in range(4)]


def test_prefix_is_generate_pins_prefix() -> None:
    rng = random.Random(1)
    for place in list(pin.PIN_PLACES)[:20]:
        for sex in (1, 2):
            for year in (1900, 1989, 1999, 2000, 2025, 2199, 2399):
                number = pin.generate_pin(place_code=place, sex=sex, birth_year=year, rng=rng)
                assert number[:6] == pin.pin_prefix(place, sex, year)


def test_set_wise_numbers_follow_the_rules_are_unique_and_collisions_draw_again(
    session: Session,
) -> None:
    people = [Person(full_name=f"P {k}", sex=1 + k % 2, dob_year=1980 + k % 3,
                     birth_registration_code="01") for k in range(40)]  # fmt: skip
    session.add_all(people)
    session.flush()
    # The first draw of every person gives tail 7: all but one collide with each other, and
    # the one that wins takes a number someone else already holds, so draws go on until
    # every person has a free number.
    other = Person(full_name="holder", sex=1, dob_year=1980)
    session.add(other)
    session.flush()
    for sex, year in ((1, 1980), (2, 1981), (1, 1982), (2, 1980), (1, 1981), (2, 1982)):
        session.add(PersonPin(person_id=other.id, reason="generated",
                              personal_id_number=f"{pin.pin_prefix('001', sex, year)}000007"))
    session.flush()
    tails = FixedTails([7] * 40 + list(range(100, 100_000)))
    connection = session.connection()
    with staged_persons(connection, [p.id for p in people]):
        counts = assign_numbers(connection, actor="test", rng=tails)
    assert counts["pins_generated"] == 40 and counts["pins_pending"] == 0
    numbers = dict(connection.execute(sa.text(
        "SELECT id, personal_id_number FROM person WHERE id = ANY(:ids)"),
        {"ids": [p.id for p in people]}).all())  # fmt: skip
    assert len(set(numbers.values())) == 40
    for person in people:
        info = pin.parse_pin(numbers[person.id])
        assert (info.place_code, info.sex, info.birth_year) == (
            "001", person.sex, person.dob_year)  # fmt: skip
        assert not numbers[person.id].endswith("000007")
    owners = dict(connection.execute(sa.text(
        "SELECT personal_id_number, person_id FROM person_pin WHERE person_id = ANY(:ids)"),
        {"ids": [p.id for p in people]}).all())  # fmt: skip
    assert owners == {n: i for i, n in numbers.items()}
    events = connection.scalar(sa.text(
        "SELECT count(*) FROM person_event WHERE kind = 'pin_assigned' AND person_id = ANY(:ids)"),
        {"ids": [p.id for p in people]})  # fmt: skip
    assert events == 40
