"""Agency identity services: verify, lookup and predicates, answering only what a policy grants.

No Flask here: the API (and a future batch job) call these with a session and a `Policy`;
they flush nothing and commit nothing. The callers write the audit event.

A number resolves to a person through `person.personal_id_number` or any number the person
ever held (`person_pin`); a person retired by a merge resolves to its survivor by following
`merged_into_id` while the status is `retired`.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import households
from popdb.core.dates import PartialDate
from popdb.core.errors import Forbidden, InvalidInput
from popdb.core.models import AdminUnit, Person, PersonPin
from popdb.core.text import canonical, fold, join_name
from popdb.identity.policy import Policy

NAME_CLAIMS = (
    "full_name", "family_name", "middle_name", "given_name",
    "father_name", "mother_name", "spouse_name",
)  # fmt: skip
#: What a verify call may compare, besides the number itself.
CLAIMS = (*NAME_CLAIMS, "dob", "sex", "nationality")
PREDICATES = ("alive", "age_at_least", "resides_in")
_MAX_MERGE_HOPS = 64


def require(policy: Policy, operation: str, *, consent_ref: str | None) -> None:
    """Refuse an operation the policy does not grant, or a consent-based call without consent."""
    if policy.legal_basis is None:
        raise Forbidden("This client's policy names no legal basis; it may not use identity data.")
    if operation not in policy.operations:
        raise Forbidden(f"This client's policy does not grant the `{operation}` operation.")
    if policy.needs_consent and not (consent_ref or "").strip():
        raise InvalidInput(
            "Clients under legal basis đ (consent) must send the citizen's consent reference.",
            errors={"consent_ref": ["required under legal basis đ"]},
        )


# --- resolving numbers -------------------------------------------------------------------------


def resolve_many(session: Session, numbers: Iterable[str]) -> dict[str, Person | None]:
    """The current person behind each number (the survivor of any merges), or None."""
    wanted = sorted(set(numbers))
    holder: dict[str, int] = {
        str(number): person_id
        for number, person_id in session.execute(
            sa.select(Person.personal_id_number, Person.id).where(
                Person.personal_id_number.in_(wanted)
            )
        ).tuples()
    }
    rest = [n for n in wanted if n not in holder]
    if rest:
        rows = session.execute(
            sa.select(PersonPin.personal_id_number, PersonPin.person_id).where(
                PersonPin.personal_id_number.in_(rest)
            )
        ).tuples()
        holder.update((number, person_id) for number, person_id in rows)
    persons: dict[int, Person] = {}
    todo = set(holder.values())
    for _ in range(_MAX_MERGE_HOPS):
        if not todo:
            break
        loaded = session.scalars(sa.select(Person).where(Person.id.in_(todo))).all()
        persons.update((p.id, p) for p in loaded)
        todo = {
            p.merged_into_id
            for p in loaded
            if p.status == "retired" and p.merged_into_id and p.merged_into_id not in persons
        }
    out: dict[str, Person | None] = {}
    for number in wanted:
        person = persons.get(holder[number]) if number in holder else None
        hops = 0
        while person is not None and person.status == "retired" and hops < _MAX_MERGE_HOPS:
            person = persons.get(person.merged_into_id or -1)
            hops += 1
        out[number] = None if person is None or person.status == "retired" else person
    return out


#: What a verify compares, and what resolving needs: one indexed read of these columns, no ORM
#: object (building and tracking a 45-column Person cost more than the query). Built once.
_VERIFY_COLUMNS = (
    Person.id, Person.status, Person.merged_into_id, Person.personal_id_number,
    Person.full_name, *(getattr(Person, c) for c in NAME_CLAIMS if c != "full_name"),
    Person.dob_year, Person.dob_month, Person.dob_day, Person.sex, Person.nationality,
)  # fmt: skip
_RESOLVE_FOR_VERIFY = (
    sa.select(*_VERIFY_COLUMNS).where(Person.personal_id_number == sa.bindparam("number")).limit(1)
)


def resolve_for_verify(session: Session, number: str) -> Any:
    """`resolve` for verify: a row with the compared columns (attribute access like a Person)
    when the number's holder is active, else the merge-following `resolve_many`."""
    row = session.execute(_RESOLVE_FOR_VERIFY, {"number": number}).first()
    if row is not None and row.status != "retired":
        return row
    return resolve_many(session, [number])[number]


