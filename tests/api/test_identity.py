"""Agency identity: yes/no verification, granted-field lookups, predicates, purpose, consent,
rate limits, enumeration blocking, and an audit event for every call."""

from __future__ import annotations

import dataclasses
import datetime as dt
import unicodedata

import pytest
import sqlalchemy as sa

from popdb.core import audit
from popdb.core.models import AdminUnit, ApiClient, AuditEvent
from tests.support.persons import add_person, retire_into

HOA = "001190000001"
RETIRED = "001190000002"
OLD = "001190000003"
UNKNOWN = "001190999999"
PURPOSE = "mở tài khoản ngân hàng"


@pytest.fixture
def hoa(session):
    survivor = add_person(session, personal_id_number=HOA, old_numbers=(OLD,))
    twin = add_person(session, personal_id_number=RETIRED, full_name="Nguyễn Thị Hoà")
    retire_into(session, twin, survivor)
    return survivor


@pytest.fixture
def agency(make_client):
    """Every operation, basic fields only."""
    return make_client(
        "agency", legal_basis="a",
        operations=["verify", "verify_batch", "lookup", "predicates"],
        fields=["full_name", "dob", "sex"], rate_per_second=1000,
    )[1]  # fmt: skip


def verify(client, headers, **body):
    body.setdefault("purpose", PURPOSE)
    return client.post("/api/v1/identity/verify", json=body, headers=headers)


def events(session, action):
    return list(
        session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def test_a_matching_claim_is_true_and_a_wrong_one_false_in_the_same_shape(
    client, hoa, agency
) -> None:
    yes = verify(client, agency, personal_id_number=HOA, full_name="Nguyễn Thị Hòa",
                 dob="1990-05-12", sex=2)  # fmt: skip
    no = verify(client, agency, personal_id_number=HOA, full_name="Nguyễn Thị Hòa", sex=1)
    unknown = verify(client, agency, personal_id_number=UNKNOWN, full_name="Nguyễn Thị Hòa")
    assert yes.status_code == no.status_code == unknown.status_code == 200
    assert yes.get_json()["match"] is True
    assert no.get_json()["match"] is False and unknown.get_json()["match"] is False
    assert {frozenset(r.get_json()) for r in (yes, no, unknown)} == {
        frozenset({"match", "request_id"})
    }


@pytest.mark.parametrize(
    "claimed",
    ["NGUYỄN THỊ HOÀ", "  nguyễn   thị hòa ", unicodedata.normalize("NFD", "Nguyễn Thị Hòa")],
)
def test_names_compare_after_normalization(client, hoa, agency, claimed) -> None:
    r = verify(client, agency, personal_id_number=HOA, full_name=claimed)
    assert r.get_json()["match"] is True


def test_diacritics_are_ignored_only_when_the_policy_says_so(client, hoa, make_client) -> None:
    _, exact = make_client("agency", legal_basis="a", operations=["verify"])
    _, folding = make_client("agency", legal_basis="a", operations=["verify"],
                             name_matching="fold")  # fmt: skip
    ascii_name = {"personal_id_number": HOA, "full_name": "NGUYEN THI HOA"}
    assert verify(client, exact, **ascii_name).get_json()["match"] is False
    assert verify(client, folding, **ascii_name).get_json()["match"] is True


def test_a_number_retired_by_a_merge_answers_for_the_survivor(client, hoa, agency) -> None:
    for number in (RETIRED, OLD):
        r = verify(client, agency, personal_id_number=number, full_name="Nguyễn Thị Hòa",
                   dob="1990-05-12")  # fmt: skip
        assert r.get_json()["match"] is True, number
    body = client.get(f"/api/v1/identity/persons/{RETIRED}?purpose=kyc", headers=agency)
    assert body.get_json()["personal_id_number"] == HOA


def test_a_claimed_date_must_be_as_precise_as_the_registry(client, session, agency) -> None:
    add_person(session, personal_id_number="001050000010", dob=(1950, None, None))
    hoa = {"personal_id_number": HOA}
    add_person(session, personal_id_number=HOA)
    assert verify(client, agency, **hoa, dob="1990").get_json()["match"] is False
    assert verify(client, agency, **hoa, dob="1990-05-12").get_json()["match"] is True
    old = {"personal_id_number": "001050000010"}
    assert verify(client, agency, **old, dob="1950-07-01").get_json()["match"] is True
    assert verify(client, agency, **old, dob="1951-07-01").get_json()["match"] is False


def test_a_bare_number_is_refused_so_verify_is_no_existence_oracle(client, hoa, agency) -> None:
    r = verify(client, agency, personal_id_number=HOA)
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_input"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/v1/identity/verify", {"personal_id_number": HOA, "sex": 2}),
        (
            "post",
            "/api/v1/identity/verify/batch",
            {"items": [{"personal_id_number": HOA, "sex": 2}]},
        ),  # fmt: skip
        ("get", f"/api/v1/identity/persons/{HOA}", None),
        (
            "post",
            "/api/v1/identity/check",
            {"personal_id_number": HOA, "predicates": {"alive": True}},
        ),  # fmt: skip
    ],
)
def test_every_identity_call_needs_a_purpose(client, hoa, agency, method, path, body) -> None:
    r = getattr(client, method)(path, json=body, headers=agency)
    assert r.status_code == 400
    assert "purpose" in r.get_json()["errors"].get("json", r.get_json()["errors"].get("query"))


