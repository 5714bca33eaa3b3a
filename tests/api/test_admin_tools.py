"""Administrators' tools: person search (audited), labels and code names, normalised
differences on the compare page, history as sentences, the queue as CSV."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from api.admin.labels import differs, event_sentence, field_label, shown
from tests.api.test_access_rules import _admin_signed_in
from tests.support.persons import add_person
from tests.support.registry import build_in, item_between


def _audit(session, action: str) -> list[tuple]:
    return session.execute(
        sa.text("SELECT subject_id, detail FROM audit_event WHERE action = :a ORDER BY id"),
        {"a": action},
    ).all()


def test_search_by_number_old_number_and_held_number_is_audited(client, make_client, session):
    _, admin = make_client("admin")
    person = add_person(session, personal_id_number="001190000001",
                        old_numbers=("001190000099",), other_id_number="023 456 789")  # fmt: skip
    add_person(session, personal_id_number="001190000002")
    r = client.get("/api/v1/persons/search?personal_id_number=001 190 000 001", headers=admin)
    assert r.status_code == 200, r.get_json()
    assert [i["id"] for i in r.get_json()["items"]] == [person.id]
    assert r.get_json()["items"][0]["full_name"] == "Nguyễn Thị Hòa"
    held = client.get("/api/v1/persons/search?personal_id_number=001190000099", headers=admin)
    assert [i["id"] for i in held.get_json()["items"]] == [person.id]
    old = client.get("/api/v1/persons/search?old_id_number=023456789", headers=admin)
    assert [i["id"] for i in old.get_json()["items"]] == [person.id]
    audited = _audit(session, "person.search")
    assert [int(s) for s, _ in audited] == [person.id] * 3
    assert audited[0][1]["kind"] == "personal_id_number"
    assert "001190000001" not in str(audited)  # the typed number is not copied into the log
    none = client.get("/api/v1/persons/search?personal_id_number=009999999999", headers=admin)
    assert none.get_json()["items"] == [] and len(_audit(session, "person.search")) == 3


@pytest.mark.parametrize("query", ["", "name=Nguyen", "birth_year=1990",
                                   "personal_id_number=1&name=x&birth_year=1990",
                                   "personal_id_number=12ab"])  # fmt: skip
def test_search_refuses_anything_but_one_kind(client, make_client, query):
    _, admin = make_client("admin")
    r = client.get(f"/api/v1/persons/search?{query}", headers=admin)
    assert r.status_code == 400 and r.get_json()["code"] == "invalid_input"


def test_search_by_name_and_year_ignores_case_tones_and_accents(client, make_client, session,
                                                                scope, tmp_path):  # fmt: skip
    registry = build_in(session, scope, tmp_path)
    _, admin = make_client("admin")
    wanted = session.scalar(sa.text("SELECT person_id FROM source_record WHERE id = :r"),
                            {"r": registry["n2a"]})  # fmt: skip
    for name in ("Đỗ Văn Khánh", "ĐỖ VĂN KHÁNH", "do van khanh"):
        found = client.get(f"/api/v1/persons/search?name={name}&birth_year=1962",
                           headers=admin).get_json()  # fmt: skip
        assert wanted in [i["id"] for i in found["items"]], name
    wrong_year = client.get("/api/v1/persons/search?name=Đỗ Văn Khánh&birth_year=1963",
                            headers=admin).get_json()  # fmt: skip
    assert wanted not in [i["id"] for i in wrong_year["items"]]


def test_search_page(client, make_client, session):
    person = add_person(session, personal_id_number="001190000001", ethnicity_code="04")
    _admin_signed_in(client, make_client)
    page = client.get("/admin/persons?personal_id_number=001190000001")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'href="/admin/persons/{person.id}"' in html and "Nguyễn Thị Hòa" in html
    assert "Nữ (2)" in html and "Số định danh cá nhân" in html
    assert client.get("/admin/persons?name=x").status_code == 400
    person_page = client.get(f"/admin/persons/{person.id}").get_data(as_text=True)
    assert "Mường (04)" in person_page and "Dân tộc (ethnicity)" in person_page


def test_labels_and_differences():
    assert shown(4 - 2, "sex") == "Nữ (2)" and shown("04", "ethnicity_code") == "Mường (04)"
    assert shown("01", "religion_code") == "Phật giáo (01)"
    assert shown(2, "marital_status") == "Đã kết hôn (2)" and shown(None, "sex") == "—"
    assert field_label("marital_status") == "Tình trạng hôn nhân (marital status)"
    assert not differs("Nguyễn Thị Hoà", "NGUYỄN THỊ HÒA")  # case and tone placement
    assert differs("Nguyễn Thị Hoà", "Nguyễn Thị Hoa") and differs("x", None)
    assert not differs(None, None) and differs(1, 2)


def test_history_sentences():
    assert event_sentence("merged", {"into_person_id": 7, "source_record_ids": [3]}) == (
        "Merged into person 7, taking record #3; this person is retired.")
    assert event_sentence("pin_assigned", {"personal_id_number": "001190000001"}) == (
        "Personal ID number 001190000001 assigned.")
    assert event_sentence("field_changed", {"field": "sex", "old": 1, "new": 2}) == (
        "Giới tính (sex) changed from Nam (1) to Nữ (2).")
    assert "{" not in event_sentence("something_new", {"a": 1})


def test_compare_highlights_only_real_differences_and_person_rows(client, make_client,
                                                                  session, scope, tmp_path):
    registry = build_in(session, scope, tmp_path)
    item = item_between(session, registry["n2a"], registry["n2b"])
    # the same name in another case and tone placement on one side: not a difference
    session.execute(sa.text("UPDATE source_record SET full_name = upper(full_name) "
                            "WHERE id = :r"), {"r": registry["n2b"]})  # fmt: skip
    _admin_signed_in(client, make_client)
    html = client.get(f"/admin/reviews/{item}").get_data(as_text=True)
    side_by_side = html.split("<h3>Persons now")[0]
    rows = {m.split("<th>")[1].split("</th>")[0]: m.split('"')[1]
            for m in side_by_side.split("<tr class=")[1:] if "<th>" in m}
    assert rows[field_label("full_name")] == "same"
    assert rows[field_label("dob")] == "diff"
    assert '"diff"><th>person</th>' in html  # two persons: their own rows differ
    assert "{&#34;" not in html and '{"' not in html


def test_queue_export_is_csv_audited_and_formula_safe(client, make_client, session, scope,
                                                      tmp_path):
    registry = build_in(session, scope, tmp_path)
    session.execute(sa.text("UPDATE source_record SET full_name = '=HYPERLINK(\"x\")' "
                            "WHERE id = :r"), {"r": registry["n2a"]})  # fmt: skip
    _, admin = make_client("admin")
    r = client.get("/api/v1/reviews/export?status=pending", headers=admin)
    assert r.status_code == 200 and r.mimetype == "text/csv"
    text = r.get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 5 and all(row["status"] == "pending" for row in rows)
    names = {row["left_full_name"] for row in rows} | {row["right_full_name"] for row in rows}
    assert "'=HYPERLINK(\"x\")" in names and '=HYPERLINK("x")' not in names
    audited = _audit(session, "review.export")
    assert len(audited) == 1 and audited[0][1]["rows"] == 5
    _admin_signed_in(client, make_client)
    page = client.get("/admin/reviews/export.csv?status=pending")
    assert page.status_code == 200 and page.get_data(as_text=True).count("\r\n") == 6
    assert len(_audit(session, "review.export")) == 2
