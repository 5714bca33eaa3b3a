"""GET /api/v1/persons/{id}/access-log: who read a person's data, when, why, which fields.

Kept apart from `api/persons/` (the person routes) so the two can grow independently.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from api.auth import allow, current_client
from api.db import get_session
from api.openapi import BEARER, Blueprint
from api.pagination import page_args
from popdb.core import audit
from popdb.core.errors import NotFound
from popdb.core.models import AuditEvent, Person
from popdb.core.pages import fetch_size, page_of

blp = Blueprint(
    "access_log",
    __name__,
    url_prefix="/api/v1/persons",
    description="Who read a person's data (administrators)",
)


class AccessLogArgsSchema(page_args(default=100, maximum=1000)):
    pass


class AccessEventSchema(Schema):
    event_id = fields.Integer(required=True)
    occurred_at = fields.String(required=True)
    client_id = fields.Integer(allow_none=True)
    client_name = fields.String(required=True)
    role = fields.String(required=True)
    action = fields.String(required=True)
    purpose = fields.String(allow_none=True)
    legal_basis = fields.String(allow_none=True)
    fields_ = fields.List(fields.String(), data_key="fields", attribute="fields", required=True)
    officer_id = fields.String(allow_none=True)
    consent_ref = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)


class AccessLogSchema(Schema):
    person_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(AccessEventSchema), required=True)
    next = fields.Integer(allow_none=True, required=True)


def _subject_ids(session: Any, person_id: int) -> list[str]:
    """The person and every person merged into it: reads before a merge stay visible."""
    ids = {person_id}
    frontier = {person_id}
    while frontier:
        frontier = (
            set(session.scalars(sa.select(Person.id).where(Person.merged_into_id.in_(frontier))))
            - ids
        )
        ids |= frontier
    return [str(i) for i in sorted(ids)]


@blp.route("/<int:person_id>/access-log", methods=["GET"])
@blp.arguments(AccessLogArgsSchema, location="query")
@blp.response(200, AccessLogSchema)
@blp.doc(security=BEARER)
@allow("admin")
def access_log(args: dict[str, Any], person_id: int) -> ResponseReturnValue:
    """Every audited access to a person, newest first: client, purpose, legal basis, fields.

    Reading the log is itself an admin read of the person, and is audited.
    """
    session = get_session()
    if session.get(Person, person_id) is None:
        raise NotFound(f"No person {person_id}.")
    query = (
        sa.select(AuditEvent)
        .where(
            AuditEvent.subject_type == "person",
            AuditEvent.subject_id.in_(_subject_ids(session, person_id)),
        )
        .order_by(AuditEvent.id.desc())
        .limit(fetch_size(args["limit"]))
    )
    if args.get("after"):
        query = query.where(AuditEvent.id < args["after"])
    page = page_of(list(session.scalars(query)), args["limit"], lambda e: e.id)
    items = [
        {
            "event_id": e.id,
            "occurred_at": e.occurred_at.isoformat(),
            "client_id": e.actor_id,
            "client_name": e.actor_name,
            "role": e.role,
            "action": e.action,
            "purpose": e.purpose,
            "legal_basis": e.legal_basis,
            "fields": list(e.fields or []),
            "officer_id": (e.detail or {}).get("officer_id"),
            "consent_ref": (e.detail or {}).get("consent_ref"),
            "request_id": e.request_id,
        }
        for e in page.items
    ]
    audit.record(
        session,
        actor=audit.Actor.of(current_client()),
        action="person.access_log_read",
        subject_type="person",
        subject_id=person_id,
        purpose="administration: access log",
        request_id=g.request_id,
        detail={"events": len(items)},
    )
    session.commit()
    return {
        "person_id": person_id,
        "items": items,
        "next": page.next,
    }