def test_bad_input_names_the_field(client, agency) -> None:
    r = verify(client, agency, personal_id_number="12345", dob="1990-13-01", shoe_size=42)
    errors = r.get_json()["errors"]["json"]
    assert r.status_code == 400
    assert {"personal_id_number", "dob", "shoe_size"} <= set(errors)


def test_consent_based_clients_must_send_a_consent_reference(client, hoa, make_client,
                                                             session) -> None:  # fmt: skip
    _, bank = make_client("agency", legal_basis="đ", operations=["verify"])
    claim = {"personal_id_number": HOA, "full_name": "Nguyễn Thị Hòa"}
    refused = verify(client, bank, **claim)
    assert refused.status_code == 400 and "consent_ref" in refused.get_json()["errors"]
    ok = verify(client, bank, **claim, consent_ref="VNeID-consent-42")
    assert ok.status_code == 200 and ok.get_json()["match"] is True
    assert events(session, "identity.verify")[-1].detail["consent_ref"] == "VNeID-consent-42"


def test_the_officer_header_is_audited_and_checked(client, hoa, agency, session) -> None:
    claim = {"personal_id_number": HOA, "sex": 2}
    r = verify(client, {**agency, "X-Officer-Id": "cb-0042"}, **claim)
    assert r.status_code == 200
    assert events(session, "identity.verify")[-1].detail["officer_id"] == "cb-0042"
    bad = verify(client, {**agency, "X-Officer-Id": "x" * 65}, **claim)
    assert bad.status_code == 400


def test_batch_answers_in_order_and_refuses_more_than_1000(client, hoa, agency) -> None:
    items = [
        {"personal_id_number": HOA, "full_name": "Nguyễn Thị Hòa"},
        {"personal_id_number": UNKNOWN, "full_name": "Nguyễn Thị Hòa"},
        {"personal_id_number": RETIRED, "dob": "1990-05-12"},
    ]
    r = client.post("/api/v1/identity/verify/batch", json={"purpose": PURPOSE, "items": items},
                    headers=agency)  # fmt: skip
    assert r.status_code == 200
    assert [i["match"] for i in r.get_json()["items"]] == [True, False, True]
    too_many = client.post(
        "/api/v1/identity/verify/batch",
        json={"purpose": PURPOSE, "items": [items[0]] * 1001}, headers=agency,
    )  # fmt: skip
    assert too_many.status_code == 400


def test_lookup_returns_exactly_the_granted_fields(client, session, make_client) -> None:
    add_person(session, personal_id_number=HOA, ethnicity_code="01", religion_code="02",
               current_address="12 Hàng Bạc")  # fmt: skip
    _, basic = make_client("agency", legal_basis="a", operations=["lookup"],
                           fields=["full_name", "dob"])  # fmt: skip
    _, sensitive = make_client("agency", legal_basis="b", operations=["lookup"],
                               fields=["ethnicity"])  # fmt: skip
    body = client.get(f"/api/v1/identity/persons/{HOA}?purpose=kyc", headers=basic).get_json()
    assert set(body) == {"personal_id_number", "full_name", "dob", "request_id"}
    assert body["dob"] == "1990-05-12" and body["full_name"] == "Nguyễn Thị Hòa"
    body = client.get(f"/api/v1/identity/persons/{HOA}?purpose=x-case", headers=sensitive)
    assert set(body.get_json()) == {"personal_id_number", "ethnicity", "request_id"}
    assert "religion" not in body.get_data(as_text=True)


def test_lookup_needs_the_lookup_grant_and_answers_404_for_an_unknown_number(
    client, hoa, make_client, agency
) -> None:
    _, verifier = make_client("agency", legal_basis="a", operations=["verify"])
    r = client.get(f"/api/v1/identity/persons/{HOA}?purpose=kyc", headers=verifier)
    assert r.status_code == 403 and "lookup" in r.get_json()["message"]
    missing = client.get(f"/api/v1/identity/persons/{UNKNOWN}?purpose=kyc", headers=agency)
    assert missing.status_code == 404 and missing.get_json()["code"] == "not_found"
    assert (
        client.get("/api/v1/identity/persons/12ab?purpose=kyc", headers=agency).status_code == 400
    )


