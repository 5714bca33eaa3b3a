"""The authorization matrix: every route of the URL map × every kind of caller.

Each cell of `EXPECTED` is the status a real request gets. A route without a row fails
`test_every_route_has_a_row_in_the_matrix`, so a new route cannot ship without deciding who
may call it. Callers: anonymous, police of commune A and of commune B, an admin, an agency
with every grant, and agencies with no operation or exactly one.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest

from popdb.core.models import ImportBatch
from tests.support.persons import add_person

COMMUNE_A, COMMUNE_B = "00004", "00007"
PIN = "001190000001"
OPERATIONS = ("verify", "verify_batch", "lookup", "predicates")
CALLERS = (
    "anonymous", "police_a", "police_b", "admin", "agency_all", "agency_none",
    *(f"agency_{op}" for op in OPERATIONS),
)  # fmt: skip


def _row(**overrides: int) -> dict[str, int]:
    """A row of the matrix: `default` for every caller, then the named exceptions."""
    default = overrides.pop("default")
    return {caller: overrides.get(caller, default) for caller in CALLERS}


PUBLIC = _row(default=200)
ANY_CLIENT = _row(default=200, anonymous=401)
POLICE_OWN_COMMUNE_OR_ADMIN = _row(default=403, anonymous=401, police_a=200, admin=200)
ADMIN_ONLY = _row(default=403, anonymous=401, admin=200)


def _agency_op(op: str) -> dict[str, int]:
    return _row(default=403, anonymous=401, agency_all=200, **{f"agency_{op}": 200})


EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/static/<path:filename>"): _row(default=404),
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/assets/<path:name>"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/api/v1/me"): ANY_CLIENT,
    # police upload for commune A: B is refused its neighbour's commune, admins do not upload
    ("POST", "/api/v1/imports"): _row(default=403, anonymous=401, police_a=202),
    ("GET", "/api/v1/imports"): _row(
        default=403, anonymous=401, police_a=200, police_b=200, admin=200
    ),  # fmt: skip
    ("GET", "/api/v1/imports/<int:batch_id>"): POLICE_OWN_COMMUNE_OR_ADMIN,
    ("GET", "/api/v1/imports/<int:batch_id>/errors"): POLICE_OWN_COMMUNE_OR_ADMIN,
    ("POST", "/api/v1/identity/verify"): _agency_op("verify"),
    ("POST", "/api/v1/identity/verify/batch"): _agency_op("verify_batch"),
    ("GET", "/api/v1/identity/persons/<string:personal_id_number>"): _agency_op("lookup"),
    ("POST", "/api/v1/identity/lookup"): _agency_op("lookup"),
    ("POST", "/api/v1/identity/check"): _agency_op("predicates"),
    ("GET", "/api/v1/persons/<int:person_id>/access-log"): ADMIN_ONLY,
    ("GET", "/api/v1/persons/<int:person_id>"): ADMIN_ONLY,
    ("GET", "/api/v1/persons/search"): ADMIN_ONLY,
    ("GET", "/api/v1/reviews/export"): ADMIN_ONLY,
    ("GET", "/api/v1/persons/<int:person_id>/history"): ADMIN_ONLY,
    # a record that is not the person's: refused by the service, after the access rules
    ("POST", "/api/v1/persons/<int:person_id>/unmerge"): _row(
        default=403, anonymous=401, admin=400
    ),
    # life events and corrections: a body the service refuses (400) once the rules let it in
    ("POST", "/api/v1/persons/<int:person_id>/life-events"): _row(
        default=403, anonymous=401, admin=400
    ),
    ("POST", "/api/v1/persons/<int:person_id>/corrections"): _row(
        default=403, anonymous=401, admin=400
    ),
    ("POST", "/api/v1/persons/corrections/<int:correction_id>/decision"): _row(
        default=403, anonymous=401, admin=404
    ),
    # the person has no household: refused by the service once the rules let the admin in
    ("POST", "/api/v1/persons/<int:person_id>/household/end"): _row(
        default=403, anonymous=401, admin=404
    ),
    ("GET", "/api/v1/reviews"): ADMIN_ONLY,
    # match preview: the commune's own police see held batches and counts, admins release
    ("GET", "/api/v1/batches/held"): _row(
        default=403, anonymous=401, police_a=200, police_b=200, admin=200
    ),  # fmt: skip
    ("GET", "/api/v1/batches/<int:batch_id>/preview"): POLICE_OWN_COMMUNE_OR_ADMIN,
    ("POST", "/api/v1/batches/<int:batch_id>/release"): ADMIN_ONLY,
    ("GET", "/api/v1/communes/settings"): ADMIN_ONLY,
    ("GET", "/api/v1/communes/<string:commune_code>/settings"): ADMIN_ONLY,
    ("PUT", "/api/v1/communes/<string:commune_code>/settings"): ADMIN_ONLY,
    ("POST", "/api/v1/reviews/claim"): _row(default=403, anonymous=401, admin=204),  # empty
    ("GET", "/api/v1/reviews/<int:item_id>"): _row(default=403, anonymous=401, admin=404),
    ("POST", "/api/v1/reviews/<int:item_id>/decision"): _row(default=403, anonymous=401, admin=404),
    # admin pages take the session cookie of /admin/sign-in, never a Bearer key: every
    # caller here is sent to sign in (tests/adjudication and tests/browser sign in for real)
    ("GET", "/admin/sign-in"): PUBLIC,
    ("POST", "/admin/sign-in"): _row(default=400),  # no CSRF token
    ("POST", "/admin/sign-out"): _row(default=302),  # back to sign-in, signed in or not
    **{
        (method, rule): _row(default=302)
        for method, rule in (
            ("GET", "/admin/"),
            ("GET", "/admin/imports"),
            ("GET", "/admin/imports/<int:batch_id>/errors"),
            ("GET", "/admin/reviews"),
            ("GET", "/admin/reviews/export.csv"),
            ("GET", "/admin/persons"),
            ("GET", "/admin/persons/<int:person_id>"),
            ("GET", "/admin/reviews/<int:item_id>"),
            ("POST", "/admin/persons/<int:person_id>/unmerge"),
            ("POST", "/admin/reviews/<int:item_id>/decision"),
            ("POST", "/admin/reviews/claim"),
            ("POST", "/admin/persons/<int:person_id>/life-events"),
            ("POST", "/admin/persons/<int:person_id>/corrections"),
            ("POST", "/admin/persons/<int:person_id>/household/end"),
            ("POST", "/admin/corrections/<int:correction_id>/decision"),
            ("GET", "/admin/batches/held"),
            ("GET", "/admin/batches/<int:batch_id>/preview"),
            ("POST", "/admin/batches/<int:batch_id>/release"),
            ("POST", "/admin/communes/settings"),
        )
    },
}


def _routes(app: Any) -> list[tuple[str, str]]:
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


def test_every_route_has_a_row_in_the_matrix(app) -> None:
    missing = [route for route in _routes(app) if route not in EXPECTED]
    assert missing == [], "add these routes to EXPECTED with the status each caller gets"


def test_the_matrix_has_no_stale_rows(app) -> None:
    assert set(EXPECTED) - set(_routes(app)) == set()


@pytest.fixture
def callers(make_client) -> dict[str, dict[str, str]]:
    headers: dict[str, dict[str, str]] = {"anonymous": {}}
    headers["police_a"] = make_client("police", commune_code=COMMUNE_A)[1]
    headers["police_b"] = make_client("police", commune_code=COMMUNE_B)[1]
    headers["admin"] = make_client("admin")[1]
    agency: dict[str, Any] = {"legal_basis": "a", "fields": ["full_name", "dob"]}
    headers["agency_all"] = make_client("agency", operations=list(OPERATIONS), **agency)[1]
    headers["agency_none"] = make_client("agency", operations=[], **agency)[1]
    for op in OPERATIONS:
        headers[f"agency_{op}"] = make_client("agency", operations=[op], **agency)[1]
    return headers


@pytest.fixture
def world(session) -> dict[str, Any]:
    batch = ImportBatch(
        commune_code=COMMUNE_A, file_name="a.csv", sha256="a" * 64, size_bytes=1,
        collected_on=dt.date(2026, 1, 1), status="loaded", match_hold=True,
    )  # fmt: skip
    session.add(batch)
    person = add_person(session, personal_id_number=PIN)
    return {"batch_id": batch.id, "person_id": person.id}


Request = Callable[[dict[str, Any]], dict[str, Any]]
PURPOSE = "authorization matrix"


def _upload(_: dict[str, Any]) -> dict[str, Any]:
    data = {"file": (io.BytesIO("Họ và tên\nNguyễn Văn A\n".encode()), "a.csv"),
            "commune_code": COMMUNE_A}  # fmt: skip
    return {"path": "/api/v1/imports", "data": data, "content_type": "multipart/form-data"}


#: A valid request for each route, so a refusal can only come from the access rules.
REQUESTS: dict[tuple[str, str], Request] = {
    ("GET", "/static/<path:filename>"): lambda w: {"path": "/static/none.css"},
    ("GET", "/docs/assets/<path:name>"): lambda w: {"path": "/docs/assets/swagger-ui.css"},
    ("POST", "/api/v1/imports"): _upload,
    ("GET", "/api/v1/imports/<int:batch_id>"): lambda w: {
        "path": f"/api/v1/imports/{w['batch_id']}"
    },
    ("GET", "/api/v1/imports/<int:batch_id>/errors"): lambda w: {
        "path": f"/api/v1/imports/{w['batch_id']}/errors"
    },
    ("POST", "/api/v1/identity/verify"): lambda w: {
        "path": "/api/v1/identity/verify",
        "json": {"personal_id_number": PIN, "sex": 2, "purpose": PURPOSE},
    },
    ("POST", "/api/v1/identity/verify/batch"): lambda w: {
        "path": "/api/v1/identity/verify/batch",
        "json": {"items": [{"personal_id_number": PIN, "sex": 2}], "purpose": PURPOSE},
    },
    ("GET", "/api/v1/identity/persons/<string:personal_id_number>"): lambda w: {
        "path": f"/api/v1/identity/persons/{PIN}?purpose=matrix"
    },
    ("POST", "/api/v1/identity/lookup"): lambda w: {
        "path": "/api/v1/identity/lookup",
        "json": {"personal_id_number": PIN, "purpose": PURPOSE},
    },
    ("POST", "/api/v1/identity/check"): lambda w: {
        "path": "/api/v1/identity/check",
        "json": {"personal_id_number": PIN, "purpose": PURPOSE, "predicates": {"alive": True}},
    },
    ("GET", "/api/v1/persons/<int:person_id>/access-log"): lambda w: {
        "path": f"/api/v1/persons/{w['person_id']}/access-log"
    },
    ("GET", "/api/v1/persons/<int:person_id>"): lambda w: {
        "path": f"/api/v1/persons/{w['person_id']}"
    },
    ("GET", "/api/v1/persons/search"): lambda w: {
        "path": f"/api/v1/persons/search?personal_id_number={PIN}"
    },
    ("GET", "/api/v1/persons/<int:person_id>/history"): lambda w: {
        "path": f"/api/v1/persons/{w['person_id']}/history"
    },
    ("POST", "/api/v1/persons/<int:person_id>/unmerge"): lambda w: {
        "path": f"/api/v1/persons/{w['person_id']}/unmerge",
        "json": {"source_record_ids": [2**40], "reason": "matrix"},
    },
    ("POST", "/api/v1/persons/<int:person_id>/life-events"): lambda w: {
        "path": f"/api/v1/persons/{w['person_id']}/life-events",
        "json": {"kind": "death", "reason": "matrix"},  # no civil-status record: 400
    },
    ("POST", "/api/v1/persons/<int:person_id>/corrections"): lambda w: {
        "path": f"/api/v1/persons/{w['person_id']}/corrections",
        "json": {"field": "full_name", "value": "X", "evidence": " ", "reason": "matrix"},
    },
    ("POST", "/api/v1/persons/<int:person_id>/household/end"): lambda w: {
        "path": f"/api/v1/persons/{w['person_id']}/household/end",
        "json": {"reason": "matrix"},
    },
    ("POST", "/admin/persons/<int:person_id>/household/end"): lambda w: {
        "path": f"/admin/persons/{w['person_id']}/household/end"
    },
    ("POST", "/api/v1/persons/corrections/<int:correction_id>/decision"): lambda w: {
        "path": "/api/v1/persons/corrections/999999/decision",
        "json": {"decision": "approve"},
    },
    ("GET", "/api/v1/reviews/<int:item_id>"): lambda w: {"path": "/api/v1/reviews/999999"},
    ("GET", "/api/v1/batches/<int:batch_id>/preview"): lambda w: {
        "path": f"/api/v1/batches/{w['batch_id']}/preview"
    },
    ("POST", "/api/v1/batches/<int:batch_id>/release"): lambda w: {
        "path": f"/api/v1/batches/{w['batch_id']}/release", "json": {"reason": "matrix"},
    },
    ("GET", "/api/v1/communes/<string:commune_code>/settings"): lambda w: {
        "path": f"/api/v1/communes/{COMMUNE_A}/settings"
    },
    ("PUT", "/api/v1/communes/<string:commune_code>/settings"): lambda w: {
        "path": f"/api/v1/communes/{COMMUNE_A}/settings",
        "json": {"match_preview": True, "reason": "matrix"},
    },
    ("GET", "/admin/batches/<int:batch_id>/preview"): lambda w: {
        "path": f"/admin/batches/{w['batch_id']}/preview"
    },
    ("POST", "/admin/batches/<int:batch_id>/release"): lambda w: {
        "path": f"/admin/batches/{w['batch_id']}/release"
    },
    ("POST", "/api/v1/reviews/<int:item_id>/decision"): lambda w: {
        "path": "/api/v1/reviews/999999/decision",
        "json": {"decision": "skip", "version": 1},
    },
    ("GET", "/admin/persons/<int:person_id>"): lambda w: {
        "path": f"/admin/persons/{w['person_id']}"
    },
    ("GET", "/admin/reviews/<int:item_id>"): lambda w: {"path": "/admin/reviews/1"},
    ("GET", "/admin/imports/<int:batch_id>/errors"): lambda w: {
        "path": f"/admin/imports/{w['batch_id']}/errors"
    },
    ("POST", "/admin/persons/<int:person_id>/life-events"): lambda w: {
        "path": f"/admin/persons/{w['person_id']}/life-events"
    },
    ("POST", "/admin/persons/<int:person_id>/corrections"): lambda w: {
        "path": f"/admin/persons/{w['person_id']}/corrections"
    },
    ("POST", "/admin/corrections/<int:correction_id>/decision"): lambda w: {
        "path": "/admin/corrections/1/decision"
    },
    ("POST", "/admin/persons/<int:person_id>/unmerge"): lambda w: {
        "path": f"/admin/persons/{w['person_id']}/unmerge"
    },
    ("POST", "/admin/reviews/<int:item_id>/decision"): lambda w: {
        "path": "/admin/reviews/1/decision"
    },
}


@pytest.mark.parametrize("route", sorted(EXPECTED), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_caller_gets_the_declared_status(app, callers, world, route) -> None:
    method, rule = route
    build = REQUESTS.get(route, lambda w: {"path": rule})
    got = {}
    for caller in CALLERS:
        kwargs = build(world)
        path = kwargs.pop("path")
        r = app.test_client().open(path, method=method, headers=callers[caller], **kwargs)
        got[caller] = r.status_code
    assert got == EXPECTED[route]


def test_an_agency_never_receives_a_field_it_was_not_granted(client, callers, world) -> None:
    body = client.get(f"/api/v1/identity/persons/{PIN}?purpose=x-check",
                      headers=callers["agency_lookup"]).get_json()  # fmt: skip
    assert set(body) == {"personal_id_number", "full_name", "dob", "request_id"}


def test_police_cannot_read_another_communes_batch(client, callers, world) -> None:
    r = client.get(f"/api/v1/imports/{world['batch_id']}", headers=callers["police_b"])
    assert r.status_code == 403 and COMMUNE_B in r.get_json()["message"]
