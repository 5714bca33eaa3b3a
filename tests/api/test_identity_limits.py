"""Enumeration through verify batches and predicates (issue 22 items 3 and 4): each attack as
it was reported, refused before it learns anything."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import sqlalchemy as sa

from popdb.core.models import AdminUnit, ApiClient, AuditEvent
from tests.support.persons import add_person

HOA = "001190000001"
PURPOSE = "mở tài khoản ngân hàng"
BATCH = "/api/v1/identity/verify/batch"


@pytest.fixture
def hoa(session):
    return add_person(session, personal_id_number=HOA, dob=(1990, 5, 12))


def tune(app, **changes) -> None:
    app.config["POPDB_SETTINGS"] = dataclasses.replace(app.config["POPDB_SETTINGS"], **changes)


def every_day_of_1990() -> list[dict]:
    day, items = dt.date(1990, 1, 1), []
    while day.year == 1990:
        items.append({"personal_id_number": HOA, "dob": day.isoformat()})
        day += dt.timedelta(days=1)
    return items


def actions(session, action):
    return list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_a_batch_of_every_birthday_is_refused_by_the_questions_per_number(
    client, hoa, make_client, session
) -> None:
    _, prober = make_client("agency", legal_basis="a", operations=["verify_batch"],
                            rate_per_second=1000)  # fmt: skip
    r = client.post(BATCH, json={"purpose": PURPOSE, "items": every_day_of_1990()},
                    headers=prober)  # fmt: skip
    assert r.status_code == 429, r.get_json()
    body = r.get_json()
    assert body["errors"] == {"limit": "per_number"} and "items" not in body
    assert actions(session, "identity.verify_batch") == []  # nothing answered, nothing read
    assert [e.detail["limit"] for e in actions(session, "identity.refused")] == ["per_number"]


def test_a_batch_whose_misses_reach_the_block_is_refused_whole(
    app, client, hoa, make_client, session
) -> None:
    # only the miss limit stands in the way: the batch, answered before suspension
    tune(app, identity_questions_per_number=1000)
    client_id, prober = make_client("agency", legal_basis="a", operations=["verify_batch"],
                                    rate_per_second=1000)  # fmt: skip
    r = client.post(BATCH, json={"purpose": PURPOSE, "items": every_day_of_1990()},
                    headers=prober)  # fmt: skip
    assert r.status_code == 403 and r.get_json()["code"] == "client_suspended"
    assert "items" not in r.get_json()
    assert session.get(ApiClient, client_id).suspended_at is not None
    assert actions(session, "identity.verify_batch") == []


def test_a_batch_below_the_block_is_answered(app, client, hoa, make_client) -> None:
    tune(app, enumeration_block_misses=6)
    _, agency = make_client("agency", legal_basis="a", operations=["verify_batch"])
    items = [{"personal_id_number": f"00119080{n:04d}", "sex": 1} for n in range(5)]
    r = client.post(BATCH, json={"purpose": PURPOSE, "items": items}, headers=agency)
    assert r.status_code == 200 and len(r.get_json()["items"]) == 5


def test_each_batch_item_counts_for_the_rate(client, hoa, make_client) -> None:
    _, agency = make_client("agency", legal_basis="a", operations=["verify_batch"],
                            rate_per_second=5)  # fmt: skip
    items = [{"personal_id_number": HOA, "sex": 2}] * 6
    r = client.post(BATCH, json={"purpose": PURPOSE, "items": items}, headers=agency)
    assert r.status_code == 429 and r.get_json()["errors"] == {"limit": "per_second"}
    assert "items" not in r.get_json() and int(r.headers["Retry-After"]) >= 1


def test_each_batch_item_counts_for_the_daily_quota(client, hoa, make_client) -> None:
    _, agency = make_client("agency", legal_basis="a", operations=["verify_batch"],
                            rate_per_day=5)  # fmt: skip
    items = [{"personal_id_number": HOA, "sex": 2}] * 3
    first = client.post(BATCH, json={"purpose": PURPOSE, "items": items}, headers=agency)
    assert first.status_code == 200
    r = client.post(BATCH, json={"purpose": PURPOSE, "items": items}, headers=agency)
    assert r.status_code == 429 and r.get_json()["errors"] == {"limit": "per_day"}


def test_single_verifies_guessing_a_birthday_stop_at_the_questions_limit(
    app, client, hoa, make_client
) -> None:
    tune(app, identity_questions_per_number=10)
    _, prober = make_client("agency", legal_basis="a", operations=["verify"])
    codes = []
    for day in range(1, 13):
        r = client.post("/api/v1/identity/verify", headers=prober,
                        json={"purpose": PURPOSE, "personal_id_number": HOA,
                              "dob": f"1990-01-{day:02d}"})  # fmt: skip
        codes.append(r.status_code)
    assert codes == [200] * 10 + [429, 429]
    # once over, even a question asked before is refused until the window ends
    again = client.post("/api/v1/identity/verify", headers=prober,
                        json={"purpose": PURPOSE, "personal_id_number": HOA,
                              "dob": "1990-01-01"})  # fmt: skip
    assert again.status_code == 429 and again.get_json()["errors"] == {"limit": "per_number"}
    # other numbers are not affected
    other = client.post("/api/v1/identity/verify", headers=prober,
                        json={"purpose": PURPOSE, "personal_id_number": "001190000077",
                              "sex": 1})  # fmt: skip
    assert other.status_code == 200


def test_the_same_question_asked_again_is_not_counted(app, client, hoa, make_client) -> None:
    tune(app, identity_questions_per_number=2)
    _, agency = make_client("agency", legal_basis="a", operations=["verify"])
    for _ in range(10):
        r = client.post("/api/v1/identity/verify", headers=agency,
                        json={"purpose": PURPOSE, "personal_id_number": HOA, "sex": 2})  # fmt: skip
        assert r.status_code == 200 and r.get_json()["match"] is True


def check(client, headers, predicates):
    return client.post("/api/v1/identity/check", headers=headers,
                       json={"personal_id_number": HOA, "purpose": PURPOSE,
                             "predicates": predicates})  # fmt: skip


@pytest.fixture
def provinces(session):
    return sorted(set(session.scalars(
        sa.select(AdminUnit.province_code).where(AdminUnit.level == "commune")
    )))  # fmt: skip


def test_cycling_resides_in_stops_at_the_predicate_limit(
    app, client, session, make_client, provinces
) -> None:
    commune = session.scalars(sa.select(AdminUnit).where(AdminUnit.level == "commune")).first()
    add_person(session, personal_id_number=HOA, current_commune_code=commune.code)
    _, agency = make_client("agency", legal_basis="a", operations=["predicates"])
    # the true province last: the attacker must get through the others first
    order = [p for p in provinces if p != commune.province_code] + [commune.province_code]
    assert len(order) > 3
    answers = [check(client, agency, {"resides_in": p}) for p in order]
    assert [r.status_code for r in answers[:3]] == [200] * 3
    assert {r.status_code for r in answers[3:]} == {429}
    assert not any(r.get_json().get("answers", {}).get("resides_in") for r in answers)


def test_bisecting_age_at_least_stops_at_the_predicate_limit(client, hoa, make_client) -> None:
    _, agency = make_client("agency", legal_basis="a", operations=["predicates"])
    lo, hi, codes = 0, 128, []
    for _ in range(8):  # eight calls found the age
        mid = (lo + hi) // 2
        r = check(client, agency, {"age_at_least": mid})
        codes.append(r.status_code)
        if r.status_code != 200:
            continue
        lo, hi = (mid, hi) if r.get_json()["answers"]["age_at_least"] else (lo, mid)
    assert codes == [200] * 3 + [429] * 5
    assert hi - lo >= 16  # three answers narrow 128 years to 16, no more


def test_predicate_no_answers_count_as_misses(app, client, hoa, make_client, session) -> None:
    tune(app, identity_predicates_per_number=100, enumeration_flag_misses=3,
         enumeration_block_misses=6)  # fmt: skip
    client_id, agency = make_client("agency", legal_basis="a", operations=["predicates"])
    for age in range(100, 106):  # six "no" answers about a known person
        r = check(client, agency, {"age_at_least": age})
        assert r.get_json()["answers"] == {"age_at_least": False}
    assert [e.subject_id for e in actions(session, "identity.enumeration_flagged")] == [
        str(client_id)
    ]
    blocked = check(client, agency, {"alive": True})
    assert blocked.status_code == 403 and blocked.get_json()["code"] == "client_suspended"