def test_predicates_answer_yes_or_no(client, session, agency) -> None:
    commune = session.scalars(
        sa.select(AdminUnit).where(AdminUnit.level == "commune", AdminUnit.vintage == "2025-07")
    ).first()
    add_person(session, personal_id_number=HOA, dob=(2008, None, None),
               current_commune_code=commune.code)  # fmt: skip
    add_person(session, personal_id_number="001050000010", status="deceased")
    today = dt.date.today()
    ask = {
        "alive": True,
        "age_at_least": today.year - 2008 - 1,
        "resides_in": commune.province_code,
    }

    def check(number, predicates):
        r = client.post("/api/v1/identity/check", headers=agency,
                        json={"personal_id_number": number, "purpose": PURPOSE,
                              "predicates": predicates})  # fmt: skip
        assert r.status_code == 200, r.get_json()
        return r.get_json()["answers"]

    assert check(HOA, ask) == {"alive": True, "age_at_least": True, "resides_in": True}
    # born some day in 2008: not surely that old until the year is over
    assert check(HOA, {"age_at_least": today.year - 2008})["age_at_least"] is (
        today == dt.date(today.year, 12, 31)
    )
    other = "99" if commune.province_code != "99" else "98"
    assert check(HOA, {"resides_in": other}) == {"resides_in": False}
    assert check("001050000010", {"alive": True}) == {"alive": False}
    assert check(UNKNOWN, ask) == {"alive": False, "age_at_least": False, "resides_in": False}


def test_predicates_need_their_grant(client, hoa, make_client) -> None:
    _, verifier = make_client("agency", legal_basis="a", operations=["verify"])
    r = client.post("/api/v1/identity/check", headers=verifier,
                    json={"personal_id_number": HOA, "purpose": PURPOSE,
                          "predicates": {"alive": True}})  # fmt: skip
    assert r.status_code == 403


def test_every_identity_call_writes_an_audit_event_with_the_fields(client, hoa, agency,
                                                                   session) -> None:  # fmt: skip
    verify(client, agency, personal_id_number=HOA, full_name="Nguyễn Thị Hòa", dob="1990-05-12")
    client.get(f"/api/v1/identity/persons/{HOA}?purpose=kyc", headers=agency)
    client.post("/api/v1/identity/check", headers=agency,
                json={"personal_id_number": HOA, "purpose": "age check",
                      "predicates": {"age_at_least": 18}})  # fmt: skip
    v, lk, ck = (events(session, a)[-1] for a in
                 ("identity.verify", "identity.lookup", "identity.check"))  # fmt: skip
    assert (v.subject_type, v.subject_id) == ("person", str(hoa.id))
    assert v.fields == ["dob", "full_name"] and v.purpose == PURPOSE and v.legal_basis == "a"
    assert v.detail["match"] is True and v.role == "agency"
    assert lk.fields == ["full_name", "dob", "sex"] and lk.purpose == "kyc"
    assert ck.fields == ["age_at_least"] and ck.detail["answers"] == {"age_at_least": True}
    assert v.request_id and v.request_id != lk.request_id


def test_the_audit_chain_verifies_after_a_burst_of_calls(client, hoa, agency, session) -> None:
    items = [{"personal_id_number": HOA, "sex": 2}] * 50
    for i in range(20):
        verify(client, agency, personal_id_number=HOA, sex=2 if i % 2 else 1)
    client.post("/api/v1/identity/verify/batch", json={"purpose": PURPOSE, "items": items},
                headers=agency)  # fmt: skip
    assert len(events(session, "identity.verify_batch")) == 50
    verdict = audit.verify(session.connection())
    assert verdict.ok, verdict


