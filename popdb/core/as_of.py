"""Reading a person as it stood at a past date, from the events (see
`popdb.registry.history` for how the events are written). In the ground, since both the
administrators' reads and the agencies' lookups use it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core.models.citizen import CitizenFields

#: Golden columns of a person (the citizen fields but the number, which `person_pin` keeps).
GOLDEN_COLUMNS: tuple[str, ...] = tuple(
    name
    for name, value in vars(CitizenFields).items()
    if not name.startswith("_") and name != "personal_id_number" and hasattr(value, "column")
)

def end_of(day: dt.date) -> dt.datetime:
    """The last instant of `day` in UTC: a state "as of 2025-03-01" includes that day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def state_as_of(session: Session, person_id: int, when: dt.datetime) -> dict[str, Any] | None:
    """The person at `when`: golden columns, personal ID number, status, survivor and the
    numbers held; None when the person did not exist yet."""
    row = session.execute(
        sa.text(f"SELECT id, created_at, personal_id_number, {', '.join(GOLDEN_COLUMNS)} "
                "FROM person WHERE id = :p"),
        {"p": person_id},
    ).mappings().first()  # fmt: skip
    if row is None or row["created_at"] > when:
        return None
    fields = {c: row[c] for c in GOLDEN_COLUMNS}
    number = row["personal_id_number"]
    events = session.execute(
        sa.text("SELECT id, kind, data, created_at FROM person_event WHERE person_id = :p "
                "ORDER BY id"),
        {"p": person_id},
    ).all()  # fmt: skip
    for event in reversed(events):
        if event.created_at <= when:
            break
        changed = (event.data or {}).get("fields") or {}
        if event.kind == "field_changed":
            for name, (old, _new) in changed.items():
                if name == "personal_id_number":
                    number = old
                elif name in fields:
                    fields[name] = old
        elif event.kind == "pin_assigned":
            number = (event.data or {}).get("previous")
    status, merged_into = "active", None
    for event in events:
        if event.created_at > when:
            break
        data = event.data or {}
        if event.kind == "status_changed" and data.get("new"):
            status = data["new"]
        elif event.kind == "merged" and data.get("into_person_id"):
            status, merged_into = "retired", int(data["into_person_id"])
        elif event.kind == "unmerged" and data.get("revived"):
            status, merged_into = "active", None
    numbers = session.execute(
        sa.text("SELECT personal_id_number, reason, assigned_at, "
                "CASE WHEN retired_at <= :w THEN retired_at END AS retired_at FROM person_pin "
                "WHERE person_id = :p AND assigned_at <= :w ORDER BY id"),
        {"p": person_id, "w": when},
    ).mappings().all()  # fmt: skip
    return {
        "id": person_id,
        "as_of": when,
        "status": status,
        "merged_into_id": merged_into,
        "personal_id_number": number,
        "fields": fields,
        "personal_id_numbers": [dict(n) for n in numbers],
        "life_event": last_life_event(session, person_id, when),
    }


def last_life_event(
    session: Session, person_id: int, when: dt.datetime | None = None
) -> dict[str, Any] | None:
    """The latest life event recorded by `when` (now by default): kind, date, record."""
    row = session.execute(
        sa.text("SELECT id, kind, occurred_on, record_reference, authority, created_at "
                "FROM life_event WHERE person_id = :p AND created_at <= coalesce(:w, now()) "
                "ORDER BY id DESC LIMIT 1"),
        {"p": person_id, "w": when},
    ).mappings().first()  # fmt: skip
    return dict(row) if row else None


def holder_as_of(session: Session, number: str, when: dt.datetime) -> dict[str, Any] | None:
    """Who a number named at `when`: its holder then, followed through the merges made by
    `when` (never through later ones); None when no one held it yet."""
    person_id = session.scalar(
        sa.text("SELECT person_id FROM person_pin WHERE personal_id_number = :n "
                "AND assigned_at <= :w"),
        {"n": number, "w": when},
    )  # fmt: skip
    if person_id is None:
        person_id = session.scalar(
            sa.text("SELECT id FROM person WHERE personal_id_number = :n AND created_at <= :w"),
            {"n": number, "w": when},
        )
    seen: set[int] = set()
    while person_id is not None and person_id not in seen:
        seen.add(person_id)
        state = state_as_of(session, person_id, when)
        if state is None:
            return None
        if state["status"] != "retired":
            return state
        person_id = state["merged_into_id"]
    return None

