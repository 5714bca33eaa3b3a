"""Households over HTTP: an agency sees one only where its policy grants `household` (and
then only the address, the relation and the members' names and relations); every member it
names is audited; administrators see the household and past memberships, and end one."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from popdb.identity.policy import BASIC_FIELDS, build_policy
from tests.api.test_access_rules import _admin_signed_in
from tests.support.persons import add_person

PURPOSE = "xác minh hộ gia đình"
HEAD_PIN, WIFE_PIN, CHILD_PIN = "001070000201", "001172000202", "001200000203"
ADDRESS = "Số 12 ngõ 5 phố Kim Mã, Phường Ba Đình, Hà Nội"
ALL_OPERATIONS = ["verify", "verify_batch", "lookup", "predicates"]


@pytest.fixture
def family(session):
    """A head, his wife and their child in one household; the child also has a past one."""
    head = add_person(session, personal_id_number=HEAD_PIN, full_name="Nguyễn Văn An",
                      dob=(1970, 2, 1), sex=1)  # fmt: skip
    wife = add_person(session, personal_id_number=WIFE_PIN, full_name="Trần Thị Bình",
                      dob=(1972, 4, 3), sex=2)  # fmt: skip
    child = add_person(session, personal_id_number=CHILD_PIN, full_name="Nguyễn Văn Cường",
                       dob=(2000, 6, 5), sex=1)  # fmt: skip
    run = session.execute
    batch = run(sa.text(
        "INSERT INTO import_batch (commune_code, file_name, sha256, size_bytes, collected_on) "
        "VALUES ('00004', 'f.csv', repeat('a', 64), 1, '2025-08-01') RETURNING id")).scalar_one()
    house, old = (run(sa.text(
        "INSERT INTO household (commune_code, household_key, household_number, address) "
        "VALUES ('00004', :k, :n, :a) RETURNING id"), {"k": f"no:{n}", "n": n, "a": a}
    ).scalar_one() for n, a in (("HK-1", ADDRESS), ("HK-0", "Số 1 phố Huế, Hà Nội")))
    rows = [(old, child.id, "grandchild", "2020-01-01", "2025-08-01"),
            (house, head.id, "head", "2025-08-01", None),
            (house, wife.id, "wife", "2025-08-01", None),
            (house, child.id, "child", "2025-08-01", None)]  # fmt: skip
    for i, (h, p, relation, since, until) in enumerate(rows):
        run(sa.text(
            "INSERT INTO household_membership (household_id, person_id, relation, valid_from, "
            "valid_to, ended_at, end_reason, source_record_id, batch_id, started_by, "
            "start_reason) VALUES (:h, :p, :r, :f, :t, CASE WHEN :t IS NULL THEN NULL ELSE "
            "now() END, CASE WHEN :t IS NULL THEN NULL ELSE 'moved' END, :s, :b, 'test', "
            "'joined')"),
            {"h": h, "p": p, "r": relation, "f": since, "t": until, "s": 900 + i, "b": batch})
    return {"head": head.id, "wife": wife.id, "child": child.id, "household": house}


def lookup(client, headers, number=WIFE_PIN, **query):
    return client.get(f"/api/v1/identity/persons/{number}",
                      query_string={"purpose": PURPOSE, **query}, headers=headers)  # fmt: skip


def test_an_agency_granted_household_sees_address_relation_and_members_only(
    client, session, make_client, family
):
    _, agency = make_client("agency", legal_basis="a", operations=["lookup"],
                            fields=["full_name", "household"])  # fmt: skip
    r = lookup(client, agency)
    assert r.status_code == 200
    body = r.get_json()
    assert body["household"] == {
        "address": ADDRESS, "commune_code": "00004", "relation": "wife", "relation_label": "Vợ",
        "members": [
            {"full_name": "Nguyễn Văn An", "relation": "head", "relation_label": "Chủ hộ"},
            {"full_name": "Trần Thị Bình", "relation": "wife", "relation_label": "Vợ"},
            {"full_name": "Nguyễn Văn Cường", "relation": "child", "relation_label": "Con"},
        ],
    }  # fmt: skip
    text = json.dumps(body, ensure_ascii=False)
    for secret in ("HK-1", HEAD_PIN, CHILD_PIN, "1970", str(family["head"]) + ","):
        assert secret not in text
    # the read is audited with the field, and each other member named gets their own entry
    lookup_event = session.execute(sa.text(
        "SELECT fields, subject_id FROM audit_event WHERE action = 'identity.lookup' "
        "ORDER BY id DESC LIMIT 1")).one()  # fmt: skip
    assert "household" in lookup_event.fields and lookup_event.subject_id == str(family["wife"])
    members = session.execute(sa.text(
        "SELECT subject_id, purpose, detail ->> 'via_person_id' FROM audit_event "
        "WHERE action = 'identity.lookup.household_member' ORDER BY subject_id")).all()
    assert sorted(m[0] for m in members) == sorted([str(family["head"]), str(family["child"])])
    assert {(m[1], m[2]) for m in members} == {(PURPOSE, str(family["wife"]))}


def test_a_person_without_a_household_answers_null_to_the_grant(client, make_client, session):
    add_person(session, personal_id_number="001190000299")
    _, agency = make_client("agency", legal_basis="a", operations=["lookup"],
                            fields=["household"])  # fmt: skip
    assert lookup(client, agency, "001190000299").get_json()["household"] is None


def test_an_agency_without_the_grant_learns_nothing_of_the_household_by_any_route(
    client, make_client, family
):
    _, agency = make_client("agency", legal_basis="a", operations=ALL_OPERATIONS,
                            fields=list(BASIC_FIELDS))  # fmt: skip
    answers = [
        lookup(client, agency),
        lookup(client, agency, as_of=dt.date.today().isoformat()),
        client.post("/api/v1/identity/lookup", json={"personal_id_number": WIFE_PIN,
                                                     "purpose": PURPOSE}, headers=agency),
        client.post("/api/v1/identity/verify", json={
            "personal_id_number": WIFE_PIN, "full_name": "Trần Thị Bình", "purpose": PURPOSE},
            headers=agency),
        client.post("/api/v1/identity/verify/batch", json={"purpose": PURPOSE, "items": [
            {"personal_id_number": n, "full_name": "Trần Thị Bình"}
            for n in (WIFE_PIN, HEAD_PIN, CHILD_PIN)]}, headers=agency),
        client.post("/api/v1/identity/check", json={
            "personal_id_number": WIFE_PIN, "purpose": PURPOSE,
            "predicates": {"alive": True, "age_at_least": 18, "resides_in": "01"}},
            headers=agency),
    ]  # fmt: skip
    assert [a.status_code for a in answers] == [200] * len(answers)
    for a in answers:
        text = json.dumps(a.get_json(), ensure_ascii=False)
        assert "household" not in text
        for name in ("Nguyễn Văn An", "Nguyễn Văn Cường", "Chủ hộ", ADDRESS):
            assert name not in text


def test_household_is_granted_by_name_only_never_by_basic():
    assert "household" not in build_policy(role="agency", fields="basic", rate=None)["fields"]
    assert "household" in build_policy(role="agency", fields="basic,household", rate=None)[
        "fields"]


def test_an_as_of_lookup_gives_the_household_of_then(client, session, make_client, family):
    session.execute(sa.text("UPDATE person SET created_at = '2025-01-01'"))
    # the old membership recorded in July and ended on 3 August, when the new ones came
    session.execute(sa.text("UPDATE household_membership SET created_at = '2025-08-03 12:00Z'"))
    session.execute(sa.text("UPDATE household_membership SET created_at = '2025-07-01', "
                            "ended_at = '2025-08-03 12:00Z' WHERE valid_to IS NOT NULL"))
    _, agency = make_client("agency", legal_basis="a", operations=["lookup"],
                            fields=["household"])  # fmt: skip
    then = lookup(client, agency, CHILD_PIN, as_of="2025-08-02").get_json()["household"]
    assert then["relation"] == "grandchild" and then["address"] == "Số 1 phố Huế, Hà Nội"
    now = lookup(client, agency, CHILD_PIN).get_json()["household"]
    assert now["relation"] == "child" and now["address"] == ADDRESS


def test_admins_see_the_household_and_past_memberships_and_end_one(
    client, session, make_client, family
):
    _, admin = make_client("admin")
    body = client.get(f"/api/v1/persons/{family['child']}", headers=admin).get_json()
    current = body["household"]["current"]
    assert current["household_number"] == "HK-1" and current["relation_label"] == "Con"
    assert current["head"] == {"person_id": family["head"], "full_name": "Nguyễn Văn An"}
    assert [m["relation_label"] for m in current["members"]] == ["Chủ hộ", "Vợ", "Con"]
    [past] = body["household"]["past"]
    assert (past["household_number"], past["valid_to"], past["relation_label"]) == (
        "HK-0", "2025-08-01", "Cháu nội/ngoại")
    refused = client.post(f"/api/v1/persons/{family['child']}/household/end", json={},
                          headers=admin)  # fmt: skip
    assert refused.status_code == 400 and "reason" in refused.get_json()["errors"]["json"]
    ended = client.post(f"/api/v1/persons/{family['child']}/household/end",
                        json={"reason": "đi du học", "valid_to": "2026-01-02"}, headers=admin)
    assert ended.status_code == 200 and ended.get_json()["valid_to"] == "2026-01-02"
    after = client.get(f"/api/v1/persons/{family['child']}", headers=admin).get_json()
    assert after["household"]["current"] is None
    assert after["household"]["past"][0]["end_reason"] == "đi du học"
    history = client.get(f"/api/v1/persons/{family['child']}/history", headers=admin).get_json()
    assert history["items"][-1]["kind"] == "household"
    _, agency = make_client("agency", legal_basis="a", operations=["lookup"], fields=["household"])
    denied = client.post(f"/api/v1/persons/{family['child']}/household/end",
                         json={"reason": "x"}, headers=agency)  # fmt: skip
    assert denied.status_code == 403


def test_the_person_page_shows_the_household_and_its_form_ends_the_membership(
    client, session, make_client, family
):
    token = _admin_signed_in(client, make_client)
    html = client.get(f"/admin/persons/{family['child']}").get_data(as_text=True)
    assert 'id="household"' in html and ADDRESS in html
    assert "Nguyễn Văn An" in html and "Chủ hộ" in html and "Trần Thị Bình" in html
    assert "HK-0" in html and "Cháu nội/ngoại" in html  # the past membership
    done = client.post(f"/admin/persons/{family['child']}/household/end",
                       data={"reason": "tách hộ", "valid_to": "2026-02-01", "csrf_token": token})
    assert done.status_code == 302
    after = client.get(f"/admin/persons/{family['child']}").get_data(as_text=True)
    assert "No current household." in after and "tách hộ" in after
    assert "Left household" in after  # the history says it in words