def test_a_client_over_its_rate_gets_429_with_retry_after(client, hoa, make_client) -> None:
    # The test's transaction fixes now(), so every call falls in one one-second window.
    _, slow = make_client("agency", legal_basis="a", operations=["verify"], rate_per_second=2)
    claim = {"personal_id_number": HOA, "sex": 2}
    assert [verify(client, slow, **claim).status_code for _ in range(2)] == [200, 200]
    r = verify(client, slow, **claim)
    assert r.status_code == 429 and r.get_json()["code"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 1


def test_a_daily_quota_answers_429_until_the_day_ends(client, hoa, make_client) -> None:
    _, quota = make_client("agency", legal_basis="a", operations=["verify"], rate_per_day=1)
    claim = {"personal_id_number": HOA, "sex": 2}
    assert verify(client, quota, **claim).status_code == 200
    r = verify(client, quota, **claim)
    assert r.status_code == 429 and r.get_json()["errors"] == {"limit": "per_day"}
    assert 1 <= int(r.headers["Retry-After"]) <= 86_400


def test_enumerating_numbers_is_flagged_then_blocked(app, client, hoa, make_client,
                                                     session) -> None:  # fmt: skip
    settings = app.config["POPDB_SETTINGS"]
    app.config["POPDB_SETTINGS"] = dataclasses.replace(
        settings, enumeration_flag_misses=3, enumeration_block_misses=6
    )
    client_id, prober = make_client("agency", legal_basis="a",
                                    operations=["verify", "verify_batch"])  # fmt: skip
    for n in range(5):
        r = verify(client, prober, personal_id_number=f"00119070{n:04d}", sex=1)
        assert r.get_json()["match"] is False
    flagged = events(session, "identity.enumeration_flagged")
    assert [e.subject_id for e in flagged] == [str(client_id)]
    # a batch of guesses reaches the block threshold: refused whole, the client is suspended
    guesses = [{"personal_id_number": f"00119080{n:04d}", "sex": 1} for n in range(3)]
    r = client.post("/api/v1/identity/verify/batch", json={"purpose": "x" * 3, "items": guesses},
                    headers=prober)  # fmt: skip
    assert r.status_code == 403 and "items" not in r.get_json(), r.get_json()
    blocked = verify(client, prober, personal_id_number=HOA, sex=2)
    assert blocked.status_code == 403 and blocked.get_json()["code"] == "client_suspended"
    assert session.get(ApiClient, client_id).suspended_at is not None
    assert events(session, "client.suspended")[-1].subject_id == str(client_id)


def test_an_agency_matching_its_own_customers_is_not_flagged(app, client, hoa, agency,
                                                             session) -> None:  # fmt: skip
    app.config["POPDB_SETTINGS"] = dataclasses.replace(
        app.config["POPDB_SETTINGS"], enumeration_flag_misses=3, enumeration_block_misses=6
    )
    for _ in range(20):
        assert verify(client, agency, personal_id_number=HOA, sex=2).status_code == 200
    assert events(session, "identity.enumeration_flagged") == []


def test_an_expired_client_is_refused(client, hoa, session, make_client) -> None:
    client_id, old = make_client("agency", legal_basis="a", operations=["verify"])
    session.get(ApiClient, client_id).expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    session.flush()
    r = verify(client, old, personal_id_number=HOA, sex=2)
    assert r.status_code == 401 and r.get_json()["code"] == "client_expired"


def test_a_body_over_the_identity_limit_is_413(app, client, agency) -> None:
    app.config["POPDB_SETTINGS"] = dataclasses.replace(
        app.config["POPDB_SETTINGS"], identity_max_body_bytes=1000
    )
    r = verify(client, agency, personal_id_number=HOA, full_name="x" * 2000)
    assert r.status_code == 413 and r.get_json()["code"] == "request_entity_too_large"


def test_a_policy_without_legal_basis_may_not_use_identity_data(client, hoa,
                                                                make_client) -> None:  # fmt: skip
    _, nobasis = make_client("agency", operations=["verify"])
    assert verify(client, nobasis, personal_id_number=HOA, sex=2).status_code == 403


def test_the_access_log_shows_who_read_what_and_why(client, hoa, agency, make_client) -> None:
    _, admin = make_client("admin")
    client.get(f"/api/v1/identity/persons/{HOA}?purpose=kyc",
               headers={**agency, "X-Officer-Id": "cb-7"})  # fmt: skip
    # a read through the retired number shows on the survivor too
    verify(client, agency, personal_id_number=RETIRED, sex=2, purpose="loan file")
    r = client.get(f"/api/v1/persons/{hoa.id}/access-log", headers=admin)
    assert r.status_code == 200
    items = r.get_json()["items"]
    assert [(i["action"], i["purpose"]) for i in items] == [
        ("identity.verify", "loan file"),
        ("identity.lookup", "kyc"),
    ]
    assert items[1]["fields"] == ["full_name", "dob", "sex"] and items[1]["officer_id"] == "cb-7"
    assert items[1]["client_name"] == "test agency" and items[1]["legal_basis"] == "a"
    # the admin's read is itself audited and shows next time
    again = client.get(f"/api/v1/persons/{hoa.id}/access-log?limit=1", headers=admin).get_json()
    assert again["items"][0]["action"] == "person.access_log_read" and again["next"]
    assert client.get(f"/api/v1/persons/{hoa.id}/access-log", headers=agency).status_code == 403
    assert client.get("/api/v1/persons/999999999/access-log", headers=admin).status_code == 404
