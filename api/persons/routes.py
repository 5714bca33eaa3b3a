"""GET /api/v1/persons/search, GET /api/v1/persons/{id}, GET /api/v1/persons/{id}/history,
POST /api/v1/persons/{id}/unmerge. Every read is audited."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask.typing import ResponseReturnValue

from api.auth import allow, as_client
from api.openapi import BEARER, Blueprint
from api.persons.schemas import (
    AsOfArgsSchema,
    CorrectionDecisionSchema,
    CorrectionResultSchema,
    CorrectionSchema,
    EndHouseholdResultSchema,
    EndHouseholdSchema,
    HistoryArgsSchema,
    HistorySchema,
    LifeEventResultSchema,
    LifeEventSchema,
    PersonSchema,
    SearchArgsSchema,
    SearchSchema,
    UnmergeResultSchema,
    UnmergeSchema,
)
from popdb.registry import corrections, households, life_events, merges, search
from popdb.registry import history as past
from popdb.registry import reads as person_reads

blp = Blueprint(
    "persons", __name__, url_prefix="/api/v1/persons",
    description="Persons for administrators: golden record, sources, history, unmerge",
)  # fmt: skip


@blp.route("/search", methods=["GET"])
@blp.arguments(SearchArgsSchema, location="query")
@blp.response(200, SearchSchema)
@blp.doc(security=BEARER)
@allow("admin")
def search_persons(args: dict[str, Any]) -> ResponseReturnValue:
    """Find persons by personal ID number (any held, retired ones too), by old ID number, or
    by name and birth year. Each person shown is recorded in the audit chain."""
    query = search.PersonQuery(**{k: v for k, v in args.items() if k != "limit"})
    return as_client(search.search_persons, query, limit=args["limit"])


@blp.route("/<int:person_id>", methods=["GET"])
@blp.arguments(AsOfArgsSchema, location="query")
@blp.response(200, PersonSchema)
@blp.doc(security=BEARER)
@allow("admin")
def person(args: dict[str, Any], person_id: int) -> ResponseReturnValue:
    """The golden record, status (a retired person names its survivor), every number held,
    and the source records with their batches. With `as_of=D`: the golden fields, status and
    numbers as they stood at the end of day D, rebuilt from the events (no source records)."""
    if args.get("as_of"):
        return as_client(past.read_as_of, person_id, args["as_of"])
    return as_client(person_reads.read_person, person_id)


@blp.route("/<int:person_id>/history", methods=["GET"])
@blp.arguments(HistoryArgsSchema, location="query")
@blp.response(200, HistorySchema)
@blp.doc(security=BEARER)
@allow("admin")
def history(args: dict[str, Any], person_id: int) -> ResponseReturnValue:
    """The person's events, oldest first, each with actor, reason and data."""
    return as_client(person_reads.person_history, person_id, after=args.get("after"),
                     limit=args["limit"])  # fmt: skip


@blp.route("/<int:person_id>/unmerge", methods=["POST"])
@blp.arguments(UnmergeSchema)
@blp.response(200, UnmergeResultSchema)
@blp.alt_response(409, description="The person was retired into another one")
@blp.doc(security=BEARER)
@allow("admin")
def unmerge(body: dict[str, Any], person_id: int) -> ResponseReturnValue:
    """Split `source_record_ids` out into a person of their own: the former person, with its
    number, when they are exactly the records it brought in; else a new person."""
    result = as_client(merges.unmerge, person_id, body["source_record_ids"],
                       reason=body["reason"])  # fmt: skip
    return dataclasses.asdict(result)


@blp.route("/<int:person_id>/life-events", methods=["POST"])
@blp.arguments(LifeEventSchema)
@blp.response(201, LifeEventResultSchema)
@blp.alt_response(409, description="The event does not follow from the person's status")
@blp.doc(security=BEARER)
@allow("admin")
def life_event(body: dict[str, Any], person_id: int) -> ResponseReturnValue:
    """Record a death (civil-status record reference and date), a disappearance or a
    restoration; the person's status changes, nothing is deleted."""
    return dataclasses.asdict(as_client(life_events.record, person_id, **body))


@blp.route("/<int:person_id>/corrections", methods=["POST"])
@blp.arguments(CorrectionSchema)
@blp.response(201, CorrectionResultSchema)
@blp.doc(security=BEARER)
@allow("admin")
def correct(body: dict[str, Any], person_id: int) -> ResponseReturnValue:
    """Request a correction of one field, with evidence. Name, date of birth and number wait
    for a second administrator; other fields apply at once."""
    return dataclasses.asdict(as_client(corrections.request, person_id, **body))


@blp.route("/corrections/<int:correction_id>/decision", methods=["POST"])
@blp.arguments(CorrectionDecisionSchema)
@blp.response(200, CorrectionResultSchema)
@blp.alt_response(403, description="Four eyes: the requester cannot approve their own request")
@blp.alt_response(409, description="Stale version, or not in a state for this decision")
@blp.doc(security=BEARER)
@allow("admin")
def correction_decision(body: dict[str, Any], correction_id: int) -> ResponseReturnValue:
    """Approve or reject a pending correction, or revert an applied one (reason required)."""
    decision = body["decision"]
    if decision == "approve":
        result = as_client(corrections.approve, correction_id, version=body.get("version"))
    elif decision == "reject":
        result = as_client(corrections.reject, correction_id, reason=body.get("reason") or "",
                           version=body.get("version"))  # fmt: skip
    else:
        result = as_client(corrections.revert, correction_id, reason=body.get("reason") or "")
    return dataclasses.asdict(result)


@blp.route("/<int:person_id>/household/end", methods=["POST"])
@blp.arguments(EndHouseholdSchema)
@blp.response(200, EndHouseholdResultSchema)
@blp.doc(security=BEARER)
@allow("admin")
def end_household(body: dict[str, Any], person_id: int) -> ResponseReturnValue:
    """End the person's current household membership (reason required); an event and an
    audit entry. A later upload that places the person starts a new one."""
    return as_client(households.end_membership, person_id, reason=body["reason"],
                     valid_to=body.get("valid_to"))
