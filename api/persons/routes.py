"""GET /api/v1/persons/search, GET /api/v1/persons/{id}, GET /api/v1/persons/{id}/history,
POST /api/v1/persons/{id}/unmerge. Every read is audited."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import g
from flask.typing import ResponseReturnValue

from api.auth import allow, current_client
from api.db import get_session
from api.openapi import Blueprint
from api.persons.schemas import (
    HistoryArgsSchema,
    HistorySchema,
    PersonSchema,
    SearchArgsSchema,
    SearchSchema,
    UnmergeResultSchema,
    UnmergeSchema,
)
from popdb.core import audit
from popdb.registry import merges, search
from popdb.registry import reads as person_reads

blp = Blueprint(
    "persons", __name__, url_prefix="/api/v1/persons",
    description="Persons for administrators: golden record, sources, history, unmerge",
)  # fmt: skip
_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}]


@blp.route("/search", methods=["GET"])
@blp.arguments(SearchArgsSchema, location="query")
@blp.response(200, SearchSchema)
@blp.doc(security=_SECURITY)
@allow("admin")
def search_persons(args: dict[str, Any]) -> ResponseReturnValue:
    """Find persons by personal ID number (any held, retired ones too), by old ID number, or
    by name and birth year. Each person shown is recorded in the audit chain."""
    session = get_session()
    query = search.PersonQuery(**{k: v for k, v in args.items() if k != "limit"})
    out = search.search_persons(session, query, actor=audit.Actor.of(current_client()),
                                limit=args["limit"], request_id=g.request_id)  # fmt: skip
    session.commit()
    return out


@blp.route("/<int:person_id>", methods=["GET"])
@blp.response(200, PersonSchema)
@blp.doc(security=_SECURITY)
@allow("admin")
def person(person_id: int) -> ResponseReturnValue:
    """The golden record, status (a retired person names its survivor), every number held,
    and the source records with their batches."""
    session = get_session()
    out = person_reads.read_person(session, person_id, actor=audit.Actor.of(current_client()),
                                   request_id=g.request_id)  # fmt: skip
    session.commit()
    return out


@blp.route("/<int:person_id>/history", methods=["GET"])
@blp.arguments(HistoryArgsSchema, location="query")
@blp.response(200, HistorySchema)
@blp.doc(security=_SECURITY)
@allow("admin")
def history(args: dict[str, Any], person_id: int) -> ResponseReturnValue:
    """The person's events, oldest first, each with actor, reason and data."""
    session = get_session()
    out = person_reads.person_history(
        session, person_id, actor=audit.Actor.of(current_client()), after=args.get("after"),
        limit=args["limit"], request_id=g.request_id,
    )  # fmt: skip
    session.commit()
    return out


@blp.route("/<int:person_id>/unmerge", methods=["POST"])
@blp.arguments(UnmergeSchema)
@blp.response(200, UnmergeResultSchema)
@blp.alt_response(409, description="The person was retired into another one")
@blp.doc(security=_SECURITY)
@allow("admin")
def unmerge(body: dict[str, Any], person_id: int) -> ResponseReturnValue:
    """Split `source_record_ids` out into a person of their own: the former person, with its
    number, when they are exactly the records it brought in; else a new person."""
    session = get_session()
    result = merges.unmerge(
        session, person_id, body["source_record_ids"], reason=body["reason"],
        actor=audit.Actor.of(current_client()), request_id=g.request_id,
    )  # fmt: skip
    session.commit()
    return dataclasses.asdict(result)
