"""Issue 22, the web side: each test is the attack itself (OWASP API Security Top 10, 2023).

API2 broken authentication (admin keys that expired, were revoked, rotated or suspended;
sessions that outlive sign-out), API4 unrestricted resource consumption (deep JSON, chunked
bodies, upload rates), API8 security misconfiguration (headers, cookie flags, 500s, metrics).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re

import pytest
import sqlalchemy as sa

from api import create_app
from popdb.core.models import ApiClient, AuditEvent
from tests.conftest import _session_on
from tests.support.persons import add_person

PIN = "001190012345"


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found[1]


def sign_in(client, make_client) -> tuple[int, str, str]:
    """Sign in through the form as a browser would: (client id, key, the session's CSRF token)."""
    client_id, headers = make_client("admin")
    key = headers["Authorization"].removeprefix("Bearer ")
    token = _token(client.get("/admin/sign-in").get_data(as_text=True))
    signed = client.post("/admin/sign-in", data={"api_key": key, "csrf_token": token})
    assert signed.status_code == 302, signed.get_data(as_text=True)
    return client_id, key, _token(client.get("/admin/sign-in").get_data(as_text=True))


def _admin(session, client_id: int) -> ApiClient:
    found = session.get(ApiClient, client_id)
    assert found is not None
    return found


# --- item 1: an admin key's refusal rules hold on /admin as on the API ------------------------


def test_a_session_opened_before_the_key_expired_stops_at_expiry(client, make_client, session):
    person = add_person(session, personal_id_number=PIN)
    client_id, _, _ = sign_in(client, make_client)
    assert client.get(f"/admin/persons/{person.id}").status_code == 200
    _admin(session, client_id).expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    session.flush()
    r = client.get(f"/admin/persons/{person.id}")
    assert r.status_code == 302 and "/admin/sign-in" in r.headers["Location"]
    assert PIN not in r.get_data(as_text=True)


@pytest.mark.parametrize("how", ["expired", "suspended", "revoked"])
def test_sign_in_with_a_refused_key_fails(client, make_client, session, how) -> None:
    client_id, headers = make_client("admin")
    admin = _admin(session, client_id)
    if how == "expired":
        admin.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    elif how == "suspended":
        admin.suspended_at, admin.suspended_reason = dt.datetime.now(dt.UTC), "test"
    else:
        admin.active = False
    session.flush()
    token = _token(client.get("/admin/sign-in").get_data(as_text=True))
    key = headers["Authorization"].removeprefix("Bearer ")
    r = client.post("/admin/sign-in", data={"api_key": key, "csrf_token": token})
    assert r.status_code == 401
    assert client.get("/admin/reviews").status_code == 302  # not signed in


def test_claiming_through_the_admin_pages_is_refused_once_the_key_is_suspended(
    client, make_client, session
) -> None:
    client_id, _, token = sign_in(client, make_client)
    admin = _admin(session, client_id)
    admin.suspended_at, admin.suspended_reason = dt.datetime.now(dt.UTC), "test"
    session.flush()
    r = client.post("/admin/reviews/claim", data={"csrf_token": token})
    assert r.status_code == 302 and "/admin/sign-in" in r.headers["Location"]
    claims = session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent)
        .where(AuditEvent.action.like("review.claim%"), AuditEvent.actor_id == client_id)
    )  # fmt: skip
    assert claims == 0


def test_a_rotated_key_ends_the_session(client, make_client, session) -> None:
    from popdb.identity.clients import rotate_key

    client_id, _, _ = sign_in(client, make_client)
    rotate_key(session, client_id)
    assert client.get("/admin/reviews").status_code == 302


# --- item 10: the admin session ----------------------------------------------------------------


def test_a_cookie_replayed_after_sign_out_is_refused(client, make_client) -> None:
    _, _, token = sign_in(client, make_client)
    stolen = client.get_cookie("session")
    assert stolen is not None
    assert client.post("/admin/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/reviews").status_code == 302
    client.set_cookie("session", stolen.value)  # the attacker kept a copy of the cookie
    r = client.get("/admin/reviews")
    assert r.status_code == 302 and "/admin/sign-in" in r.headers["Location"]


