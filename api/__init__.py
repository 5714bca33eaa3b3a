"""The HTTP API and admin pages. The only package that imports Flask."""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import time
import uuid
from functools import cached_property
from pathlib import Path
from typing import IO, Any

import flask_smorest
import sqlalchemy as sa
import swagger_ui_bundle
from flask import Flask, Request, Response, g, request, send_from_directory
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from api import auth, error_responses, metrics, safe_json
from api import db as api_db
from api.db import SessionFactory
from api.openapi import DocPlugin
from popdb.core import db
from popdb.core.settings import Settings

log = logging.getLogger("popdb.http")
# Every blueprint's @arguments parses JSON bodies with the rules of api/safe_json.py. Set
# here, before any routes module is imported: flask-smorest binds the parser at decoration.
flask_smorest.Blueprint.ARGUMENTS_PARSER = safe_json.Parser()
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def create_app(
    settings: Settings | None = None, *, session_factory: SessionFactory | None = None
) -> Flask:
    """Build the app. Tests pass `session_factory` to run each test in a rolled-back transaction."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.request_class = _Request
    app.json = safe_json.JSONProvider(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # "Nguyễn", not "Nguy\u1ec5n"
    app.config.update(
        API_TITLE="popdb",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        SECRET_KEY=settings.secret_key or _secret_key(settings.home),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        PERMANENT_SESSION_LIFETIME=settings.admin_session_hours * 3600,
        POPDB_SETTINGS=settings,
        JSON_SORT_KEYS=False,
    )
    engine = None
    if session_factory is None:
        engine = db.get_engine(settings)
        maker = db.make_sessionmaker(engine)

        def session_factory() -> Session:
            return maker()

    api_db.init_app(app, session_factory)
    _request_ids(app)
    _security_headers(app)
    metrics.init_app(app, per_route=settings.metrics_per_route)
    auth.init_app(app)

    api = _Api(app, spec_kwargs={"info": {"description": _DESCRIPTION},
                                 "extra_plugins": [DocPlugin()]})  # fmt: skip
    error_responses.init_app(app)  # after Api(): replaces flask-smorest's own error handler
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    app.extensions["popdb.api"] = api

    from api.access_log.routes import blp as access_log
    from api.admin import life as _admin_life  # noqa: F401  (its pages join the admin bp)
    from api.admin import preview as _admin_preview  # noqa: F401  (joins the admin bp)
    from api.admin.routes import bp as admin
    from api.batches.routes import blp as batches
    from api.batches.routes import communes
    from api.health.routes import blp as health
    from api.identity.routes import blp as identity
    from api.imports.routes import blp as imports
    from api.me.routes import blp as me
    from api.persons.routes import blp as persons
    from api.reviews.routes import blp as reviews

    app.register_blueprint(health)
    app.register_blueprint(admin)
    api.register_blueprint(me)
    api.register_blueprint(imports)
    api.register_blueprint(reviews)
    api.register_blueprint(persons)
    api.register_blueprint(identity)
    api.register_blueprint(access_log)
    api.register_blueprint(batches)
    api.register_blueprint(communes)

    if settings.lean_verify:  # issue 21: the ordinary verify answered before Flask
        from api.identity.lean import LeanVerify

        app.wsgi_app = LeanVerify(  # type: ignore[method-assign]
            app.wsgi_app, app.config, session_factory, engine=engine
        )

    assets = Path(swagger_ui_bundle.swagger_ui_path)

    @app.get("/docs/assets/<path:name>", endpoint="docs_assets")
    def _docs_assets(name: str) -> ResponseReturnValue:
        return send_from_directory(assets, name)

    return app


def _secret_key(home: Path) -> str:
    """Signs the admin session cookie. Without POPDB_SECRET_KEY, a random key kept in
    POPDB_HOME (mode 0600), so that every web worker and restart signs alike."""
    path = home / "secret_key"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        draft = home / f".secret_key.{os.getpid()}"
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:  # link is atomic: of two workers starting together, one key wins whole
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text().strip()


class _Request(Request):
    """A body of unknown length (chunked) past `max_content_length` is a 413.

    werkzeug hands such a body over cut at the limit and raises only when read once more, so
    `get_data()` returned the first bytes as if they were the whole body: a 400 for broken
    JSON at best. Here the read that passes the limit raises.
    """

    @cached_property
    def stream(self) -> IO[bytes]:
        limit = self.max_content_length
        raw = self.environ.get("wsgi.input")
        if (
            self.content_length is None
            and limit is not None
            and raw is not None
            and "wsgi.input_terminated" in self.environ
        ):
            return io.BufferedReader(_AtMost(raw, limit))
        return get_input_stream(self.environ, max_content_length=limit)


class _AtMost(io.RawIOBase):
    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self._raw, self._left = raw, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if not len(buffer):
            return 0
        data = self._raw.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise RequestEntityTooLarge()
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


class _Api(Api):
    """flask-smorest's Api documenting our error envelope instead of its own."""

    ERROR_SCHEMA = error_responses.ErrorSchema


def _request_ids(app: Flask) -> None:
    @app.before_request
    def _assign() -> None:
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        g.t0 = time.perf_counter()

    @app.after_request
    def _stamp(response):  # type: ignore[no-untyped-def]
        response.headers["X-Request-Id"] = g.get("request_id", "")
        client = g.get("client")
        log.info(
            "request",
            extra={
                "request_id": g.get("request_id"),
                "method": request.method,
                "route": request.url_rule.rule if request.url_rule else None,
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("t0", time.perf_counter())) * 1000, 1),
                "client_id": _client_id(client),
            },
        )
        return response


#: Admin pages: own scripts and styles only (inline style attributes draw the bars), no
#: framing (clickjacking), forms post only here.
ADMIN_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
#: JSON answers are never a document to render or frame.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: Answers with personal data: never kept by a browser or a shared cache.
_NO_STORE = ("/admin", "/api/v1/identity", "/api/v1/persons", "/api/v1/reviews",
             "/api/v1/imports", "/api/v1/access-log")  # fmt: skip


def _security_headers(app: Flask) -> None:
    """OWASP API8 (misconfiguration): headers on every answer, stricter where personal data
    is shown. Swagger UI (/docs) keeps its own inline scripts, so it gets no CSP here."""

    @app.after_request
    def _headers(response: Response) -> Response:
        path = request.path
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if path == "/admin" or path.startswith("/admin/"):
            headers["X-Frame-Options"] = "DENY"
            headers["Content-Security-Policy"] = ADMIN_CSP
        elif path.startswith("/api/"):
            headers["X-Frame-Options"] = "DENY"
            headers["Content-Security-Policy"] = API_CSP
        if path.startswith(_NO_STORE):
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response


def _client_id(client: Any) -> int | None:
    """The client's id from its identity key: never a query, so logging a request whose
    transaction died with its connection cannot fail (and turn a 503 into a 500)."""
    if client is None:
        return None
    identity = sa.inspect(client).identity
    return int(identity[0]) if identity else None


_DESCRIPTION = (
    "National population registry. Authenticate with `Authorization: Bearer <api key>`. "
    "Every error has the shape `{code, status, message, errors, request_id}`; every answer "
    "carries an `X-Request-Id` header."
)
