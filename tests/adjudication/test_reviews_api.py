"""The review queue over HTTP: list, claim, read, decide; four eyes; audit; persons."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dedup.run import RunOptions
from popdb.registry.matching import match
from tests.api.test_access_rules import _admin_signed_in
from tests.support.registry import build_in, item_between, person_of


@pytest.fixture
def registry(session, scope, tmp_path):
    return build_in(session, scope, tmp_path)


def actions(session) -> list[str]:
    return list(session.scalars(sa.text("SELECT action FROM audit_event ORDER BY id")))


def test_list_claim_read_and_merge(client, make_client, session, registry):
    _, admin = make_client("admin")
    listed = client.get("/api/v1/reviews?status=pending", headers=admin).get_json()
    assert len(listed["items"]) == 5 and listed["next"] is None
    assert "full_name" not in str(listed)  # the list carries no personal data
    probabilities = [i["probability"] for i in listed["items"]]
    assert probabilities == sorted(probabilities, reverse=True)
    page = client.get("/api/v1/reviews?status=pending&limit=2", headers=admin).get_json()
    rest = client.get(f"/api/v1/reviews?status=pending&after={page['next']}",
                      headers=admin).get_json()  # fmt: skip
    assert [i["id"] for i in page["items"] + rest["items"]] == [i["id"] for i in listed["items"]]
    cut = probabilities[2]
    band = client.get(f"/api/v1/reviews?status=pending&min_probability={cut}&max_probability=1",
                      headers=admin).get_json()  # fmt: skip
    assert [i["probability"] for i in band["items"]] == [p for p in probabilities if p >= cut]
    assert client.get("/api/v1/reviews?commune=99999", headers=admin).get_json()["items"] == []

    claimed = client.post("/api/v1/reviews/claim", headers=admin).get_json()
    assert claimed["status"] == "claimed" and claimed["four_eyes"] is True  # two numbers first
    # its score would link it: the pair waits because the two records hold different numbers
    assert claimed["review_reason"] == "different_pin"
    item = item_between(session, registry["n2a"], registry["n2b"])
    detail = client.get(f"/api/v1/reviews/{item}", headers=admin).get_json()
    assert detail["left"]["fields"]["full_name"] == "Đỗ Văn Khánh"
    assert "dob" in detail["differences"] and detail["four_eyes"] is False
    fields = {c["comparison"]: c for c in detail["comparisons"]}
    assert fields["dob"]["level"] not in (None, "exact")
    total = detail["prior_weight"] + sum(c["weight"] for c in detail["comparisons"])
    assert abs(total - detail["match_weight"]) < 0.01 and detail["model_version"] == 1

    answer = client.post(f"/api/v1/reviews/{item}/decision", headers=admin,
                         json={"decision": "merge", "version": detail["version"]})  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    result = answer.get_json()
    survivor, retired = result["person_id"], result["retired_person_id"]
    assert result["status"] == "merged" and not result["awaiting_approval"]
    assert person_of(session, registry["n2a"]) == person_of(session, registry["n2b"]) == survivor
    row = session.execute(sa.text("SELECT status, merged_into_id FROM person WHERE id = :p"),
                          {"p": retired}).one()  # fmt: skip
    assert tuple(row) == ("retired", survivor)
    assert client.post(f"/api/v1/reviews/{item}/decision", headers=admin,
                       json={"decision": "distinct", "version": detail["version"]}
                       ).status_code == 409  # fmt: skip
    assert client.post(f"/api/v1/reviews/{item}/decision", headers=admin,
                       json={"decision": "distinct", "version": result["version"]}
                       ).get_json()["message"].endswith("already settled (merged)")  # fmt: skip
    bad = client.post(f"/api/v1/reviews/{item}/decision", headers=admin,
                      json={"decision": "maybe", "version": 1})  # fmt: skip
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_input"
    assert "decision" in bad.get_json()["errors"]["json"]
    assert actions(session)[-4:] == ["review.read", "review.read", "person.merge",
                                     "review.decision"]  # fmt: skip
    merged = session.scalars(sa.text(
        "SELECT kind FROM person_event WHERE person_id IN (:a, :b) AND kind = 'merged'"),
        {"a": survivor, "b": retired}).all()  # fmt: skip
    assert len(merged) == 2
    open_items = client.get("/api/v1/reviews?status=open", headers=admin).get_json()["items"]
    assert item not in [i["id"] for i in open_items] and len(open_items) == 4


def test_queue_is_admin_only(client, make_client, registry):
    _, police = make_client("police", commune_code="00004")
    _, agency = make_client("agency")
    for headers in (police, agency):
        assert client.get("/api/v1/reviews", headers=headers).status_code == 403
        assert client.post("/api/v1/reviews/claim", headers=headers).status_code == 403
        assert client.get("/api/v1/persons/1", headers=headers).status_code == 403
    assert client.get("/api/v1/reviews").status_code == 401


def test_four_eyes_needs_a_second_different_admin(client, make_client, session, registry):
    first_id, first = make_client("admin")
    _, second = make_client("admin")
    item = item_between(session, registry["t1"], registry["t2"])
    version = client.get(f"/api/v1/reviews/{item}", headers=first).get_json()["version"]
    asked = client.post(f"/api/v1/reviews/{item}/decision", headers=first,
                        json={"decision": "merge", "version": version}).get_json()  # fmt: skip
    assert asked["awaiting_approval"] and asked["person_id"] is None
    assert person_of(session, registry["t1"]) != person_of(session, registry["t2"])
    again = client.post(f"/api/v1/reviews/{item}/decision", headers=first,
                        json={"decision": "merge", "version": asked["version"]})  # fmt: skip
    assert again.status_code == 403 and "second" in again.get_json()["message"]
    waiting = client.get("/api/v1/reviews?status=awaiting_approval", headers=first).get_json()
    assert [i["id"] for i in waiting["items"]] == [item]
    assert waiting["items"][0]["merge_requested_by"] == first_id
    # the requester is not handed the item to approve; another admin is
    assert client.post("/api/v1/reviews/claim", headers=first).get_json()["id"] != item
    assert client.post("/api/v1/reviews/claim", headers=second).get_json()["id"] == item
    current = client.get(f"/api/v1/reviews/{item}", headers=second).get_json()["version"]
    done = client.post(f"/api/v1/reviews/{item}/decision", headers=second,
                       json={"decision": "merge", "version": current}).get_json()  # fmt: skip
    assert done["status"] == "merged"
    assert person_of(session, registry["t1"]) == person_of(session, registry["t2"])
    detail = session.scalar(
        sa.text(
            "SELECT detail FROM audit_event WHERE action = 'review.decision' "
            "ORDER BY id DESC LIMIT 1"
        )
    )
    assert detail["four_eyes"]["requested_by"] == first_id


def test_a_distinct_decision_is_remembered_by_later_runs(client, make_client, session, registry):
    _, admin = make_client("admin")
    item = item_between(session, registry["n1a"], registry["n1b"])
    version = client.get(f"/api/v1/reviews/{item}", headers=admin).get_json()["version"]
    r = client.post(
        f"/api/v1/reviews/{item}/decision",
        headers=admin,
        json={"decision": "distinct", "version": version, "reason": "two women"},
    )
    assert r.get_json()["status"] == "distinct" and r.get_json()["person_id"] is None
    match(session.connection(), RunOptions(rebuild=True))
    status = session.scalar(sa.text("SELECT review_status FROM match_candidate WHERE id = :i"),
                            {"i": item})  # fmt: skip
    assert status == "distinct"
    assert person_of(session, registry["n1a"]) != person_of(session, registry["n1b"])
    pending = client.get("/api/v1/reviews?status=pending", headers=admin).get_json()["items"]
    assert item not in [i["id"] for i in pending]


def test_skip_passes_the_item_to_someone_else(client, make_client, session, registry):
    _, first = make_client("admin")
    _, second = make_client("admin")
    mine = client.post("/api/v1/reviews/claim", headers=first).get_json()
    assert client.post("/api/v1/reviews/claim", headers=first).get_json()["id"] == mine["id"]
    other = client.get(f"/api/v1/reviews/{mine['id']}", headers=second).get_json()
    taken = client.post(f"/api/v1/reviews/{mine['id']}/decision", headers=second,
                        json={"decision": "distinct", "version": other["version"]})  # fmt: skip
    assert taken.status_code == 409 and "claimed by another" in taken.get_json()["message"]
    client.post(f"/api/v1/reviews/{mine['id']}/decision", headers=first,
                json={"decision": "skip", "version": mine["version"]})  # fmt: skip
    assert client.post("/api/v1/reviews/claim", headers=first).get_json()["id"] != mine["id"]


def test_person_reads_and_history_are_audited(client, make_client, session, registry):
    _, admin = make_client("admin")
    person = person_of(session, registry["t1"])
    body = client.get(f"/api/v1/persons/{person}", headers=admin).get_json()
    assert body["personal_id_number"] == "001315000222" and body["status"] == "active"
    assert [r["id"] for r in body["source_records"]] == [registry["t1"]]
    assert body["source_records"][0]["batch"]["commune_code"] == "00004"
    assert body["personal_id_numbers"][0]["personal_id_number"] == "001315000222"
    events = client.get(f"/api/v1/persons/{person}/history?limit=1", headers=admin).get_json()
    assert events["items"][0]["kind"] == "created" and events["next"] is not None
    assert client.get("/api/v1/persons/999999", headers=admin).status_code == 404
    assert actions(session)[-2:] == ["person.read", "person.history.read"]


def test_the_compare_page_says_why_a_pair_its_score_would_link_waits(
    client, make_client, session, registry
):
    _, admin = make_client("admin")
    claimed = client.post("/api/v1/reviews/claim", headers=admin).get_json()
    assert claimed["review_reason"] == "different_pin"
    _admin_signed_in(client, make_client)
    page = client.get(f"/admin/reviews/{claimed['id']}").get_data(as_text=True)
    assert "wait for review because the records&#39; groups hold different personal ID" in page