def test_sign_in_issues_a_fresh_csrf_token(client, make_client) -> None:
    planted = _token(client.get("/admin/sign-in").get_data(as_text=True))
    _, headers = make_client("admin")
    key = headers["Authorization"].removeprefix("Bearer ")
    client.post("/admin/sign-in", data={"api_key": key, "csrf_token": planted})
    after = _token(client.get("/admin/reviews").get_data(as_text=True))
    assert after != planted  # a token known before sign-in (fixation) is worth nothing after


def test_the_session_has_an_absolute_lifetime(client, make_client, session) -> None:
    client_id, _, _ = sign_in(client, make_client)
    assert client.get("/admin/reviews").status_code == 200
    # A lifetime of 0 hours: the session, however fresh, is past it at the next request.
    app = client.application
    app.config["POPDB_SETTINGS"] = dataclasses.replace(
        app.config["POPDB_SETTINGS"], admin_session_hours=0
    )
    r = client.get("/admin/reviews")
    assert r.status_code == 302 and "/admin/sign-in" in r.headers["Location"]


def test_the_admin_cookie_is_secure_httponly_and_samesite(client, make_client) -> None:
    _, headers = make_client("admin")
    token = _token(client.get("/admin/sign-in").get_data(as_text=True))
    key = headers["Authorization"].removeprefix("Bearer ")
    r = client.post("/admin/sign-in", data={"api_key": key, "csrf_token": token})
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_plain_http_development_can_turn_the_secure_flag_off(connection, settings) -> None:
    app = create_app(dataclasses.replace(settings, session_cookie_secure=False),
                     session_factory=lambda: _session_on(connection))  # fmt: skip
    r = app.test_client().get("/admin/sign-in")
    assert "Secure" not in r.headers["Set-Cookie"]


