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

from popdb.core.as_of import GOLDEN_COLUMNS, end_of, holder_as_of, last_life_event, state_as_of
from popdb.registry.events import record_event
from popdb.registry.staging import IN_STAGED

_SNAPSHOT = "golden_before"


def snapshot(connection: sa.Connection) -> None:
    """Keep the golden columns of the staged persons, before a change."""
    cols = ", ".join(GOLDEN_COLUMNS)
    connection.execute(sa.text(f"DROP TABLE IF EXISTS {_SNAPSHOT}"))
    connection.execute(sa.text(
        f"CREATE TEMP TABLE {_SNAPSHOT} ON COMMIT DROP AS SELECT id, {cols} FROM person "
        f"WHERE id IN {IN_STAGED} AND num_nonnulls({cols}) > 0"
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
    # dates and the like as JSON text, as the set-wise events write them
    record_event(session, person_id, "field_changed", actor=actor, reason=reason,
                 data=json.loads(json.dumps(data, default=str)))  # fmt: skip


#: Golden columns a correction may set (the number is corrected on `person` directly).
CORRECTABLE_COLUMNS: tuple[str, ...] = tuple(
    c for c in GOLDEN_COLUMNS if c not in ("personal_id_number",)
)


def apply_corrections(connection: sa.Connection) -> int:
    """Lay the applied corrections of the staged persons over their golden
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
              AND person_id IN {IN_STAGED}
            ORDER BY person_id, field, id DESC),
        m AS (
            SELECT person_id, jsonb_object_agg(e.key, e.value) AS vals
            FROM latest, jsonb_each(latest.new_value) AS e
            GROUP BY person_id)
        UPDATE person p SET {sets}
        FROM m WHERE p.id = m.person_id
    """)).rowcount  # fmt: skip


def read_as_of(
    session: Session, person_id: int, day: dt.date, *, actor: Any, request_id: str | None = None
) -> dict[str, Any]:
    """An administrator's read of a person as it stood at the end of `day`; audited."""
    from popdb.core import audit
    from popdb.core.errors import NotFound
    from popdb.registry.reviews import iso_dob

    state = state_as_of(session, person_id, end_of(day))
    if state is None:
        raise NotFound(f"no person {person_id} on {day.isoformat()}")
    f = state["fields"]
    shown = {c: f.get(c) for c in GOLDEN_COLUMNS if c not in ("dob_year", "dob_month", "dob_day")}
    shown["dob"] = iso_dob(f.get("dob_year"), f.get("dob_month"), f.get("dob_day"))
    state["fields"] = shown
    state["as_of"] = day.isoformat()
    from popdb.registry.reads import household_of

    state["household"] = household_of(session, person_id, actor=actor, at=end_of(day),
                                      request_id=request_id)  # fmt: skip
    audit.record(session, actor=actor, action="person.read", subject_type="person",
                 subject_id=person_id, request_id=request_id,
                 detail={"as_of": day.isoformat()})  # fmt: skip
    return state


__all__ = ["GOLDEN_COLUMNS", "end_of", "holder_as_of", "last_life_event", "state_as_of"]
