"""The service shell: health, readiness, metrics, OpenAPI, docs, and one error shape."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api import create_app


def test_healthz_answers_without_credentials(client) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json() == {"status": "ok"}
    assert r.headers["X-Request-Id"]


def test_readyz_reports_the_schema_at_head(client) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.get_json()["status"] == "ready"


def test_readyz_goes_red_when_the_database_is_unreachable(settings) -> None:
    def broken() -> Session:
        engine = sa.create_engine("postgresql+psycopg2://nobody@/nowhere?host=/nonexistent")
        return Session(engine)

    r = create_app(settings, session_factory=broken).test_client().get("/readyz")
    body = r.get_json()
    assert r.status_code == 503
    assert body["code"] == "not_ready" and body["request_id"]
    assert "nonexistent" not in r.get_data(as_text=True)  # no connection details leak


def test_metrics_are_in_prometheus_text_format(client) -> None:
    client.get("/healthz")
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.mimetype == "text/plain"
    # per-route labels only with POPDB_METRICS_PER_ROUTE (issue 22): by default one series
    assert 'popdb_http_requests_total{method="GET",route="*",status="200"}' in r.get_data(
        as_text=True
    )


def test_openapi_document_and_swagger_ui_are_served_offline(client) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    assert spec.get_json()["openapi"].startswith("3.")
    assert "/api/v1/me" in spec.get_json()["paths"]
    docs = client.get("/docs")
    assert docs.status_code == 200
    html = docs.get_data(as_text=True)
    assert "/docs/assets/swagger-ui-bundle.js" in html
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_unknown_routes_get_the_one_error_shape(client) -> None:
    r = client.get("/no/such/thing")
    body = r.get_json()
    assert r.status_code == 404
    assert set(body) == {"code", "status", "message", "errors", "request_id"}
    assert body["status"] == 404 and body["code"] == "not_found"


def test_a_wrong_method_is_405_with_allow(client) -> None:
    r = client.post("/healthz")
    assert r.status_code == 405
    assert r.get_json()["code"] == "method_not_allowed"
    assert "GET" in r.headers["Allow"]


def test_a_callers_request_id_is_echoed_and_a_hostile_one_replaced(client) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"]
        == "abc-123"
    )
    replaced = client.get("/healthz", headers={"X-Request-Id": "<script>"}).headers["X-Request-Id"]
    assert replaced != "<script>" and len(replaced) == 32


def test_an_unexpected_error_is_a_500_without_a_trace(app) -> None:
    from api.auth import public

    @app.get("/boom")
    @public
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("SELECT secret FROM citizens")

    r = app.test_client().get("/boom")
    assert r.status_code == 500
    text = r.get_data(as_text=True)
    assert "SELECT" not in text and "Traceback" not in text
    assert r.get_json()["code"] == "internal_error"


def test_a_connection_cut_mid_statement_is_a_503_and_other_database_errors_a_500(app) -> None:
    """psycopg2 reports a server crash mid-statement as a plain DatabaseError, which
    SQLAlchemy marks `connection_invalidated`: the database is away (503), not a bug (500)."""
    from api.auth import public

    def fail(invalidated: bool) -> None:
        raise sa.exc.DatabaseError(
            "SELECT 1", {}, Exception("server closed the connection unexpectedly"),
            connection_invalidated=invalidated,
        )  # fmt: skip

    app.add_url_rule("/cut", "cut", public(lambda: fail(True)))
    app.add_url_rule("/bad", "bad", public(lambda: fail(False)))
    r = app.test_client().get("/cut")
    assert r.status_code == 503 and r.get_json()["code"] == "database_unavailable"
    assert r.headers["Retry-After"] == "5"
    r = app.test_client().get("/bad")
    assert r.status_code == 500 and r.get_json()["code"] == "internal_error"
    assert "SELECT" not in r.get_data(as_text=True)
