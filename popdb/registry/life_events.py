"""Life events: a death from a civil-status record, a declaration of disappearance, and the
restoration of a person recorded in error or found again.

Nothing is deleted: the person keeps its records and number, its status changes (active →
deceased or missing; either → active on restoration), and each event is a `life_event` row
(the record's reference and date), a `status_changed` person event with old and new status,
and an audit event.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.errors import Conflict, InvalidInput
from popdb.registry.merges import actor_label, lock_persons

#: kind → (statuses it may follow, status it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "death": (("active", "missing"), "deceased"),
    "missing": (("active",), "missing"),
    "restored": (("deceased", "missing"), "active"),
}


@dataclass(frozen=True)
class LifeEventResult:
    id: int
    person_id: int
    kind: str
    status_before: str
    status_after: str


def record(
    session: Session,
    person_id: int,
    *,
    kind: str,
    actor: audit.Actor,
    reason: str,
    occurred_on: dt.date | None = None,
    record_reference: str | None = None,
    authority: str | None = None,
    request_id: str | None = None,
) -> LifeEventResult:
    """Record a life event and change the person's status accordingly."""
    if kind not in TRANSITIONS:
        raise InvalidInput(f"unknown life event `{kind}`; known: {', '.join(TRANSITIONS)}",
                           errors={"kind": ["unknown"]})  # fmt: skip
    if not (reason or "").strip():
        raise InvalidInput("say why (reason)", errors={"reason": ["required"]})
    if kind == "death" and not ((record_reference or "").strip() and occurred_on):
        raise InvalidInput(
            "a death is recorded from a civil-status record: give its reference and the date "
            "of death",
            errors={"record_reference": ["required for a death"],
                    "occurred_on": ["required for a death"]},
        )  # fmt: skip
    if occurred_on is not None and occurred_on > dt.date.today():
        raise InvalidInput("the date is in the future", errors={"occurred_on": ["future"]})
    session.flush()
    person = lock_persons(session, [person_id])[person_id]
    allowed, after = TRANSITIONS[kind]
    if person.status == "retired":
        raise Conflict(f"person {person_id} was merged into person {person.merged_into_id}; "
                       "record the event on that person")  # fmt: skip
    if person.status not in allowed:
        raise Conflict(f"a person who is {person.status} cannot be recorded as `{kind}`")
    label = actor_label(actor)
    event_id = session.execute(
        sa.text("INSERT INTO life_event (person_id, kind, occurred_on, record_reference, "
                "authority, status_before, status_after, actor, reason) VALUES "
                "(:p, :k, :d, :ref, :auth, :before, :after, :a, :r) RETURNING id"),
        {"p": person_id, "k": kind, "d": occurred_on, "ref": record_reference,
         "auth": authority, "before": person.status, "after": after, "a": label, "r": reason},
    ).scalar_one()  # fmt: skip
    session.execute(
        sa.text("UPDATE person SET status = CAST(:s AS person_status), version = version + 1, "
                "updated_at = now() WHERE id = :p"),
        {"s": after, "p": person_id},
    )  # fmt: skip
    data = {"old": person.status, "new": after, "life_event_id": event_id, "life_event": kind,
            "occurred_on": occurred_on, "record_reference": record_reference}
    session.execute(
        sa.text("INSERT INTO person_event (person_id, kind, actor, reason, data) "
                "VALUES (:p, 'status_changed', :a, :r, CAST(:d AS jsonb))"),
        {"p": person_id, "a": label, "r": reason, "d": json.dumps(data, default=str)},
    )  # fmt: skip
    audit.record(session, actor=actor, action=f"person.life_event.{kind}", subject_type="person",
                 subject_id=person_id, request_id=request_id,
                 detail={"life_event_id": event_id, "status": after})  # fmt: skip
    session.expire_all()
    return LifeEventResult(event_id, person_id, kind, person.status, after)


def list_for(session: Session, person_id: int) -> list[dict]:
    """The person's life events, oldest first."""
    rows = session.execute(
        sa.text("SELECT id, kind, occurred_on, record_reference, authority, status_before, "
                "status_after, actor, reason, created_at FROM life_event WHERE person_id = :p "
                "ORDER BY id"), {"p": person_id},
    ).mappings().all()  # fmt: skip
    return [dict(r) for r in rows]
