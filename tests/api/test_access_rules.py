"""Deny by default: every route declares who may call it; keys and roles are checked."""

from __future__ import annotations

import re

from api.auth import rule_for


def test_every_route_in_the_url_map_has_an_explicit_access_rule(app) -> None:
    missing = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            with app.test_request_context(rule.rule, method=method):
                if rule_for(app, rule.endpoint) is None:
                    missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert missing == []


def test_a_route_without_a_rule_is_refused_even_to_admins(app, make_client) -> None:
    @app.get("/unruled")
    def unruled():  # type: ignore[no-untyped-def]
        return {"leak": True}

    _, headers = make_client("admin")
    r = app.test_client().get("/unruled", headers=headers)
    assert r.status_code == 403 and "leak" not in r.get_data(as_text=True)


def test_protected_routes_need_a_bearer_key(client) -> None:
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert r.get_json()["code"] == "unauthorized"
    bad = client.get("/api/v1/me", headers={"Authorization": "Bearer pdb_not-a-key"})
    assert bad.status_code == 401
    basic = client.get("/api/v1/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401


def test_a_valid_key_identifies_its_client(client, make_client) -> None:
    client_id, headers = make_client("police", commune_code="00004")
    body = client.get("/api/v1/me", headers=headers).get_json()
    assert body["client_id"] == client_id
    assert body["role"] == "police" and body["commune_code"] == "00004"
    assert "key" not in str(body).lower()


def _admin_signed_in(client, make_client) -> str:
    """Sign in through the form as a browser would; returns the page's CSRF token."""
    _, headers = make_client("admin")
    page = client.get("/admin/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    key = headers["Authorization"].removeprefix("Bearer ")
    signed = client.post("/admin/sign-in", data={"api_key": key, "csrf_token": token[1]})
    assert signed.status_code == 302
    # sign-in issues a fresh CSRF token (issue 22): the forms after it carry the new one
    fresh = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/admin/sign-in").get_data(as_text=True)
    )
    assert fresh is not None and fresh[1] != token[1]
    return fresh[1]


def test_sign_out_needs_the_forms_csrf_token(client, make_client) -> None:
    token = _admin_signed_in(client, make_client)
    forged = client.post("/admin/sign-out")  # a cross-site form cannot know the token
    assert forged.status_code == 400
    assert client.get("/admin/reviews").status_code == 200  # still signed in
    signed_out = client.post("/admin/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 302
    assert client.get("/admin/reviews").status_code == 302  # back to the sign-in page
