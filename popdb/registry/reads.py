"""An administrator's reads of a person: golden record, source records, numbers, history.

Each read is written to the audit chain in the caller's transaction, so a citizen can be
told who looked at them.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit, households
from popdb.core.errors import InvalidInput, NotFound
from popdb.core.pages import fetch_size, page_of
from popdb.registry.reviews import golden, source_record


def read_person(
    session: Session, person_id: int, *, actor: audit.Actor, request_id: str | None = None
) -> dict[str, Any]:
    """The golden record, status (and survivor when retired), every number the person has
    held, and its source records with their batches."""
    person = golden(session, person_id)
    if person is None:
        raise NotFound(f"no person {person_id}")
    record_ids = session.scalars(
        sa.text("SELECT id FROM source_record WHERE person_id = :p ORDER BY id"), {"p": person_id}
    ).all()
    numbers = session.execute(
        sa.text("SELECT personal_id_number, reason, assigned_at, retired_at FROM person_pin "
                "WHERE person_id = :p ORDER BY id"),
        {"p": person_id},
    ).all()  # fmt: skip
    merged_in = session.scalars(
        sa.text("SELECT id FROM person WHERE merged_into_id = :p ORDER BY id"), {"p": person_id}
    ).all()
    person.update(
        source_records=[source_record(session, r) for r in record_ids],
        personal_id_numbers=[
            {"personal_id_number": n, "reason": why, "assigned_at": at, "retired_at": gone}
            for n, why, at, gone in numbers
        ],
        merged_person_ids=list(merged_in),
        household=household_of(session, person_id, actor=actor, request_id=request_id),
    )
    audit.record(session, actor=actor, action="person.read", subject_type="person",
                 subject_id=person_id, request_id=request_id,
                 detail={"source_records": len(record_ids)})  # fmt: skip
    return person


def household_of(
    session: Session,
    person_id: int,
    *,
    actor: audit.Actor,
    at: Any = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """`{"current", "past"}`: the person's household now (or at `at`) with its members, and
    the memberships that ended. The other members' names are read too: each gets a
    `person.household_member.read` in the audit chain, naming the person read."""
    current = households.current_household(session, person_id, at)
    others = [m["person_id"] for m in (current or {}).get("members", ())
              if m["person_id"] != person_id]  # fmt: skip
    audit.record_many(session, actor=actor, entries=[
        audit.Entry(action="person.household_member.read", subject_type="person",
                    subject_id=m, request_id=request_id, detail={"via_person_id": person_id})
        for m in others
    ])  # fmt: skip
    return {"current": current, "past": households.past_memberships(session, person_id)}


def person_history(
    session: Session,
    person_id: int,
    *,
    actor: audit.Actor,
    after: int | None = None,
    limit: int = 100,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The person's events, oldest first: `{"items", "next"}` (cursor: an event id)."""
    if limit < 1:
        raise InvalidInput("limit must be at least 1")
    exists = session.scalar(sa.text("SELECT 1 FROM person WHERE id = :p"), {"p": person_id})
    if exists is None:
        raise NotFound(f"no person {person_id}")
    rows = session.execute(
        sa.text("SELECT id, kind, actor, reason, data, created_at FROM person_event "
                "WHERE person_id = :p AND id > :after ORDER BY id LIMIT :limit"),
        {"p": person_id, "after": after or 0, "limit": fetch_size(limit)},
    ).all()  # fmt: skip
    page = page_of(rows, limit, lambda r: r.id)
    audit.record(
        session,
        actor=actor,
        action="person.history.read",
        subject_type="person",
        subject_id=person_id,
        request_id=request_id,
        detail={"events": len(page.items)},
    )
    return {
        "items": [
            {
                "id": r.id,
                "kind": r.kind,
                "actor": r.actor,
                "reason": r.reason,
                "data": r.data,
                "created_at": r.created_at,
            }
            for r in page.items
        ],  # fmt: skip
        "next": page.next,
    }
