"""Bearer-key authentication and role rules that deny by default.

Every view declares who may call it with `@allow(...)` (or `@public`). A request to a view
without a declaration is refused, and a test walks the URL map to keep it that way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, Response, current_app, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy.orm import Session

from api.db import get_session
from api.error_responses import error_response
from popdb.core import audit
from popdb.core.models import ApiClient, AuditEvent
from popdb.identity import usage
from popdb.identity.clients import authenticate, refusal

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
PUBLIC = "public"
RULE_ATTR = "_popdb_roles"

#: Admin web pages: the only place where a signed-in session cookie stands for a key.
ADMIN_PAGES = "/admin"
ADMIN_SESSION_KEY = "admin_client_id"
ADMIN_SESSION_FINGERPRINT = "admin_key_fp"
#: A random id per sign-in. Its sign-in and sign-out are audit events (subject
#: "admin_session", the id's hash): the server, not the cookie, says whether a session is open.
ADMIN_SESSION_ID = "admin_sid"
ADMIN_SESSION_SUBJECT = "admin_session"

#: Views of libraries (static files, the OpenAPI document, Swagger UI) that anyone may read.
PUBLIC_ENDPOINTS = {"static", "api-docs.openapi_json", "api-docs.openapi_swagger_ui", "docs_assets"}


def allow(*roles: str) -> Callable[[F], F]:
    """Declare the roles that may call a view."""
    assert roles and all(r in ("police", "agency", "admin") for r in roles), roles

    def mark(view: F) -> F:
        setattr(view, RULE_ATTR, frozenset(roles))
        return view

    return mark


def public(view: F) -> F:
    setattr(view, RULE_ATTR, frozenset({PUBLIC}))
    return view


def rule_for(app: Flask, endpoint: str) -> frozenset[str] | None:
    if endpoint in PUBLIC_ENDPOINTS:
        return frozenset({PUBLIC})
    view = app.view_functions.get(endpoint)
    # flask-smorest / MethodView: the rule may sit on the class or on the method.
    rules = getattr(view, RULE_ATTR, None)
    view_class = getattr(view, "view_class", None)
    if rules is None and view_class is not None:
        rules = getattr(view_class, RULE_ATTR, None)
        if rules is None:
            method = getattr(view_class, request.method.lower(), None) if request else None
            rules = getattr(method, RULE_ATTR, None)
    return rules


def current_client() -> ApiClient:
    client = g.get("client")
    assert client is not None, "current_client() outside an authenticated view"
    return client


def as_client(service: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one registry service in this request's transaction as the calling client.

    The service gets the session, the actor and the request id its events and audit rows
    carry; its writes and audit rows commit together, before the answer leaves.
    """
    session = get_session()
    out = service(session, *args, actor=audit.Actor.of(current_client()),
                  request_id=g.request_id, **kwargs)  # fmt: skip
    session.commit()
    return out


def init_app(app: Flask) -> None:
    @app.before_request
    def _authorize() -> ResponseReturnValue | None:
        if request.endpoint is None:
            return None  # 404/405: let routing answer
        rules = rule_for(current_app, request.endpoint)
        if rules is None:
            return error_response(403, "forbidden", "This route has no access rule; denied.")
        if PUBLIC in rules:
            return None
        if request.path == ADMIN_PAGES or request.path.startswith(ADMIN_PAGES + "/"):
            return _admin_session(rules)
        header = request.headers.get("Authorization", "")
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return _unauthorized("Send `Authorization: Bearer <api key>`.")
        client = authenticate(get_session(), key.strip())
        if client is None:
            return _unauthorized("The API key is not valid or was revoked.")
        g.client = client
        refused = refusal(client)
        if refused is not None:
            code, message = refused
            if code == "client_expired":
                return _unauthorized(message, code)
            return error_response(403, code, message)
        if client.role not in rules:
            return error_response(
                403, "forbidden", f"A {client.role} client may not call this route."
            )
        return _rate_limit(client)


def _rate_limit(client: ApiClient) -> ResponseReturnValue | None:
    """Count the request in PostgreSQL (shared by all workers) and commit the count at once,
    so the counter row is locked for a moment, not for the whole request, and a request that
    fails later still counts."""
    session = get_session()
    limited = usage.check_rate(session, client, current_app.config["POPDB_SETTINGS"])
    session.commit()
    return None if limited is None else limited_response(limited)


def limited_response(limited: usage.Limited) -> Response:
    """A 429 in the one error shape, naming the limit, with Retry-After (a finished Response,
    so a flask-smorest view can return it past its schema)."""
    response, status = error_response(
        429, "rate_limited", limited.message, {"limit": limited.limit}
    )
    response.status_code = status
    response.headers["Retry-After"] = str(limited.retry_after)
    return response


def _admin_session(rules: frozenset[str]) -> ResponseReturnValue | None:
    """/admin pages: the signed-in admin of the session cookie (never a Bearer key here, and
    never the cookie on API routes). The API's refusal rules hold here too, at every request:
    a revoked, rotated, expired or suspended key ends the session, and so do sign-out and the
    absolute lifetime (POPDB_ADMIN_SESSION_HOURS), both checked against the audit chain."""
    client_id = session.get(ADMIN_SESSION_KEY)
    db = get_session()
    client = db.get(ApiClient, client_id) if isinstance(client_id, int) else None
    settings = current_app.config["POPDB_SETTINGS"]
    if (
        client is None
        or not client.active
        or client.role not in rules
        or session.get(ADMIN_SESSION_FINGERPRINT) != client.key_hash[:16]
        or refusal(client) is not None
        or not session_open(db, session.get(ADMIN_SESSION_ID), settings.admin_session_hours)
    ):
        session.clear()
        return redirect(url_for("admin.sign_in", next=request.full_path.rstrip("?")))
    g.client = client
    return None


def session_subject(session_id: str) -> str:
    """The audit subject of an admin session: a hash, so the chain never holds a live id."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()[:32]


def session_open(db: Session, session_id: object, hours: int) -> bool:
    """Signed in (an `admin.sign_in` event), not signed out, and younger than `hours`."""
    if not isinstance(session_id, str) or not session_id:
        return False
    events = db.execute(
        sa.select(AuditEvent.action, AuditEvent.occurred_at).where(
            AuditEvent.subject_type == ADMIN_SESSION_SUBJECT,
            AuditEvent.subject_id == session_subject(session_id),
        )
    ).all()
    started = [at for action, at in events if action == "admin.sign_in"]
    if not started or any(action == "admin.sign_out" for action, _ in events):
        return False
    return dt.datetime.now(dt.UTC) < min(started) + dt.timedelta(hours=hours)


def _unauthorized(message: str, code: str = "unauthorized") -> ResponseReturnValue:
    response, status = error_response(401, code, message)
    response.headers["WWW-Authenticate"] = 'Bearer realm="popdb"'
    return response, status
