"""The match preview over HTTP: who may see a held batch's preview (and how much), the
release, communes' settings, the upload's `preview` field, and the admin pages."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa

from tests.api.test_access_rules import _admin_signed_in
from tests.popdb.test_match_preview import held  # noqa: F401  (the fixture)

OTHER_COMMUNE = "26740"


def _audit(session, action: str) -> list:
    return session.execute(
        sa.text("SELECT actor_name, role, subject_id, detail FROM audit_event WHERE action = :a "
                "ORDER BY id"), {"a": action},
    ).all()  # fmt: skip


def test_admins_see_examples_the_communes_police_counts_only_others_nothing(
    client, make_client, session, held  # noqa: F811
):
    _, admin = make_client("admin")
    _, police = make_client("police", commune_code="00004")
    _, neighbour = make_client("police", commune_code=OTHER_COMMUNE)
    _, agency = make_client("agency", operations=["verify"], legal_basis="x", fields=["dob"])
    full = client.get(f"/api/v1/batches/{held}/preview?examples=2", headers=admin)
    assert full.status_code == 200, full.get_json()
    body = full.get_json()
    assert set(body["counts"]) == {"link", "new", "review"} and body["examples"]["link"]
    counts = client.get(f"/api/v1/batches/{held}/preview?examples=2", headers=police)
    assert counts.status_code == 200
    assert "examples" not in counts.get_json()
    assert counts.get_json()["counts"] == body["counts"]
    refused = client.get(f"/api/v1/batches/{held}/preview", headers=neighbour)
    assert refused.status_code == 403 and refused.get_json()["code"] == "forbidden"
    assert client.get(f"/api/v1/batches/{held}/preview", headers=agency).status_code == 403
    assert client.get("/api/v1/batches/held", headers=neighbour).get_json()["items"] == []
    assert [b["batch_id"] for b in client.get("/api/v1/batches/held",
                                              headers=police).get_json()["items"]] == [held]
    reads = _audit(session, "batch.preview")
    assert [(r.role, r.subject_id) for r in reads] == [("admin", str(held)),
                                                       ("police", str(held))]  # fmt: skip
    assert len(reads[0].detail["example_record_ids"]) > 0
    assert reads[1].detail["example_record_ids"] == []


def test_release_matches_the_batch_as_the_preview_said(
    client, make_client, session, held  # noqa: F811
):
    _, admin = make_client("admin")
    _, police = make_client("police", commune_code="00004")
    shown = client.get(f"/api/v1/batches/{held}/preview", headers=admin).get_json()
    url = f"/api/v1/batches/{held}/release"
    assert client.post(url, json={"reason": "ok"}, headers=police).status_code == 403
    bad = client.post(url, json={}, headers=admin)
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_input"
    done = client.post(url, json={"reason": "examples look right"}, headers=admin)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["counts"] == shown["counts"]
    status = client.get(f"/api/v1/imports/{held}", headers=police).get_json()
    assert (status["status"], status["held_for_preview"]) == ("matched", False)
    again = client.post(url, json={"reason": "again"}, headers=admin)
    assert again.status_code == 409 and again.get_json()["code"] == "conflict"
    [row] = _audit(session, "batch.release")
    assert row.detail["reason"] == "examples look right" and row.role == "admin"


def test_missing_batch_is_404_and_unheld_is_409(client, make_client, session):
    _, admin = make_client("admin")
    assert client.get("/api/v1/batches/999999/preview", headers=admin).status_code == 404
    import datetime as dt

    from popdb.core.models import ImportBatch

    batch = ImportBatch(commune_code="00004", file_name="a.csv", sha256="b" * 64, size_bytes=1,
                        collected_on=dt.date(2026, 1, 1), status="matched")  # fmt: skip
    session.add(batch)
    session.flush()
    r = client.get(f"/api/v1/batches/{batch.id}/preview", headers=admin)
    assert r.status_code == 409 and "not held" in r.get_json()["message"]


def test_upload_field_and_commune_setting_hold_the_batch(client, make_client, session):
    _, admin = make_client("admin")
    _, police = make_client("police", commune_code="00004")

    def upload(text: str, **form):
        data = {"file": (io.BytesIO(text.encode()), "a.csv"), **form}
        return client.post("/api/v1/imports", data=data, headers=police,
                           content_type="multipart/form-data")  # fmt: skip

    plain = upload("Họ và tên\nNguyễn Văn A\n")
    assert plain.status_code == 202 and plain.get_json()["held_for_preview"] is False
    asked = upload("Họ và tên\nNguyễn Văn B\n", preview="true")
    assert asked.status_code == 202 and asked.get_json()["held_for_preview"] is True
    url = "/api/v1/communes/00004/settings"
    assert client.put(url, json={"match_preview": True, "reason": "x"},
                      headers=police).status_code == 403  # fmt: skip
    assert client.put(url, json={"match_preview": True}, headers=admin).status_code == 400
    set_ = client.put(url, json={"match_preview": True, "reason": "new clerk"}, headers=admin)
    assert set_.status_code == 200 and set_.get_json()["match_preview"] is True
    assert client.get(url, headers=admin).get_json()["set_by"].startswith("admin:")
    listed = client.get("/api/v1/communes/settings", headers=admin).get_json()["items"]
    assert [s["commune_code"] for s in listed] == ["00004"]
    held_by_commune = upload("Họ và tên\nNguyễn Văn C\n")
    assert held_by_commune.get_json()["held_for_preview"] is True
    assert client.get("/api/v1/communes/4/settings", headers=admin).status_code == 400
    [change] = _audit(session, "commune_setting.match_preview")
    assert change.detail == {"old": False, "new": True, "reason": "new clerk"}


def test_admin_pages_list_preview_and_release_with_csrf(
    client, make_client, session, held  # noqa: F811
):
    token = _admin_signed_in(client, make_client)
    page = client.get("/admin/batches/held").get_data(as_text=True)
    assert f"/admin/batches/{held}/preview" in page
    shown = client.get(f"/admin/batches/{held}/preview")
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert "Would link to an existing person" in html and "Release and match" in html
    assert re.search(r"link <strong>\d+</strong>", html)
    url = f"/admin/batches/{held}/release"
    assert client.post(url, data={"reason": "ok"}).status_code == 400  # no CSRF token
    assert session.scalar(sa.text("SELECT match_hold FROM import_batch WHERE id = :b"),
                          {"b": held}) is True  # fmt: skip
    empty = client.post(url, data={"csrf_token": token, "reason": ""}, follow_redirects=True)
    assert "say why the batch is released" in empty.get_data(as_text=True)
    done = client.post(url, data={"csrf_token": token, "reason": "looked"},
                       follow_redirects=True)  # fmt: skip
    assert f"Batch {held} released and matched" in done.get_data(as_text=True)
    status = session.scalar(sa.text("SELECT status FROM import_batch WHERE id = :b"), {"b": held})
    assert status == "matched"
    setting = client.post("/admin/communes/settings", data={
        "csrf_token": token, "commune_code": "00004", "match_preview": "on", "reason": "r"},
        follow_redirects=True)  # fmt: skip
    assert "Commune 00004: uploads held" in setting.get_data(as_text=True)


def test_the_worker_loads_a_held_upload_and_leaves_it_loaded_until_released(
    client, make_client, session, scope, tmp_path
):
    from importers.worker import process_pending
    from popdb.cli.worker import match_after_load
    from tests.support.dc01 import fake_rows, write_csv

    _, admin = make_client("admin")
    _, police = make_client("police", commune_code="00004")
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(6, seed=4)))
    with path.open("rb") as f:
        sent = client.post("/api/v1/imports", headers=police, content_type="multipart/form-data",
                           data={"file": (f, "dc01.csv"), "preview": "true"})  # fmt: skip
    batch_id = sent.get_json()["batch_id"]
    assert process_pending(scope, after_load=match_after_load) == 1
    status = client.get(f"/api/v1/imports/{batch_id}", headers=police).get_json()
    assert (status["status"], status["held_for_preview"], status["accepted"]) == ("loaded", True, 6)
    assert session.scalar(sa.text("SELECT count(*) FROM source_record WHERE batch_id = :b "
                                  "AND person_id IS NOT NULL"), {"b": batch_id}) == 0  # fmt: skip
    done = client.post(f"/api/v1/batches/{batch_id}/release", json={"reason": "ok"},
                       headers=admin)  # fmt: skip
    assert done.status_code == 200 and done.get_json()["counts"]["new"] == 6
    assert client.get(f"/api/v1/imports/{batch_id}", headers=police).get_json()["status"] == (
        "matched")