def resolve(session: Session, number: str) -> Person | None:
    """`resolve_many` for one number, in one query when the number's holder is active."""
    person = session.scalars(sa.select(Person).where(Person.personal_id_number == number)).first()
    if person is not None and person.status != "retired":
        return person
    return resolve_many(session, [number])[number]


# --- verify ------------------------------------------------------------------------------------


def person_full_name(person: Person) -> str | None:
    return person.full_name or join_name(person.family_name, person.middle_name, person.given_name)


def person_dob(person: Person) -> PartialDate | None:
    if person.dob_year is None:
        return None
    return PartialDate(person.dob_year, person.dob_month, person.dob_day)


def _name_key(value: str | None, policy: Policy) -> str | None:
    return fold(value) if policy.name_matching == "fold" else canonical(value)


def _claim_holds(person: Person, claim: str, value: Any, policy: Policy) -> bool:
    if claim in NAME_CLAIMS:
        stored = person_full_name(person) if claim == "full_name" else getattr(person, claim)
        key = _name_key(stored, policy)
        return key is not None and key == _name_key(value, policy)
    if claim == "dob":
        stored_dob = person_dob(person)
        claimed = PartialDate.from_iso(value)
        # The claim must be at least as precise as the registry: "1950" proves nothing
        # about a person born on 1950-05-12, while the registry knowing only 1950 cannot
        # contradict a claimed 1950-05-12.
        order = ("year", "month", "day")
        return (
            stored_dob is not None
            and order.index(claimed.precision) >= order.index(stored_dob.precision)
            and claimed.compatible(stored_dob)
        )
    if claim == "sex":
        return person.sex is not None and person.sex == value
    if claim == "nationality":
        return person.nationality is not None and person.nationality == str(value).upper()
    raise InvalidInput(f"`{claim}` cannot be verified")


