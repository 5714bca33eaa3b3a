"""The HTTP API and admin pages. The only package that imports Flask."""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import swagger_ui_bundle
from flask import Flask, g, request, send_from_directory
from flask.typing import ResponseReturnValue
from flask_smorest import Api
from sqlalchemy.orm import Session

from api import auth, error_responses, metrics
from api import db as api_db
from api.db import SessionFactory
from api.openapi import DocPlugin
from popdb.core import db
from popdb.core.settings import Settings

log = logging.getLogger("popdb.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def create_app(
    settings: Settings | None = None, *, session_factory: SessionFactory | None = None
) -> Flask:
    """Build the app. Tests pass `session_factory` to run each test in a rolled-back transaction."""
    settings = settings or Settings.from_env()
    app = Flask(__name__)
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
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        POPDB_SETTINGS=settings,
        JSON_SORT_KEYS=False,
    )
    if session_factory is None:
        maker = db.make_sessionmaker(db.get_engine(settings))

        def session_factory() -> Session:
            return maker()

    api_db.init_app(app, session_factory)
    _request_ids(app)
    metrics.init_app(app)
    auth.init_app(app)

    api = _Api(app, spec_kwargs={"info": {"description": _DESCRIPTION},
                                 "extra_plugins": [DocPlugin()]})  # fmt: skip
    error_responses.init_app(app)  # after Api(): replaces flask-smorest's own error handler
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    app.extensions["popdb.api"] = api

    from api.access_log.routes import blp as access_log
    from api.admin import life as _admin_life  # noqa: F401  (its pages join the admin bp)
    from api.admin.routes import bp as admin
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
