"""POST /api/v1/identity/verify[/batch], GET /api/v1/identity/persons/{number}, POST .../check.

Every call states a purpose, is checked against the client's policy, counted for rate limits
and enumeration detection, and written to the audit chain in the same transaction as its
answer (the audit event is the last write before the commit).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import abort, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from api import safe_json
from api.auth import allow, current_client, limited_response
from api.db import get_session
from api.error_responses import error_response
from api.identity.schemas import (
    BatchResultSchema,
    CheckResultSchema,
    CheckSchema,
    LookupArgsSchema,
    LookupBodySchema,
    LookupSchema,
    MatchSchema,
    VerifyBatchSchema,
    VerifySchema,
)
from popdb.core import as_of, audit, replicas
from popdb.core.errors import InvalidInput
from popdb.core.models import ApiClient
from popdb.core.settings import Settings
from popdb.identity import answers as identity
from popdb.identity import usage
from popdb.identity.clients import refusal
from popdb.identity.policy import Policy

T = TypeVar("T")
_OFFICER = re.compile(r"^[A-Za-z0-9._:@-]{1,64}$")
_PIN = re.compile(r"^[0-9]{12}$")


class _Parser(safe_json.Parser):
    """Bad input to an identity call is a 400, like a missing purpose."""

    DEFAULT_VALIDATION_STATUS = 400


class _Blueprint(Blueprint):
    ARGUMENTS_PARSER = _Parser()


blp = _Blueprint(
    "identity",
    __name__,
    url_prefix="/api/v1/identity",
    description="Agency identity: yes/no verification, granted-field lookups, predicates",
)
_DOC: dict[str, Any] = {
    "security": [{"bearer": []}],
    "parameters": [
        {
            "in": "header",
            "name": "X-Officer-Id",
            "required": False,
            "schema": {"type": "string", "pattern": _OFFICER.pattern},
            "description": "the agency officer making the request; recorded in the audit chain",
        }
    ],
}


def _settings() -> Settings:
    return current_app.config["POPDB_SETTINGS"]


@blp.before_request
def _limits() -> None:
    """Identity bodies are small: refuse big ones before reading them (413)."""
    limit = _settings().identity_max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        abort(413, f"An identity request body may be at most {limit} bytes.")
    request.max_content_length = limit
    officer = request.headers.get("X-Officer-Id")
    if officer is not None and not _OFFICER.match(officer):
        raise InvalidInput(
            "X-Officer-Id must be 1-64 letters, digits or . _ : @ -",
            errors={"X-Officer-Id": ["invalid"]},
        )


# --- READ REPLICA WIRING (issue 19; popdb/core/replicas.py) ----------------------------------
# The one place agency reads reach a replica. Each call site below passes its read-only
# person resolution as `read`; the rate count, the enumeration probe and the audit append
# stay on the primary session (`get_session()`), which commits before the answer is sent,
# so no answer leaves without its audit row committed on the primary. With no replica
# configured, `read` runs on the primary session, exactly as before.
def _read(read: Callable[[Session], T]) -> T:
    return replicas.read_on_replica(_settings(), get_session(), read)


# --- END READ REPLICA WIRING -------------------------------------------------------------------


def _start(operation: str, args: dict[str, Any]) -> tuple[ApiClient, Policy]:
    client = current_client()
    policy = Policy.of(client.policy)
    identity.require(policy, operation, consent_ref=args.get("consent_ref"))
    return client, policy


def _context(args: dict[str, Any]) -> dict[str, Any]:
    out = {"officer_id": request.headers.get("X-Officer-Id")}
    if args.get("consent_ref"):
        out["consent_ref"] = args["consent_ref"]
    return out


def _record(
    session: Session,
    client: ApiClient,
    policy: Policy,
    action: str,
    *,
    person_id: int | None,
    purpose: str,
    fields: Iterable[str],
    detail: dict[str, Any],
) -> None:
    audit.record(
        session,
        actor=audit.Actor.of(client),
        action=action,
        subject_type="person" if person_id is not None else None,
        subject_id=person_id,
        purpose=purpose,
        legal_basis=policy.legal_basis,
        fields=fields,
        request_id=g.request_id,
        detail=detail,
    )


def _record_members(
    session: Session,
    client: ApiClient,
    policy: Policy,
    members: list[int],
    subject: Any,
    args: dict[str, Any],
) -> None:
    """A household answer names the other members: each is told of it in their own access
    log (`identity.lookup.household_member`), with the looked-up person named in detail."""
    if not members:
        return
    looked_up = subject["id"] if isinstance(subject, dict) else subject.id
    audit.record_many(session, actor=audit.Actor.of(client), entries=[
        audit.Entry(action="identity.lookup.household_member", subject_type="person",
                    subject_id=m, purpose=args["purpose"], legal_basis=policy.legal_basis,
                    fields=("full_name", "household_relation"), request_id=g.request_id,
                    detail={"via_person_id": looked_up, **_context(args)})
        for m in members
    ])  # fmt: skip


def _ask(
    session: Session,
    client: ApiClient,
    operation: str,
    asked: list[usage.Question],
    args: dict[str, Any],
) -> ResponseReturnValue | None:
    """Count the questions about each number; past a number's limit, commit the count, audit
    the refusal and answer 429 before anything about the person is looked at."""
    limited = usage.count_questions(session, client, asked, _settings())
    if limited is None:
        return None
    _refused(session, client, operation, limited.limit, args)
    return limited_response(limited)


def _refused(
    session: Session, client: ApiClient, operation: str, limit: str, args: dict[str, Any]
) -> None:
    """Audit a refusal (nothing was answered) and commit it with the counts that caused it."""
    audit.record(
        session,
        actor=audit.Actor.of(client),
        action="identity.refused",
        subject_type="api_client",
        subject_id=client.id,
        purpose=args.get("purpose"),
        request_id=g.request_id,
        detail={"operation": operation, "limit": limit, **_context(args)},
    )
    session.commit()


def _probe(session: Session, client: ApiClient, misses: int, args: dict[str, Any]) -> usage.Probe:
    """Count "no" answers for enumeration detection; audit a flag as it is raised."""
    probe = usage.count_misses(session, client, misses, _settings())
    if probe.flagged:
        audit.record(
            session,
            actor=audit.Actor.of(client),
            action="identity.enumeration_flagged",
            subject_type="api_client",
            subject_id=client.id,
            purpose=args.get("purpose"),
            request_id=g.request_id,
            detail={"misses": probe.misses, "window_s": _settings().enumeration_window_seconds},
        )
    return probe


# The ordinary verify is answered before Flask by api/identity/lean.py (issue 21), with the
# same answers, counts and audit row; this route answers everything that layer hands over
# (any 400, refusals) and is what the OpenAPI document describes. Keep the two in step:
# tests/api/test_lean_verify.py compares them.
@blp.route("/verify", methods=["POST"])
@blp.arguments(VerifySchema)
@blp.response(200, MatchSchema)
@blp.doc(**_DOC)
@allow("agency")
def verify(args: dict[str, Any]) -> ResponseReturnValue:
    """Does the registry agree with these fields for this number? Only true or false.

    Names compare after normalization; an unknown number is simply false, and the answer
    never says which field differed.
    """
    client, policy = _start("verify", args)
    number = args["personal_id_number"]
    claims = identity.claims_of(args)
    session = get_session()
    refused = _ask(session, client, "verify",
                   [usage.Question("verify", number, claims)], args)  # fmt: skip
    if refused is not None:
        return refused
    verdict = _read(lambda read: identity.verify(read, policy, number, claims))  # replica
    _probe(session, client, 0 if verdict.match else 1, args)
    _record(
        session, client, policy, "identity.verify",
        person_id=verdict.person_id, purpose=args["purpose"], fields=verdict.compared,
        detail={"personal_id_number": number, "match": verdict.match, **_context(args)},
    )  # fmt: skip
    session.commit()
    out: dict[str, Any] = {"match": verdict.match, "request_id": g.request_id}
    if verdict.status is not None and "status" in policy.fields:
        out["status"] = verdict.status
    return out


@blp.route("/verify/batch", methods=["POST"])
@blp.arguments(VerifyBatchSchema)
@blp.response(200, BatchResultSchema)
@blp.doc(**_DOC)
@allow("agency")
def verify_batch(args: dict[str, Any]) -> ResponseReturnValue:
    """Verify up to 1,000 items in one call; answers come back in the same order.

    Each item counts as a request for the rate limits and the daily quota, as a question
    about its number, and as a miss when its answer is no. A batch whose misses reach the
    block threshold is refused whole: nothing in it is answered.
    """
    client, policy = _start("verify_batch", args)
    items = args["items"]
    # every item compares something, or the batch is refused
    claims = [identity.claims_of(item) for item in items]
    session = get_session()
    settings = _settings()
    if len(items) > 1:  # the request itself was counted by the bearer check
        limited = usage.check_rate(session, client, settings, n=len(items) - 1)
        if limited is not None:
            session.commit()
            return limited_response(limited)
    asked = [usage.Question("verify", item["personal_id_number"], c)
             for item, c in zip(items, claims, strict=True)]  # fmt: skip
    refused = _ask(session, client, "verify_batch", asked, args)
    if refused is not None:
        return refused
    verdicts = _read(lambda read: identity.verify_batch(read, policy, items))  # replica
    probe = _probe(session, client, sum(not v.match for v in verdicts), args)
    if probe.misses >= settings.enumeration_block_misses > 0:
        _refused(session, client, "verify_batch", "misses", args)
        why = refusal(client)
        if why is not None:
            response, status = error_response(403, why[0], why[1])
            response.status_code = status
            return response
        return limited_response(usage.Limited(
            "misses", max(1, settings.enumeration_window_seconds),
            "This batch would pass the limit of unanswered verifications; nothing was answered.",
        ))  # fmt: skip
    context = _context(args)
    audit.record_many(
        session,
        actor=audit.Actor.of(client),
        entries=[
            audit.Entry(
                "identity.verify_batch",
                subject_type="person" if verdict.person_id is not None else None,
                subject_id=verdict.person_id,
                purpose=args["purpose"],
                legal_basis=policy.legal_basis,
                fields=verdict.compared,
                request_id=g.request_id,
                detail={
                    "personal_id_number": item["personal_id_number"],
                    "match": verdict.match,
                    "index": index,
                    **context,
                },
            )
            for index, (item, verdict) in enumerate(zip(args["items"], verdicts, strict=True))
        ],
    )
    session.commit()
    return {"items": [{"match": v.match} for v in verdicts], "request_id": g.request_id}


@blp.route("/persons/<string:personal_id_number>", methods=["GET"])
@blp.arguments(LookupArgsSchema, location="query")
@blp.response(200, LookupSchema)
@blp.alt_response(404, description="No person holds this number")
@blp.doc(**_DOC)
@allow("agency")
def lookup(args: dict[str, Any], personal_id_number: str) -> ResponseReturnValue:
    """A person's fields: exactly those the client's policy grants, plus the number.

    A number retired by a merge answers with the surviving person and its current number.
    `POST /lookup` answers the same with the number in the body, out of access logs.
    """
    return _lookup(args, personal_id_number)


@blp.route("/lookup", methods=["POST"])
@blp.arguments(LookupBodySchema)
@blp.response(200, LookupSchema)
@blp.alt_response(404, description="No person holds this number")
@blp.doc(**_DOC)
@allow("agency")
def lookup_by_body(args: dict[str, Any]) -> ResponseReturnValue:
    """`GET /persons/{number}` with the number in the body: a URL is written to the access
    logs of every proxy on the way, a body is not. Same grants, counting and audit."""
    return _lookup(args, args["personal_id_number"])


def _lookup(args: dict[str, Any], personal_id_number: str) -> ResponseReturnValue:
    client, policy = _start("lookup", args)
    if not _PIN.match(personal_id_number):
        raise InvalidInput(
            "A personal ID number has 12 digits.",
            errors={"personal_id_number": ["12 digits"]},
        )
    session = get_session()
    if args.get("as_of"):
        return _lookup_as_of(session, client, policy, personal_id_number, args)
    person = _read(lambda read: identity.resolve(read, personal_id_number))  # replica
    found = person is not None
    values = identity.lookup_fields(person, policy) if person is not None else {}
    members: list[int] = []
    if person is not None and identity.HOUSEHOLD in policy.fields:  # its own query, granted only
        house, members = _read(lambda read: identity.household_answer(read, policy, person.id))
        values.update(house)
    _probe(session, client, 0 if found else 1, args)
    _record_members(session, client, policy, members, person, args)
    _record(
        session, client, policy, "identity.lookup",
        person_id=person.id if person is not None else None, purpose=args["purpose"],
        fields=list(values),
        detail={"personal_id_number": personal_id_number, "found": found, **_context(args)},
    )  # fmt: skip
    session.commit()
    if person is None:
        response, status = error_response(404, "not_found", "No person holds this number.")
        response.status_code = status
        return response
    return {
        "personal_id_number": person.personal_id_number or personal_id_number,
        **values,
        "request_id": g.request_id,
    }


def _lookup_as_of(
    session: Session, client: ApiClient, policy: Policy, number: str, args: dict[str, Any]
) -> ResponseReturnValue:
    """A lookup as the registry stood at the end of `as_of`: the number's holder then
    (through the merges made by then), with its granted fields as they were."""
    state = as_of.holder_as_of(session, number, as_of.end_of(args["as_of"]))
    values = identity.lookup_fields_as_of(state, policy) if state is not None else {}
    members: list[int] = []
    if state is not None and identity.HOUSEHOLD in policy.fields:
        house, members = identity.household_answer(
            session, policy, state["id"], as_of.end_of(args["as_of"]))
        values.update(house)
    _probe(session, client, 0 if state else 1, args)
    _record_members(session, client, policy, members, state, args)
    _record(
        session, client, policy, "identity.lookup",
        person_id=state["id"] if state else None, purpose=args["purpose"], fields=list(values),
        detail={"personal_id_number": number, "found": state is not None,
                "as_of": args["as_of"].isoformat(), **_context(args)},
    )  # fmt: skip
    session.commit()
    if state is None:
        response, status = error_response(404, "not_found", "No person held this number then.")
        response.status_code = status
        return response
    return {"personal_id_number": state["personal_id_number"] or number, **values,
            "as_of": args["as_of"].isoformat(), "request_id": g.request_id}  # fmt: skip


@blp.route("/check", methods=["POST"])
@blp.arguments(CheckSchema)
@blp.response(200, CheckResultSchema)
@blp.doc(**_DOC)
@allow("agency")
def check(args: dict[str, Any]) -> ResponseReturnValue:
    """Yes/no answers (alive, age_at_least, resides_in) instead of the data behind them."""
    client, _policy = _start("predicates", args)
    session = get_session()
    number = args["personal_id_number"]
    asked = [usage.Question("predicate", number, arg, topic=name)
             for name, arg in args["predicates"].items()]  # fmt: skip
    refused = _ask(session, client, "predicates", asked, args)
    if refused is not None:
        return refused
    person = identity.resolve(session, number)
    answers = identity.check(session, person, args["predicates"])
    # every "no" is a miss: cycling resides_in or bisecting age_at_least is enumeration too
    _probe(session, client, sum(not a for a in answers.values()), args)
    _record(
        session, client, _policy, "identity.check",
        person_id=person.id if person is not None else None, purpose=args["purpose"],
        fields=sorted(answers),
        detail={
            "personal_id_number": number, "predicates": args["predicates"], "answers": answers,
            **_context(args),
        },
    )  # fmt: skip
    session.commit()
    return {"answers": answers, "request_id": g.request_id}
