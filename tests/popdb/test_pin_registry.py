"""Generated personal ID numbers are unique, also when sessions race for them."""

from __future__ import annotations

import random
import threading

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import pin
from popdb.core.models import Person, PersonPin
from popdb.registry.numbers import allocate_number, claim_number


class FixedTails(random.Random):
    """Draws tails from a tiny pool so collisions are certain."""

    def __init__(self, tails: list[int]) -> None:
        super().__init__(0)
        self._tails = iter(tails)

    def randrange(self, *args, **kwargs) -> int:  # type: ignore[override]
        return next(self._tails)

    def randint(self, a: int, b: int) -> int:
        return next(self._tails)


def test_an_allocated_number_follows_the_rules_and_is_recorded(session: Session) -> None:
    person = Person(full_name="Nguyễn Văn An", sex=1, dob_year=1989)
    session.add(person)
    session.flush()
    number = allocate_number(session, person, place_code="001", sex=1, birth_year=1989)
    info = pin.parse_pin(number)
    assert (info.place_code, info.sex, info.birth_year) == ("001", 1, 1989)
    assert person.personal_id_number == number and person.pin_state == "generated"
    assert (
        session.scalar(sa.select(PersonPin.person_id).where(PersonPin.personal_id_number == number))
        == person.id
    )


def test_a_taken_number_is_not_claimed_again(session: Session) -> None:
    a, b = Person(full_name="A"), Person(full_name="B")
    session.add_all([a, b])
    session.flush()
    assert claim_number(session, a, "001089012345", reason="kept")
    assert claim_number(session, a, "001089012345", reason="kept")  # idempotent for its owner
    assert not claim_number(session, b, "001089012345", reason="kept")


def test_a_collision_draws_again(session: Session) -> None:
    a, b = Person(full_name="A"), Person(full_name="B")
    session.add_all([a, b])
    session.flush()
    first = allocate_number(session, a, place_code="079", sex=2, birth_year=2003,
                            rng=FixedTails([123456]))  # fmt: skip
    second = allocate_number(session, b, place_code="079", sex=2, birth_year=2003,
                             rng=FixedTails([123456, 123456, 654321]))  # fmt: skip
    assert first.endswith("123456") and second.endswith("654321")


def test_concurrent_sessions_never_share_a_number(engine: sa.Engine) -> None:
    """Two committed sessions race over a pool of 30 tails for 15 persons each."""
    pool = list(range(30))
    results: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    created: list[int] = []

    def worker(name: str, seed: int) -> None:
        rng = random.Random(seed)
        try:
            with Session(engine) as s:
                got = []
                for _ in range(15):
                    person = Person(full_name=name)
                    s.add(person)
                    s.flush()
                    created.append(person.id)
                    tails = rng.sample(pool, len(pool))
                    got.append(allocate_number(s, person, place_code="092", sex=1,
                                               birth_year=1977, rng=FixedTails(tails)))  # fmt: skip
                    s.commit()
                results[name] = got
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n, i)) for i, n in enumerate("AB")]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        numbers = results["A"] + results["B"]
        assert len(numbers) == 30 and len(set(numbers)) == 30
    finally:
        with engine.begin() as conn:
            conn.execute(sa.delete(PersonPin).where(PersonPin.person_id.in_(created)))
            conn.execute(sa.delete(Person).where(Person.id.in_(created)))
