"""A person's golden fields, status and numbers as they stood at a past date, rebuilt from
the events.

Every change of a golden field after the person's creation is a `field_changed` event whose
`data.fields` maps each changed field to `[old, new]`: survivorship recomputations write them
(`record_changes`, set-wise), corrections write them one by one. A person's first golden
values are those of the records its `created` event names, computed in the same transaction,
so they need no event of their own. To read a date D, start from the current row and undo,
newest first, every change recorded after D. Status is replayed forward: `active` at
creation, then each `status_changed` (`data.new`), each merge that retired the person
(`retired`, pointing at its survivor) and each unmerge that revived it (`active`).

"As it stood" is the registry's own time: what it said on D, not what was later learnt
about D (a death recorded on 3 March does not make the person deceased on 1 March; the
death's own date is in the life event and shown with the status).
"""

from __future__ import annotations

import datetime as dt
import json
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
_SNAPSHOT = "golden_before"


def snapshot(connection: sa.Connection, persons_query: str) -> None:
    """Keep the golden columns of the persons `persons_query` selects, before a change."""
    cols = ", ".join(GOLDEN_COLUMNS)
    connection.execute(sa.text(f"DROP TABLE IF EXISTS {_SNAPSHOT}"))
    connection.execute(sa.text(
        f"CREATE TEMP TABLE {_SNAPSHOT} ON COMMIT DROP AS SELECT id, {cols} FROM person "
        f"WHERE id IN ({persons_query}) AND num_nonnulls({cols}) > 0"
    ))  # fmt: skip
    connection.execute(sa.text(f"ANALYZE {_SNAPSHOT}"))


def record_changes(connection: sa.Connection, *, actor: str, reason: str) -> int:
    """A `field_changed` event, `[old, new]` per changed field, for every person of the last
    `snapshot` whose golden columns differ now. Persons without golden values yet (just made)
    are not in the snapshot: their first values come with their `created` event."""
    pairs = ", ".join(
        f"'{c}', CASE WHEN b.{c} IS DISTINCT FROM p.{c} "
        f"THEN jsonb_build_array(to_jsonb(b.{c}), to_jsonb(p.{c})) END"
        for c in GOLDEN_COLUMNS
    )
    differs = " OR ".join(f"b.{c} IS DISTINCT FROM p.{c}" for c in GOLDEN_COLUMNS)
    count = connection.execute(sa.text(f"""
        INSERT INTO person_event (person_id, kind, actor, reason, data)
        SELECT p.id, 'field_changed', :actor, :reason,
               jsonb_build_object('fields', jsonb_strip_nulls(jsonb_build_object({pairs})))
        FROM {_SNAPSHOT} b JOIN person p ON p.id = b.id
        WHERE {differs}
    """), {"actor": actor, "reason": reason}).rowcount  # fmt: skip
    connection.execute(sa.text(f"DROP TABLE {_SNAPSHOT}"))
    return count


def field_event(
    session: Session,
    person_id: int,
    changes: dict[str, tuple[Any, Any]],
    *,
    actor: str,
    reason: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """One `field_changed` event for changes made by hand (a correction, its reversal)."""
    data = {"fields": {k: [old, new] for k, (old, new) in changes.items()}, **(extra or {})}
    session.execute(
        sa.text("INSERT INTO person_event (person_id, kind, actor, reason, data) "
                "VALUES (:p, 'field_changed', :a, :r, CAST(:d AS jsonb))"),
        {"p": person_id, "a": actor, "r": reason, "d": json.dumps(data, default=str)},
    )  # fmt: skip


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


#: Golden columns a correction may set (the number is corrected on `person` directly).
CORRECTABLE_COLUMNS: tuple[str, ...] = tuple(
    c for c in GOLDEN_COLUMNS if c not in ("personal_id_number",)
)


def apply_corrections(connection: sa.Connection, persons_query: str) -> int:
    """Lay the applied corrections of the persons `persons_query` selects over their golden
    fields: the latest applied correction of each field wins over survivorship, until it is
    reverted. `new_value` holds the columns a correction sets, typed by `person`'s row type."""
    sets = ", ".join(
        f"{c} = CASE WHEN m.vals ? '{c}' THEN (jsonb_populate_record(NULL::person, m.vals)).{c} "
        f"ELSE p.{c} END"
        for c in CORRECTABLE_COLUMNS
    )
    return connection.execute(sa.text(f"""
        WITH latest AS (
            SELECT DISTINCT ON (person_id, field) person_id, new_value
            FROM correction_request
            WHERE status = 'applied' AND field <> 'personal_id_number'
              AND person_id IN ({persons_query})
            ORDER BY person_id, field, id DESC),
        m AS (
            SELECT person_id, jsonb_object_agg(e.key, e.value) AS vals
            FROM latest, jsonb_each(latest.new_value) AS e
            GROUP BY person_id)
        UPDATE person p SET {sets}
        FROM m WHERE p.id = m.person_id
    """)).rowcount  # fmt: skip
