"""Corrections: a change request to one field of a person, with evidence and actor.

Identity fields (the name, the date of birth, the personal ID number) take four eyes: one
administrator requests, a different one approves (or rejects). Other fields (an address, a
phone number, ...) apply at once. An applied correction lies over survivorship
(`history.apply_corrections`): a later upload does not undo it. Reverting one, like an
unmerge, puts back what survivorship (or an earlier correction) says; the request row keeps
every step. Every step is a `correction` person event and an audit event; every change of a
field a `field_changed` event with old and new values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.dates import PartialDate
from popdb.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from popdb.core.pin import PinError, parse_pin
from popdb.core.text import canonical, clean, fold, split_name
from popdb.registry import clusters, history
from popdb.registry.merges import actor_label, lock_persons
from popdb.registry.staging import staged_persons

#: Fields whose correction waits for a second administrator.
IDENTITY_FIELDS = ("full_name", "dob", "personal_id_number")
_NAME_COLUMNS = ("full_name", "family_name", "middle_name", "given_name", "name_key", "name_fold")
_DOB_COLUMNS = ("dob_year", "dob_month", "dob_day")
_INT_FIELDS = ("sex", "marital_status")
#: Plain fields: one column each, corrected as given.
PLAIN_FIELDS = tuple(
    c for c in history.CORRECTABLE_COLUMNS if c not in (*_NAME_COLUMNS, *_DOB_COLUMNS)
)
FIELDS = (*IDENTITY_FIELDS, *PLAIN_FIELDS)


@dataclass(frozen=True)
class Correction:
    id: int
    person_id: int
    field: str
    status: str
    four_eyes: bool
    version: int


def _columns(field: str, value: Any) -> dict[str, Any]:
    """The person columns a correction of `field` to `value` sets (validated)."""
    if field == "full_name":
        name = clean(value if isinstance(value, str) else None)
        if not name:
            raise InvalidInput("a name is needed", errors={"value": ["empty name"]})
        parts = split_name(name)
        return {"full_name": name, "family_name": parts.family, "middle_name": parts.middle,
                "given_name": parts.given, "name_key": canonical(name), "name_fold": fold(name)}
    if field == "dob":
        try:
            dob = PartialDate.from_iso(str(value))
        except ValueError as exc:
            raise InvalidInput(f"date of birth: {exc}", errors={"value": [str(exc)]}) from None
        return {"dob_year": dob.year, "dob_month": dob.month, "dob_day": dob.day}
    if field == "personal_id_number":
        try:
            parse_pin(str(value))
        except PinError as exc:
            raise InvalidInput(f"personal ID number: {exc}", errors={"value": [str(exc)]}) from None
        return {"personal_id_number": str(value)}
    if field in _INT_FIELDS:
        if value is not None and not isinstance(value, int):
            raise InvalidInput(f"{field} is a code (a whole number)", errors={"value": ["int"]})
        return {field: value}
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"{field} is text", errors={"value": ["text"]})
    return {field: clean(value)}


def _current(session: Session, person_id: int, columns: dict[str, Any]) -> dict[str, Any]:
    row = session.execute(
        sa.text(f"SELECT {', '.join(columns)} FROM person WHERE id = :p"), {"p": person_id}
    ).mappings().one()
    return dict(row)


def _step(session: Session, person_id: int, label: str, reason: str, data: dict) -> None:
    session.execute(
        sa.text("INSERT INTO person_event (person_id, kind, actor, reason, data) "
                "VALUES (:p, 'correction', :a, :r, CAST(:d AS jsonb))"),
        {"p": person_id, "a": label, "r": reason, "d": json.dumps(data, default=str)},
    )  # fmt: skip


def request(
    session: Session,
    person_id: int,
    *,
    field: str,
    value: Any,
    evidence: str,
    reason: str,
    actor: audit.Actor,
    request_id: str | None = None,
) -> Correction:
    """Ask for `field` to become `value`; applied at once unless it is an identity field."""
    if field not in FIELDS:
        raise InvalidInput(f"`{field}` cannot be corrected; correctable: {', '.join(FIELDS)}",
                           errors={"field": ["unknown"]})  # fmt: skip
    if not (evidence or "").strip():
        raise InvalidInput("name the evidence (a document, a record)",
                           errors={"evidence": ["required"]})  # fmt: skip
    if not (reason or "").strip():
        raise InvalidInput("say why (reason)", errors={"reason": ["required"]})
    session.flush()
    person = lock_persons(session, [person_id])[person_id]
    if person.status == "retired":
        raise Conflict(f"person {person_id} was merged into person {person.merged_into_id}; "
                       "correct that person")  # fmt: skip
    new = _columns(field, value)
    old = _current(session, person_id, new)
    if old == new:
        raise InvalidInput(f"{field} already has that value", errors={"value": ["unchanged"]})
    four_eyes = field in IDENTITY_FIELDS
    label = actor_label(actor)
    row = session.execute(
        sa.text("INSERT INTO correction_request (person_id, field, old_value, new_value, "
                "evidence, reason, four_eyes, requested_by, requested_by_label) VALUES "
                "(:p, :f, CAST(:o AS jsonb), CAST(:n AS jsonb), :e, :r, :four, :by, :label) "
                "RETURNING id"),
        {"p": person_id, "f": field, "o": json.dumps(old, default=str),
         "n": json.dumps(new, default=str), "e": evidence, "r": reason, "four": four_eyes,
         "by": actor.id, "label": label},
    ).one()  # fmt: skip
    _step(session, person_id, label, reason,
          {"step": "requested", "correction_id": row.id, "field": field, "evidence": evidence,
           "four_eyes": four_eyes})  # fmt: skip
    audit.record(session, actor=actor, action="person.correction.request",
                 subject_type="person", subject_id=person_id, request_id=request_id,
                 fields=[field], detail={"correction_id": row.id, "four_eyes": four_eyes})
    if not four_eyes:
        return _apply(session, row.id, actor=actor, request_id=request_id)
    return get(session, row.id)


def get(session: Session, correction_id: int) -> Correction:
    row = session.execute(
        sa.text("SELECT id, person_id, field, status, four_eyes, version FROM "
                "correction_request WHERE id = :i"), {"i": correction_id},
    ).first()  # fmt: skip
    if row is None:
        raise NotFound(f"no correction {correction_id}")
    return Correction(*row)


def _load(session: Session, correction_id: int, version: int | None) -> sa.Row:
    row = session.execute(
        sa.text("SELECT * FROM correction_request WHERE id = :i FOR UPDATE"),
        {"i": correction_id},
    ).first()
    if row is None:
        raise NotFound(f"no correction {correction_id}")
    if version is not None and row.version != version:
        raise Conflict(f"correction {correction_id} changed meanwhile (version {row.version}); "
                       "reload it")  # fmt: skip
    return row


def _second_admin(row: sa.Row, actor: audit.Actor) -> None:
    if row.four_eyes and (
        (actor.id is not None and actor.id == row.requested_by)
        or actor_label(actor) == row.requested_by_label
    ):
        raise Forbidden("four eyes: a different administrator must decide this correction")


def approve(
    session: Session, correction_id: int, *, actor: audit.Actor, version: int | None = None,
    request_id: str | None = None,
) -> Correction:  # fmt: skip
    """A second administrator applies a pending identity correction."""
    row = _load(session, correction_id, version)
    if row.status != "pending":
        raise Conflict(f"correction {correction_id} is {row.status}, not pending")
    _second_admin(row, actor)
    return _apply(session, correction_id, actor=actor, request_id=request_id)


def reject(
    session: Session, correction_id: int, *, actor: audit.Actor, reason: str,
    version: int | None = None, request_id: str | None = None,
) -> Correction:  # fmt: skip
    row = _load(session, correction_id, version)
    if row.status != "pending":
        raise Conflict(f"correction {correction_id} is {row.status}, not pending")
    if not (reason or "").strip():
        raise InvalidInput("say why (reason)", errors={"reason": ["required"]})
    _second_admin(row, actor)
    label = actor_label(actor)
    session.execute(
        sa.text("UPDATE correction_request SET status = 'rejected', decided_by = :by, "
                "decided_by_label = :label, decided_at = now(), revert_reason = :r, "
                "version = version + 1 WHERE id = :i"),
        {"by": actor.id, "label": label, "r": reason, "i": correction_id},
    )  # fmt: skip
    _step(session, row.person_id, label, reason,
          {"step": "rejected", "correction_id": correction_id, "field": row.field})
    audit.record(session, actor=actor, action="person.correction.reject", subject_type="person",
                 subject_id=row.person_id, request_id=request_id,
                 detail={"correction_id": correction_id})  # fmt: skip
    return get(session, correction_id)


def _apply(
    session: Session, correction_id: int, *, actor: audit.Actor, request_id: str | None
) -> Correction:
    row = _load(session, correction_id, None)
    label = actor_label(actor)
    lock_persons(session, [row.person_id])
    session.execute(
        sa.text("UPDATE correction_request SET status = 'applied', decided_by = :by, "
                "decided_by_label = :label, decided_at = now(), version = version + 1 "
                "WHERE id = :i"),
        {"by": actor.id, "label": label, "i": correction_id},
    )  # fmt: skip
    why = f"correction {correction_id}: {row.reason}"
    if row.field == "personal_id_number":
        _renumber(session, row.person_id, row.new_value["personal_id_number"],
                  old=(row.old_value or {}).get("personal_id_number"), label=label, why=why,
                  correction_id=correction_id)  # fmt: skip
    else:
        _refresh(session, row.person_id, label, why)
    _step(session, row.person_id, label, row.reason,
          {"step": "applied", "correction_id": correction_id, "field": row.field})
    audit.record(session, actor=actor, action="person.correction.apply", subject_type="person",
                 subject_id=row.person_id, request_id=request_id, fields=[row.field],
                 detail={"correction_id": correction_id})  # fmt: skip
    return get(session, correction_id)


def revert(
    session: Session, correction_id: int, *, actor: audit.Actor, reason: str,
    request_id: str | None = None,
) -> Correction:  # fmt: skip
    """Undo an applied correction: the field goes back to what survivorship (or an earlier
    correction) says; a corrected number gives way to the one it replaced."""
    if not (reason or "").strip():
        raise InvalidInput("say why (reason)", errors={"reason": ["required"]})
    row = _load(session, correction_id, None)
    if row.status != "applied":
        raise Conflict(f"correction {correction_id} is {row.status}; only an applied one "
                       "can be reverted")  # fmt: skip
    label = actor_label(actor)
    lock_persons(session, [row.person_id])
    session.execute(
        sa.text("UPDATE correction_request SET status = 'reverted', reverted_by_label = :l, "
                "reverted_at = now(), revert_reason = :r, version = version + 1 WHERE id = :i"),
        {"l": label, "r": reason, "i": correction_id},
    )  # fmt: skip
    why = f"correction {correction_id} reverted: {reason}"
    if row.field == "personal_id_number":
        old = (row.old_value or {}).get("personal_id_number")
        _renumber(session, row.person_id, old, old=row.new_value["personal_id_number"],
                  label=label, why=why, correction_id=correction_id)  # fmt: skip
    else:
        _refresh(session, row.person_id, label, why)
    _step(session, row.person_id, label, reason,
          {"step": "reverted", "correction_id": correction_id, "field": row.field})
    audit.record(session, actor=actor, action="person.correction.revert", subject_type="person",
                 subject_id=row.person_id, request_id=request_id, fields=[row.field],
                 detail={"correction_id": correction_id, "reason": reason})  # fmt: skip
    return get(session, correction_id)


def _refresh(session: Session, person_id: int, label: str, why: str) -> None:
    connection = session.connection()
    with staged_persons(connection, [person_id]):
        clusters.refresh_golden(connection, actor=label, reason=why)
    session.expire_all()


def _renumber(
    session: Session, person_id: int, number: str | None, *, old: str | None, label: str,
    why: str, correction_id: int,
) -> None:  # fmt: skip
    """Make `number` the person's (it must be free, or already theirs); `old` is retired in
    `person_pin` but stays theirs for ever, so lookups of it still find them."""
    run = session.execute
    if number is not None:
        owner = session.scalar(
            sa.text("SELECT person_id FROM person_pin WHERE personal_id_number = :n"),
            {"n": number},
        )
        if owner is not None and owner != person_id:
            raise Conflict(f"number {number} belongs to another person ({owner})")
        if owner is None:
            run(sa.text("INSERT INTO person_pin (person_id, personal_id_number, reason) "
                        "VALUES (:p, :n, 'corrected')"), {"p": person_id, "n": number})
        else:
            run(sa.text("UPDATE person_pin SET retired_at = NULL WHERE personal_id_number = :n"),
                {"n": number})  # fmt: skip
    if old is not None:
        run(sa.text("UPDATE person_pin SET retired_at = now() WHERE personal_id_number = :n "
                    "AND person_id = :p"), {"n": old, "p": person_id})  # fmt: skip
    run(sa.text("UPDATE person SET personal_id_number = :n, pin_state = CASE WHEN :n IS NULL "
                "THEN 'pending'::pin_state ELSE 'kept'::pin_state END, version = version + 1, "
                "updated_at = now() WHERE id = :p"), {"n": number, "p": person_id})  # fmt: skip
    history.field_event(session, person_id, {"personal_id_number": (old, number)},
                        actor=label, reason=why, extra={"correction_id": correction_id})
    session.expire_all()


def list_for(session: Session, person_id: int) -> list[dict[str, Any]]:
    """A person's corrections, newest first (their values are personal data: callers audit)."""
    rows = session.execute(
        sa.text("SELECT id, field, old_value, new_value, evidence, reason, status, four_eyes, "
                "requested_by_label, decided_by_label, decided_at, reverted_by_label, "
                "reverted_at, revert_reason, version, created_at FROM correction_request "
                "WHERE person_id = :p ORDER BY id DESC"), {"p": person_id},
    ).mappings().all()  # fmt: skip
    return [dict(r) for r in rows]


def pending(session: Session, *, limit: int = 100) -> list[dict[str, Any]]:
    """Identity corrections waiting for a second administrator (no values: a queue)."""
    rows = session.execute(
        sa.text("SELECT id, person_id, field, requested_by_label, created_at, version "
                "FROM correction_request WHERE status = 'pending' ORDER BY id LIMIT :n"),
        {"n": limit},
    ).mappings().all()  # fmt: skip
    return [dict(r) for r in rows]
