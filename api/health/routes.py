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
        revision = session.scalar(text("SELECT version_num FROM alembic_version"))
    except Exception:  # any database failure means not ready; the log says why
        current_app.logger.warning("readiness: database unreachable", exc_info=True)
        return error_response(503, "not_ready", "The database is not reachable.")
    head = migrate.head_revision()
    if revision != head:
        return error_response(
            503, "not_ready", f"The schema is at {revision}, not at head {head}: run migrations."
        )
    out = {"status": "ready", "database": "ok", "revision": revision}
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
