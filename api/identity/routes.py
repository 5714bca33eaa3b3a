"""POST /api/v1/identity/verify[/batch], GET /api/v1/identity/persons/{number}, POST .../check.

Every call states a purpose, is checked against the client's policy, counted for rate limits
and enumeration detection, and written to the audit chain in the same transaction as its
answer (the audit event is the last write before the commit).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from flask import abort, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from api import safe_json
from api.auth import allow, current_client
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
from popdb.core import audit
from popdb.core.errors import InvalidInput
from popdb.core.models import ApiClient
from popdb.core.settings import Settings
from popdb.identity import answers as identity
from popdb.identity import usage
from popdb.identity.policy import Policy

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


def _probe(session: Session, client: ApiClient, misses: int, args: dict[str, Any]) -> None:
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
    verdict = identity.verify(session, policy, number, claims)
    _probe(session, client, 0 if verdict.match else 1, args)
    _record(
        session, client, policy, "identity.verify",
        person_id=verdict.person_id, purpose=args["purpose"], fields=verdict.compared,
        detail={"personal_id_number": number, "match": verdict.match, **_context(args)},
    )  # fmt: skip
    session.commit()
    return {"match": verdict.match, "request_id": g.request_id}


@blp.route("/verify/batch", methods=["POST"])
@blp.arguments(VerifyBatchSchema)
@blp.response(200, BatchResultSchema)
@blp.doc(**_DOC)
@allow("agency")
def verify_batch(args: dict[str, Any]) -> ResponseReturnValue:
    """Verify up to 1,000 items in one call; answers come back in the same order."""
    client, policy = _start("verify_batch", args)
    for item in args["items"]:
        identity.claims_of(item)  # every item compares something, or the batch is refused
    session = get_session()
    verdicts = identity.verify_batch(session, policy, args["items"])
    _probe(session, client, sum(not v.match for v in verdicts), args)
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
    person = identity.resolve(session, personal_id_number)
    found = person is not None
    values = identity.lookup_fields(person, policy) if person is not None else {}
    _probe(session, client, 0 if found else 1, args)
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
    person = identity.resolve(session, number)
    answers = identity.check(session, person, args["predicates"])
    _probe(session, client, 0 if person is not None else 1, args)
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
