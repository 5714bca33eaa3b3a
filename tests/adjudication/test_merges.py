"""Merge and unmerge: every field and number comes back; a split that is not whole makes a
new person; bad requests are refused with a reason."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from popdb.core import audit
from popdb.core.errors import Conflict, InvalidInput
from popdb.registry import merges
from tests.support.registry import build_in, person_of

ACTOR = audit.Actor(None, "test", "operator")


@pytest.fixture
def registry(session, scope, tmp_path):
    return build_in(session, scope, tmp_path)


def snapshot(session, person_id: int) -> dict:
    row = session.execute(sa.text("SELECT * FROM person WHERE id = :p"), {"p": person_id})
    state = dict(row.mappings().one())
    for volatile in ("version", "updated_at"):
        state.pop(volatile)
    state["pins"] = session.execute(sa.text(
        "SELECT personal_id_number, reason FROM person_pin WHERE person_id = :p ORDER BY id"),
        {"p": person_id}).all()  # fmt: skip
    state["records"] = session.scalars(
        sa.text("SELECT id FROM source_record WHERE person_id = :p ORDER BY id"), {"p": person_id}
    ).all()
    return state


def test_merge_then_unmerge_restores_every_field_and_number(client, make_client, session,
                                                             registry):  # fmt: skip
    a, b = person_of(session, registry["t1"]), person_of(session, registry["t2"])
    before = {a: snapshot(session, a), b: snapshot(session, b)}
    result = merges.merge_persons(session, a, b, actor=ACTOR, reason="test")
    survivor, retired = result.survivor_id, result.retired_id
    assert {survivor, retired} == {a, b}
    merged = snapshot(session, survivor)
    assert len(merged["records"]) == 2
    gone = snapshot(session, retired)
    assert (gone["status"], gone["merged_into_id"]) == ("retired", survivor)
    # the retired number stays on its row and in person_pin: identity follows merged_into_id
    assert gone["personal_id_number"] == before[retired]["personal_id_number"]
    assert gone["pins"] == before[retired]["pins"]

    _, admin = make_client("admin")
    r = client.post(
        f"/api/v1/persons/{survivor}/unmerge",
        headers=admin,
        json={"source_record_ids": list(result.moved_record_ids), "reason": "twins"},
    )
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["revived"] and body["person_id"] == retired
    assert body["personal_id_number"] == before[retired]["personal_id_number"]
    assert snapshot(session, a) == before[a] and snapshot(session, b) == before[b]
    kinds = session.scalars(sa.text("SELECT kind FROM person_event WHERE person_id = :p "
                                    "ORDER BY id"), {"p": retired}).all()  # fmt: skip
    assert kinds[-2:] == ["merged", "unmerged"]
    assert session.scalar(sa.text("SELECT action FROM audit_event ORDER BY id DESC LIMIT 1")) \
        == "person.unmerge"  # fmt: skip
    # the pair across the split is now a reviewer's "distinct": dedup will not re-join it
    status = session.scalar(
        sa.text(
            "SELECT review_status FROM match_candidate WHERE left_record_id = :l "
            "AND right_record_id = :r"
        ),
        {"l": min(registry["t1"], registry["t2"]), "r": max(registry["t1"], registry["t2"])},
    )
    assert status == "distinct"


def test_a_split_that_is_not_whole_makes_a_new_person(session, registry):
    keep = person_of(session, registry["n1a"])
    merges.merge_persons(session, keep, person_of(session, registry["n1b"]), actor=ACTOR,
                         reason="test")  # fmt: skip
    merges.merge_persons(session, keep, person_of(session, registry["n2a"]), actor=ACTOR,
                         reason="test")  # fmt: skip
    survivor = person_of(session, registry["n1a"])
    out = merges.unmerge(session, survivor, [registry["n1b"], registry["n2a"]], actor=ACTOR,
                         reason="two strangers")  # fmt: skip
    assert not out.revived and out.person_id not in (survivor,)
    assert person_of(session, registry["n2a"]) == out.person_id
    created = session.scalar(sa.text("SELECT count(*) FROM person_event WHERE person_id = :p "
                                     "AND kind = 'created'"), {"p": out.person_id})  # fmt: skip
    assert created == 1


def test_bad_unmerges_are_refused_with_a_reason(session, registry):
    a = person_of(session, registry["n3a"])
    with pytest.raises(InvalidInput, match="do not belong"):
        merges.unmerge(session, a, [registry["n3b"]], actor=ACTOR, reason="x")
    with pytest.raises(InvalidInput, match="leave at least one"):
        merges.unmerge(session, a, [registry["n3a"]], actor=ACTOR, reason="x")
    with pytest.raises(InvalidInput, match="say why"):
        merges.unmerge(session, a, [registry["n3a"]], actor=ACTOR, reason=" ")
    result = merges.merge_persons(session, a, person_of(session, registry["n3b"]), actor=ACTOR,
                                  reason="test")  # fmt: skip
    with pytest.raises(Conflict, match="was merged into"):
        merges.unmerge(session, result.retired_id, [registry["n3a"]], actor=ACTOR, reason="x")
    with pytest.raises(Conflict, match="was merged into"):
        merges.merge_persons(session, result.retired_id, person_of(session, registry["n4a"]),
                             actor=ACTOR, reason="x")  # fmt: skip


def test_unmerge_api_validates_its_body(client, make_client, session, registry):
    _, admin = make_client("admin")
    person = person_of(session, registry["n4a"])
    r = client.post(f"/api/v1/persons/{person}/unmerge", headers=admin,
                    json={"source_record_ids": []})  # fmt: skip
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_input"
    assert {"source_record_ids", "reason"} <= set(
        r.get_json()["errors"]["json"]
    )
