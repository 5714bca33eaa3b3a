"""A person's history is written here: every change to a person is a `person_event` with
actor, reason and data, appended and never changed (design.md principle 1)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core.models import PersonEvent


def record_events(
    connection: sa.Connection | Session, events: Iterable[Mapping[str, Any]]
) -> None:
    """Append events, each a mapping of `person_id`, `kind`, `actor`, `reason`, `data`; one
    INSERT for all of them."""
    rows = [
        {"person_id": e["person_id"], "kind": e["kind"], "actor": e["actor"],
         "reason": e.get("reason"), "data": dict(e.get("data") or {})}
        for e in events
    ]  # fmt: skip
    if rows:
        connection.execute(sa.insert(PersonEvent), rows)


def record_event(
    connection: sa.Connection | Session,
    person_id: int,
    kind: str,
    *,
    actor: str,
    reason: str | None,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Append one event to `person_id`'s history."""
    record_events(connection, [{"person_id": person_id, "kind": kind, "actor": actor,
                                "reason": reason, "data": data}])  # fmt: skip
