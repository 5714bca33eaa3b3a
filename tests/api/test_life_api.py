"""Life events, corrections and as-of reads over HTTP: admins record and correct, agencies
see status only where granted, and both read the past."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from tests.support.persons import add_person

PIN = "001190000001"
PURPOSE = "xét trợ cấp"


def _agency(make_client, fields):
    return make_client("agency", legal_basis="a",
                       operations=["verify", "verify_batch", "lookup", "predicates"],
                       fields=fields, rate_per_second=1000)[1]  # fmt: skip


def _death(client, headers, person_id):
    return client.post(f"/api/v1/persons/{person_id}/life-events", headers=headers, json={
        "kind": "death", "occurred_on": "2026-01-05", "record_reference": "KT-2026/12",
        "reason": "death registered at the commune"})  # fmt: skip


def test_a_deceased_person_verifies_as_a_match_with_status_only_where_granted(
    client, session, make_client
):
    person = add_person(session, personal_id_number=PIN)
    _, admin = make_client("admin")
    assert _death(client, admin, person.id).status_code == 201
    granted = _agency(make_client, ["full_name", "status"])
    plain = _agency(make_client, ["full_name"])
    body = {"personal_id_number": PIN, "full_name": "Nguyễn Thị Hòa", "purpose": PURPOSE}
    yes = client.post("/api/v1/identity/verify", json=body, headers=granted).get_json()
    assert yes["match"] is True and yes["status"] == "deceased"
    other = client.post("/api/v1/identity/verify", json=body, headers=plain).get_json()
    assert other["match"] is True and "status" not in other
    wrong = client.post("/api/v1/identity/verify", headers=granted,
                        json={**body, "full_name": "Trần Văn An"}).get_json()  # fmt: skip
    assert wrong == {"match": False, "request_id": wrong["request_id"]}
    check = client.post("/api/v1/identity/check", headers=plain, json={
        "personal_id_number": PIN, "purpose": PURPOSE, "predicates": {"alive": True}})
    assert check.get_json()["answers"] == {"alive": False}
    found = client.get(f"/api/v1/identity/persons/{PIN}?purpose={PURPOSE}", headers=granted)
    assert found.get_json()["status"] == "deceased"


def test_a_death_without_its_record_is_refused(client, session, make_client):
    person = add_person(session, personal_id_number=PIN)
    _, admin = make_client("admin")
    r = client.post(f"/api/v1/persons/{person.id}/life-events", headers=admin,
                    json={"kind": "death", "reason": "heard so"})  # fmt: skip
    assert r.status_code == 400
    assert r.get_json()["code"] == "invalid_input"


def test_identity_corrections_take_two_admins_over_the_api(client, session, make_client):
    person = add_person(session, personal_id_number=PIN)
    _, first = make_client("admin")
    _, second = make_client("admin")
    made = client.post(f"/api/v1/persons/{person.id}/corrections", headers=first, json={
        "field": "dob", "value": "1990-06-12", "evidence": "birth certificate 12/1990",
        "reason": "month mistyped"})  # fmt: skip
    assert made.status_code == 201, made.get_json()
    c = made.get_json()
    assert c["status"] == "pending" and c["four_eyes"] is True
    url = f"/api/v1/persons/corrections/{c['id']}/decision"
    own = client.post(url, headers=first, json={"decision": "approve", "version": c["version"]})
    assert own.status_code == 403
    ok = client.post(url, headers=second, json={"decision": "approve", "version": c["version"]})
    assert ok.get_json()["status"] == "applied"
    golden = client.get(f"/api/v1/persons/{person.id}", headers=first).get_json()
    assert golden["fields"]["dob"] == "1990-06-12"
    back = client.post(url, headers=second, json={"decision": "revert", "reason": "wrong"})
    assert back.get_json()["status"] == "reverted"


def test_as_of_reads_show_the_past_to_admins_and_agencies(client, session, make_client):
    person = add_person(session, personal_id_number=PIN)
    session.execute(sa.text("INSERT INTO person_pin (person_id, personal_id_number, reason) "
                            "VALUES (:p, :n, 'kept')"), {"p": person.id, "n": PIN})
    session.execute(sa.text("UPDATE person SET created_at = '2025-06-01' WHERE id = :p"),
                    {"p": person.id})
    session.execute(sa.text("UPDATE person_pin SET assigned_at = '2025-06-01' "
                            "WHERE person_id = :p"), {"p": person.id})  # fmt: skip
    _, admin = make_client("admin")
    assert _death(client, admin, person.id).status_code == 201
    today = dt.date.today().isoformat()
    then = client.get(f"/api/v1/persons/{person.id}?as_of=2025-12-31", headers=admin).get_json()
    assert then["status"] == "active" and then["as_of"] == "2025-12-31"
    assert then["personal_id_number"] == PIN
    now = client.get(f"/api/v1/persons/{person.id}?as_of={today}", headers=admin).get_json()
    assert now["status"] == "deceased"
    agency = _agency(make_client, ["full_name", "status"])
    past = client.get(f"/api/v1/identity/persons/{PIN}?purpose={PURPOSE}&as_of=2025-12-31",
                      headers=agency).get_json()  # fmt: skip
    assert past["status"] == "active" and past["full_name"] == "Nguyễn Thị Hòa"
    before = client.get(f"/api/v1/identity/persons/{PIN}?purpose={PURPOSE}&as_of=2025-01-01",
                        headers=agency)  # fmt: skip
    assert before.status_code == 404
    audited = session.scalars(sa.text(
        "SELECT detail ->> 'as_of' FROM audit_event WHERE action IN "
        "('person.read', 'identity.lookup') AND detail ? 'as_of' ORDER BY id")).all()
    assert audited == ["2025-12-31", today, "2025-12-31", "2025-01-01"]


def test_the_admin_person_page_records_a_death_and_a_correction(client, session, make_client):
    import re

    person = add_person(session, personal_id_number=PIN)
    _, headers = make_client("admin")
    page = client.get("/admin/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    key = headers["Authorization"].removeprefix("Bearer ")
    client.post("/admin/sign-in", data={"api_key": key, "csrf_token": token})
    # sign-in issues a fresh CSRF token: the forms after it carry the new one
    page = client.get(f"/admin/persons/{person.id}").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    r = client.post(f"/admin/persons/{person.id}/life-events", data={
        "csrf_token": token, "kind": "death", "occurred_on": "2026-01-05",
        "record_reference": "KT-9", "reason": "civil status"})  # fmt: skip
    assert r.status_code == 302
    client.post(f"/admin/persons/{person.id}/corrections", data={
        "csrf_token": token, "field": "phone", "value": "0912345678", "evidence": "call",
        "reason": "new number"})  # fmt: skip
    shown = client.get(f"/admin/persons/{person.id}").get_data(as_text=True)
    assert "deceased" in shown and "KT-9" in shown and "0912345678" in shown
    assert "Request correction" not in shown or "phone" in shown
