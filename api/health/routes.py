"""/healthz, /readyz, /metrics: for the load balancer and the monitoring system."""

from __future__ import annotations

from flask import Blueprint, current_app
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from api import metrics
from api.auth import public
from api.db import get_session
from api.error_responses import error_response
from popdb.core import replicas
from popdb.ops import migrate

blp = Blueprint("health", __name__)

#: the schema's revision, and whether the service's role owns (or may act as the owner of)
#: the audit log, i.e. could ALTER it (issue 22 item 5)
_READY = (
    "SELECT version_num, (SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c "
    "WHERE c.oid = to_regclass('audit_event')) AS as_owner FROM alembic_version"
)


@blp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """The process is up."""
    return {"status": "ok"}


@blp.get("/readyz")
@public
def readyz() -> ResponseReturnValue:
    """Ready to serve: the database answers and its schema is at head."""
    try:
        session = get_session()
        revision, as_owner = session.execute(text(_READY)).one()
    except Exception:  # any database failure means not ready; the log says why
        current_app.logger.warning("readiness: database unreachable", exc_info=True)
        return error_response(503, "not_ready", "The database is not reachable.")
    head = migrate.head_revision()
    if revision != head:
        return error_response(
            503, "not_ready", f"The schema is at {revision}, not at head {head}: run migrations."
        )
    out = {"status": "ready", "database": "ok", "revision": revision}
    if as_owner:  # ready, but the service could alter the schema and the audit log's triggers
        out["database_role"] = "owner"
        out["note"] = ("the service connects as the schema's owner: set POPDB_OWNER_DATABASE_URL "
                       "and give DATABASE_URL a role of its own")  # fmt: skip
    else:
        out["database_role"] = "service"
    # Replicas are optional: one lagging or down is skipped (reads go to the primary), so it
    # is reported here but never makes the service unready.
    settings = current_app.config["POPDB_SETTINGS"]
    if replicas.configured(settings):
        out["replicas"] = replicas.status(settings)
        out["replica_max_lag_s"] = settings.replica_max_lag_s
    return out


@blp.get("/metrics")
@public
def prometheus() -> ResponseReturnValue:
    """Prometheus metrics."""
    return metrics.render(current_app.config["POPDB_SETTINGS"])
