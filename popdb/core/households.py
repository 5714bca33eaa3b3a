"""Reads of households: a person's current household (or the one they were in at a past
moment) and their past memberships, for the admin page and for agencies granted
`household`. Here in the ground because both the registry and the agency side read them;
the writes are `popdb.registry.households`.

"At a moment" is the registry's own time, like `core.as_of`: a membership counts from when
it was recorded (`created_at`) until it was ended (`ended_at`), not by the collection dates
it carries (`valid_from`, `valid_to`), which are shown beside it. Names are the members'
current golden names.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core.codes import HOUSEHOLD_RELATIONS

RELATION_LABELS: dict[str, str] = dict(HOUSEHOLD_RELATIONS)

#: Memberships current at :at (NULL: now).
_CURRENT_AT = ("(CAST(:at AS timestamptz) IS NULL AND m.valid_to IS NULL OR "
               "m.created_at <= CAST(:at AS timestamptz) AND "
               "(m.ended_at IS NULL OR m.ended_at > CAST(:at AS timestamptz)))")  # fmt: skip

_MEMBERSHIP = sa.text(f"""
    SELECT m.id, m.household_id, m.relation, m.valid_from, m.valid_to, h.household_number,
           h.address, h.commune_code
    FROM household_membership m JOIN household h ON h.id = m.household_id
    WHERE m.person_id = :p AND {_CURRENT_AT}
    ORDER BY m.valid_from DESC, m.id DESC LIMIT 1
""")  # fmt: skip
_MEMBERS = sa.text(f"""
    SELECT m.person_id, coalesce(p.full_name, concat_ws(' ', p.family_name, p.middle_name,
           p.given_name)) AS full_name, m.relation, m.valid_from
    FROM household_membership m JOIN person p ON p.id = m.person_id
    WHERE m.household_id = :h AND {_CURRENT_AT}
    ORDER BY m.relation = 'head' DESC NULLS LAST, m.valid_from, m.person_id
""")  # fmt: skip
_PAST = sa.text("""
    SELECT m.id, m.household_id, m.relation, m.valid_from, m.valid_to, m.end_reason,
           h.household_number, h.address, h.commune_code
    FROM household_membership m JOIN household h ON h.id = m.household_id
    WHERE m.person_id = :p AND m.valid_to IS NOT NULL
    ORDER BY m.valid_from DESC, m.id DESC
""")  # fmt: skip


def label(relation: str | None) -> str | None:
    """The relation as the household book writes it (Vietnamese)."""
    return RELATION_LABELS.get(relation) if relation else None


def current_household(
    session: Session | sa.Connection, person_id: int, at: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The person's household now (or at `at`): address, head, members with their relation
    to the head; None when the registry has none for them."""
    row = session.execute(_MEMBERSHIP, {"p": person_id, "at": at}).first()
    if row is None:
        return None
    members = [
        {"person_id": m.person_id, "full_name": m.full_name, "relation": m.relation,
         "relation_label": label(m.relation), "valid_from": m.valid_from.isoformat()}
        for m in session.execute(_MEMBERS, {"h": row.household_id, "at": at})
    ]  # fmt: skip
    head = next((m for m in members if m["relation"] == "head"), None)
    return {
        "household_id": row.household_id,
        "membership_id": row.id,
        "household_number": row.household_number,
        "address": row.address,
        "commune_code": row.commune_code,
        "relation": row.relation,
        "relation_label": label(row.relation),
        "valid_from": row.valid_from.isoformat(),
        "head": {"person_id": head["person_id"], "full_name": head["full_name"]} if head else None,
        "members": members,
    }


def past_memberships(session: Session | sa.Connection, person_id: int) -> list[dict[str, Any]]:
    """The person's ended memberships, newest first, with the household's address."""
    return [
        {"membership_id": r.id, "household_id": r.household_id,
         "household_number": r.household_number, "address": r.address,
         "commune_code": r.commune_code, "relation": r.relation,
         "relation_label": label(r.relation), "valid_from": r.valid_from.isoformat(),
         "valid_to": r.valid_to.isoformat(), "end_reason": r.end_reason}
        for r in session.execute(_PAST, {"p": person_id})
    ]  # fmt: skip


def agency_view(
    session: Session | sa.Connection, person_id: int, at: dt.datetime | None = None
) -> tuple[dict[str, Any] | None, list[int]]:
    """What an agency granted `household` is told (minimal disclosure): the household's
    address and commune, the person's relation to the head, and each member's name and
    relation. No household number, no member's ID number, date of birth or registry id.
    Also the other members' person ids, for the audit chain only (their names were read)."""
    house = current_household(session, person_id, at)
    if house is None:
        return None, []
    view = {
        "address": house["address"],
        "commune_code": house["commune_code"],
        "relation": house["relation"],
        "relation_label": house["relation_label"],
        "members": [{"full_name": m["full_name"], "relation": m["relation"],
                     "relation_label": m["relation_label"]} for m in house["members"]],
    }  # fmt: skip
    others = [m["person_id"] for m in house["members"] if m["person_id"] != person_id]
    return view, others