def claims_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The compared fields of a verify item (everything but the number), refusing an empty one:
    a bare number would turn verify into an existence oracle."""
    claims = {k: v for k, v in item.items() if k in CLAIMS and v is not None}
    if not claims:
        raise InvalidInput(
            "Send at least one field to compare with the number: " + ", ".join(CLAIMS) + ".",
            errors={"_schema": ["no field to compare"]},
        )
    return claims


@dataclass(frozen=True)
class VerifyVerdict:
    """One verify answer. `person_id` is for the audit chain only, never for the caller."""

    match: bool
    person_id: int | None
    compared: tuple[str, ...]
    #: the person's status (active, deceased, missing), only on a match; the API shows it
    #: where the policy grants `status`
    status: str | None = None


def verify_with(person: Any, claims: Mapping[str, Any], policy: Policy) -> VerifyVerdict:
    """`person`: a Person, or a row of `_VERIFY_COLUMNS`, or None."""
    compared = tuple(sorted(claims))
    if person is None:
        return VerifyVerdict(False, None, compared)
    ok = all(_claim_holds(person, k, v, policy) for k, v in claims.items())
    return VerifyVerdict(ok, person.id, compared, person.status if ok else None)


def verify(
    session: Session, policy: Policy, number: str, claims: Mapping[str, Any]
) -> VerifyVerdict:
    """True only when the number resolves to a person and every claim holds."""
    return verify_with(resolve_for_verify(session, number), claims, policy)


def verify_batch(
    session: Session, policy: Policy, items: Sequence[Mapping[str, Any]]
) -> list[VerifyVerdict]:
    """Verify many items with one resolution query per merge hop, answers in input order."""
    persons = resolve_many(session, (i["personal_id_number"] for i in items))
    return [verify_with(persons[i["personal_id_number"]], claims_of(i), policy) for i in items]


# --- lookup ------------------------------------------------------------------------------------


def field_value(person: Person, name: str) -> Any:
    """A lookup field as the API shows it: dates in ISO partial form, codes as stored."""
    if name == "full_name":
        return person_full_name(person)
    if name == "dob":
        dob = person_dob(person)
        return dob.iso() if dob else None
    if name == "ethnicity":
        return person.ethnicity_code
    if name == "religion":
        return person.religion_code
    return getattr(person, name)


#: Granted fields that are not columns of the person: read by their own query.
HOUSEHOLD = "household"


def lookup_fields(person: Person, policy: Policy) -> dict[str, Any]:
    """Exactly the fields the policy grants, nothing else (the household apart: it takes a
    query, `household_answer`)."""
    return {name: field_value(person, name) for name in policy.fields if name != HOUSEHOLD}


def household_answer(
    session: Session, policy: Policy, person_id: int, at: dt.datetime | None = None
) -> tuple[dict[str, Any], list[int]]:
    """`{"household": ...}` when the policy grants it (None when the person has none), else
    `{}`; and the other members whose names it discloses, for the audit chain."""
    if HOUSEHOLD not in policy.fields:
        return {}, []
    view, others = households.agency_view(session, person_id, at)
    return {HOUSEHOLD: view}, others


# --- predicates --------------------------------------------------------------------------------


def _latest_birth(dob: PartialDate) -> dt.date:
    month = dob.month or 12
    day = dob.day or calendar.monthrange(dob.year, month)[1]
    return dt.date(dob.year, month, day)


def age_at_least(dob: PartialDate | None, years: int, today: dt.date) -> bool:
    """True only when certain: even the latest day a partial date allows is old enough."""
    if dob is None:
        return False
    born = _latest_birth(dob)
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return age >= years


def province_of(session: Session, commune_code: str | None) -> str | None:
    """The province of a commune code, in the newest vintage that knows the code."""
    if not commune_code:
        return None
    return session.scalar(
        sa.select(AdminUnit.province_code)
        .where(AdminUnit.level == "commune", AdminUnit.code == commune_code)
        .order_by(AdminUnit.vintage.desc())
        .limit(1)
    )


def check(
    session: Session,
    person: Person | None,
    predicates: Mapping[str, Any],
    today: dt.date | None = None,
) -> dict[str, bool]:
    """Yes/no answers; an unknown person answers no to everything."""
    today = today or dt.date.today()
    answers: dict[str, bool] = {}
    for name, arg in predicates.items():
        if person is None:
            answers[name] = False
        elif name == "alive":
            answers[name] = person.status == "active"
        elif name == "age_at_least":
            answers[name] = age_at_least(person_dob(person), int(arg), today)
        elif name == "resides_in":
            commune = person.current_commune_code or person.permanent_commune_code
            answers[name] = province_of(session, commune) == arg
        else:
            raise InvalidInput(f"unknown predicate `{name}`; known: {', '.join(PREDICATES)}")
    return answers


def lookup_fields_as_of(state: Mapping[str, Any], policy: Policy) -> dict[str, Any]:
    """The granted fields of a person as they stood at a past date (`core.as_of.state_as_of`)."""
    f = state["fields"]
    out: dict[str, Any] = {}
    for name in policy.fields:
        if name == HOUSEHOLD:
            continue  # `household_answer` with the same moment
        if name == "full_name":
            out[name] = f.get("full_name") or join_name(
                f.get("family_name"), f.get("middle_name"), f.get("given_name"))
        elif name == "dob":
            dob = (PartialDate(f["dob_year"], f.get("dob_month"), f.get("dob_day"))
                   if f.get("dob_year") else None)  # fmt: skip
            out[name] = dob.iso() if dob else None
        elif name == "status":
            out[name] = state["status"]
        elif name in ("ethnicity", "religion"):
            out[name] = f.get(f"{name}_code")
        else:
            out[name] = f.get(name)
    return out
