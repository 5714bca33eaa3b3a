"""One error shape for the whole API: {code, status, message, errors, request_id}.

Domain errors are mapped here and nowhere else. A 500 never carries a trace or SQL text.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

import sqlalchemy as sa
from flask import Flask, Response, g, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields
from werkzeug.exceptions import HTTPException

from api.openapi import VALIDATION_CODE, VALIDATION_MESSAGE
from popdb.core import errors as domain

log = logging.getLogger(__name__)

STATUS_OF: dict[type[domain.PopdbError], int] = {
    domain.InvalidInput: 400,  # code VALIDATION_CODE, like webargs' refusals
    domain.Forbidden: 403,
    domain.NotFound: 404,
    domain.Conflict: 409,
    domain.DatabaseUnavailable: 503,
}


class ErrorSchema(Schema):
    """The error envelope, as documented in the OpenAPI document (every `default` response)."""

    code = fields.String(required=True, metadata={"description": "stable machine-readable code"})
    status = fields.Integer(required=True)
    message = fields.String(required=True)
    errors = fields.Dict(required=True, metadata={"description": "details per field"})
    request_id = fields.String(allow_none=True)


def error_response(
    status: int, code: str, message: str, errors: dict[str, Any] | None = None
) -> tuple[Response, int]:
    body = {
        "code": code,
        "status": status,
        "message": message,
        "errors": errors or {},
        "request_id": g.get("request_id"),
    }
    return jsonify(body), status


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        data = getattr(exc, "data", None)  # webargs / flask-smorest validation details
        errors = data["messages"] if isinstance(data, dict) and "messages" in data else {}
        code = _http_code(exc)
        message = exc.description or exc.name
        if status in (400, 422):  # bad input, whoever refused it: one status, one code
            status, code = 400, VALIDATION_CODE
            message = VALIDATION_MESSAGE if errors else message
        response, status = error_response(status, code, message, errors)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            value = exc.get_response().headers.get(header)
            if value:
                response.headers[header] = value
        return response, status

    @app.errorhandler(domain.PopdbError)
    def _domain(exc: domain.PopdbError) -> ResponseReturnValue:
        status = next((s for t, s in STATUS_OF.items() if isinstance(exc, t)), 400)
        return error_response(status, exc.code, exc.message, exc.errors)

    @app.errorhandler(sa.exc.DBAPIError)
    def _database_error(exc: sa.exc.DBAPIError) -> ResponseReturnValue:
        # psycopg2 reports a connection cut mid-statement (the server crashed) as a plain
        # DatabaseError; SQLAlchemy recognises it as a disconnect and invalidates the connection.
        if exc.connection_invalidated or isinstance(
            exc, sa.exc.OperationalError | sa.exc.InterfaceError
        ):
            return _database_down(exc)
        # Not log.exception: PostgreSQL's own message quotes the offending value (`invalid
        # input syntax for type integer: "<a name>"`), which is personal data. The engine
        # hides statement parameters (popdb/core/db.py); here the message goes too, and what
        # is logged is the error's class, SQLSTATE, the statement and where it was raised.
        log.error(
            "database error %s (SQLSTATE %s) in %s\n%s",
            type(exc.orig).__name__, getattr(exc.orig, "pgcode", None),
            (exc.statement or "")[:500], "".join(traceback.format_tb(exc.__traceback__)),
            extra={"request_id": g.get("request_id")},
        )  # fmt: skip
        return error_response(
            500, "internal_error", "Something went wrong on our side; quote the request_id."
        )

    def _database_down(exc: sa.exc.DBAPIError) -> ResponseReturnValue:
        # The server went away or refuses connections (a restart, a failover): the request did
        # not happen, so the client may retry; the pool reconnects on its own (popdb/core/db.py).
        log.warning("database unavailable: %s", type(exc.orig).__name__,
                    extra={"request_id": g.get("request_id")})  # fmt: skip
        response, status = error_response(
            503, domain.DatabaseUnavailable.code,
            "The database is not reachable just now; nothing was changed. Try again shortly.",
        )  # fmt: skip
        response.headers["Retry-After"] = "5"
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error", extra={"request_id": g.get("request_id")})
        return error_response(
            500, "internal_error", "Something went wrong on our side; quote the request_id."
        )