@pytest.mark.parametrize("path", ["/admin/sign-in", "/admin/reviews"])
def test_admin_pages_refuse_framing_and_caching(client, make_client, path) -> None:
    sign_in(client, make_client)
    r = client.get(path)
    assert r.status_code == 200
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert "no-store" in r.headers["Cache-Control"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_identity_answers_are_not_cached(client, session, make_client) -> None:
    add_person(session, personal_id_number=PIN)
    _, agency = make_client("agency", legal_basis="a", operations=["lookup"],
                            fields=["full_name", "dob"])  # fmt: skip
    r = client.get(f"/api/v1/identity/persons/{PIN}?purpose=kyc", headers=agency)
    assert r.status_code == 200
    assert "no-store" in r.headers["Cache-Control"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]


# --- item 9: 500s that are the client's fault answer 400 in the one error shape --------------


def _is_error_shape(r, status: int = 400) -> None:
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    body = r.get_json()
    assert set(body) >= {"code", "status", "message", "errors"} and body["status"] == status


def test_a_lone_surrogate_in_a_json_string_is_a_400(client, make_client) -> None:
    _, agency = make_client("agency", legal_basis="a", operations=["verify"], fields=["dob"])
    body = '{"purpose": "kyc \\ud800", "personal_id_number": "' + PIN + '", "full_name": "A"}'
    r = client.post("/api/v1/identity/verify", data=body, headers=agency,
                    content_type="application/json")  # fmt: skip
    _is_error_shape(r)


def test_a_correct_surrogate_pair_is_still_accepted() -> None:
    from api.safe_json import loads

    assert loads('{"a": "\\ud83d\\ude00"}') == {"a": "\U0001f600"}


def test_json_nested_100000_deep_is_a_400(client, make_client) -> None:
    _, agency = make_client("agency", legal_basis="a", operations=["verify"], fields=["dob"])
    deep = "[" * 100_000 + "]" * 100_000
    r = client.post("/api/v1/identity/verify", data=deep, headers=agency,
                    content_type="application/json")  # fmt: skip
    _is_error_shape(r)


def test_a_deep_mapping_profile_in_an_upload_is_a_400(client, make_client) -> None:
    _, police = make_client("police", commune_code="00004")
    data = {"file": (io.BytesIO(b"a,b\n1,2\n"), "x.csv"), "mapping": "[" * 100_000}
    r = client.post("/api/v1/imports", data=data, headers=police,
                    content_type="multipart/form-data")  # fmt: skip
    _is_error_shape(r)


def test_cr_lf_in_the_sign_in_next_parameter_is_a_400(client, make_client) -> None:
    _, headers = make_client("admin")
    key = headers["Authorization"].removeprefix("Bearer ")
    token = _token(client.get("/admin/sign-in").get_data(as_text=True))
    r = client.post("/admin/sign-in?next=/admin/reviews%0D%0ASet-Cookie:%20x=1",
                    data={"api_key": key, "csrf_token": token})  # fmt: skip
    _is_error_shape(r)
    assert "x=1" not in r.headers.get("Set-Cookie", "")


def test_the_engine_hides_statement_parameters_from_errors() -> None:
    from popdb.core.db import _engine_for

    engine = _engine_for("postgresql://nobody@127.0.0.1:1/none")
    assert engine.hide_parameters is True


def test_a_database_error_logs_no_personal_data(app, caplog) -> None:
    from api.auth import public
    from api.db import get_session

    secret = " ".join(["Trần", PIN])  # built here, so no source line in a traceback shows it

    @app.get("/boom")
    @public
    def boom():  # type: ignore[no-untyped-def]
        get_session().execute(sa.text("SELECT CAST(:v AS integer)"), {"v": secret})

    with caplog.at_level("INFO"):
        r = app.test_client().get("/boom")
    _is_error_shape(r, 500)
    logged = "\n".join(
        rec.getMessage() + (rec.exc_text or "") + str(rec.exc_info or "") for rec in caplog.records
    )
    assert "InvalidTextRepresentation" in logged  # the error is logged...
    assert PIN not in logged and "Trần" not in logged  # ...without the value


# --- item 11: resource limits and smaller items ------------------------------------------------


#: gunicorn and werkzeug's server decode a chunked body and say so; werkzeug then holds the
#: stream to `max_content_length`.
_SERVER_DECHUNKS = {"wsgi.input_terminated": True}


def test_an_oversized_chunked_body_is_a_413(connection, settings, make_client) -> None:
    small = dataclasses.replace(settings, max_upload_bytes=2_000)
    app = create_app(small, session_factory=lambda: _session_on(connection))
    _, police = make_client("police", commune_code="00004")

    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n\r\n'
    body = head + b"a,b\n" + b"1,2\n" * 5_000 + b"\r\n--b--\r\n"
    r = app.test_client().post(
        "/api/v1/imports", input_stream=io.BytesIO(body),
        headers={**police, "Transfer-Encoding": "chunked",
                 "Content-Type": "multipart/form-data; boundary=b"},
        environ_base=_SERVER_DECHUNKS,
    )  # fmt: skip
    _is_error_shape(r, 413)


def test_an_oversized_chunked_identity_body_is_a_413(connection, settings, make_client) -> None:
    small = dataclasses.replace(settings, identity_max_body_bytes=1_000)
    app = create_app(small, session_factory=lambda: _session_on(connection))
    _, agency = make_client("agency", legal_basis="a", operations=["verify"], fields=["dob"])
    body = b'{"purpose": "' + b"x" * 5_000 + b'"}'
    r = app.test_client().post(
        "/api/v1/identity/verify", input_stream=io.BytesIO(body),
        headers={**agency, "Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        environ_base=_SERVER_DECHUNKS,
    )  # fmt: skip
    _is_error_shape(r, 413)


def test_police_uploads_are_rate_limited(connection, settings, make_client) -> None:
    limited = dataclasses.replace(settings, police_uploads_per_hour=2)
    app = create_app(limited, session_factory=lambda: _session_on(connection))
    http = app.test_client()
    _, police = make_client("police", commune_code="00004")
    answers = []
    for n in range(3):
        data = {"file": (io.BytesIO(f"a,b\n{n},2\n".encode()), f"x{n}.csv")}
        answers.append(http.post("/api/v1/imports", data=data, headers=police,
                                 content_type="multipart/form-data"))  # fmt: skip
    assert [a.status_code for a in answers[:2]] == [202, 202]
    _is_error_shape(answers[2], 429)
    assert answers[2].get_json()["code"] == "rate_limited"
    assert int(answers[2].headers["Retry-After"]) > 0


def test_metrics_carry_no_per_route_detail_by_default(client, make_client) -> None:
    _, headers = make_client("admin")
    client.get("/api/v1/persons/424242", headers=headers)
    text = client.get("/metrics").get_data(as_text=True)
    assert "/api/v1/persons/<int:person_id>" not in text
    assert "popdb_http_requests_total" in text


def test_metrics_per_route_only_when_the_setting_asks(connection, settings, make_client) -> None:
    app = create_app(dataclasses.replace(settings, metrics_per_route=True),
                     session_factory=lambda: _session_on(connection))  # fmt: skip
    _, headers = make_client("admin")
    http = app.test_client()
    http.get("/api/v1/persons/424242", headers=headers)
    assert "/api/v1/persons/<int:person_id>" in http.get("/metrics").get_data(as_text=True)


def test_lookup_by_body_keeps_the_number_out_of_the_url(client, session, make_client) -> None:
    add_person(session, personal_id_number=PIN)
    _, agency = make_client("agency", legal_basis="a", operations=["lookup"],
                            fields=["full_name", "dob"])  # fmt: skip
    r = client.post("/api/v1/identity/lookup", headers=agency,
                    json={"personal_id_number": PIN, "purpose": "kyc"})  # fmt: skip
    assert r.status_code == 200, r.get_data(as_text=True)
    by_get = client.get(f"/api/v1/identity/persons/{PIN}?purpose=kyc", headers=agency)
    assert {k: v for k, v in r.get_json().items() if k != "request_id"} == {
        k: v for k, v in by_get.get_json().items() if k != "request_id"
    }
    audited = session.scalars(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "identity.lookup")
    ).all()
    assert len(audited) == 2 and all(d["personal_id_number"] == PIN for d in audited)
    missing = client.post("/api/v1/identity/lookup", headers=agency,
                          json={"personal_id_number": "001190999999",
                                "purpose": "kyc"})  # fmt: skip
    _is_error_shape(missing, 404)
    bad = client.post("/api/v1/identity/lookup", headers=agency,
                      json={"personal_id_number": "12ab", "purpose": "kyc"})  # fmt: skip
    assert bad.status_code in (400, 422)


def test_every_blueprint_parses_json_bodies_with_the_safe_loader(app) -> None:
    from api.safe_json import Parser

    api = app.extensions["popdb.api"]
    parsers = {name: type(bp.ARGUMENTS_PARSER) for name, bp in app.blueprints.items()
               if hasattr(bp, "ARGUMENTS_PARSER")}  # fmt: skip
    assert parsers and api is not None
    assert {n: p for n, p in parsers.items() if not issubclass(p, Parser)} == {}


# --- items 7 and 8: the error report ------------------------------------------------------------


def _batch_with_issues(session, tmp_path, client, make_client, scope):
    """A loaded batch with one injected formula in a rejected row: (batch id, police headers)."""
    from importers.worker import process_pending
    from tests.support.dc01 import dc01_row, fake_rows, write_csv

    _, police = make_client("police", commune_code="00004")
    row = dc01_row(source_key='1;=HYPERLINK("http://x")', full_name="")
    path = write_csv(tmp_path / "dc01.csv", [*fake_rows(3), row])
    with path.open("rb") as f:
        data = {"file": (io.BytesIO(f.read()), path.name)}
    r = client.post("/api/v1/imports", data=data, headers=police,
                    content_type="multipart/form-data")  # fmt: skip
    assert r.status_code == 202, r.get_json()
    assert process_pending(scope) == 1
    return r.get_json()["batch_id"], police


def _report_reads(session, batch_id: int) -> list[AuditEvent]:
    return list(session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "import.error_report_read",
        AuditEvent.subject_id == str(batch_id))))  # fmt: skip


def test_reading_an_error_report_is_audited_through_the_api(
    client, session, make_client, scope, tmp_path
) -> None:
    batch_id, police = _batch_with_issues(session, tmp_path, client, make_client, scope)
    assert _report_reads(session, batch_id) == []
    r = client.get(f"/api/v1/imports/{batch_id}/errors", headers=police)
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert ";=HYPERLINK" not in text and "1;'=HYPERLINK" in text  # item 8, end to end
    assert "no-store" in r.headers["Cache-Control"]
    (event,) = _report_reads(session, batch_id)
    assert event.role == "police" and event.subject_type == "import_batch"


def test_reading_an_error_report_is_audited_through_the_admin_pages(
    client, session, make_client, scope, tmp_path
) -> None:
    batch_id, _ = _batch_with_issues(session, tmp_path, client, make_client, scope)
    admin_id, _, _ = sign_in(client, make_client)
    page = client.get("/admin/imports").get_data(as_text=True)
    assert f"/admin/imports/{batch_id}/errors" in page
    r = client.get(f"/admin/imports/{batch_id}/errors")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    (event,) = _report_reads(session, batch_id)
    assert event.actor_id == admin_id and event.role == "admin"
