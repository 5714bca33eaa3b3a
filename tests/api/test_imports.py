"""The police upload API: multipart upload, background processing, status, error report."""

from __future__ import annotations

import dataclasses
import io
import json

import pytest
import sqlalchemy as sa

from api import create_app
from importers.worker import pending, process_pending
from tests.conftest import _session_on
from tests.support.dc01 import dc01_row, fake_rows, write_csv


@pytest.fixture
def police(make_client):
    return make_client("police", commune_code="00004")[1]


@pytest.fixture
def work(scope):
    """Run the background worker's loop once, inside the test's transaction."""
    return lambda: process_pending(scope)


def upload(client, headers, path, **form):
    with path.open("rb") as f:
        data = {"file": (io.BytesIO(f.read()), path.name), **form}
    return client.post("/api/v1/imports", data=data, headers=headers,
                       content_type="multipart/form-data")  # fmt: skip


def test_an_upload_is_accepted_then_loaded_in_the_background(client, police, work, session,
                                                             tmp_path) -> None:  # fmt: skip
    path = write_csv(tmp_path / "dc01.csv", [*fake_rows(5), dc01_row(source_key="X", full_name="")])
    r = upload(client, police, path)
    assert r.status_code == 202, r.get_json()
    body = r.get_json()
    assert body["status"] == "received" and body["duplicate_batch"] is False
    assert r.headers["Location"].endswith(f"/api/v1/imports/{body['batch_id']}")
    assert [b for b, _ in pending(session)] == [body["batch_id"]]

    assert work() == 1
    status = client.get(f"/api/v1/imports/{body['batch_id']}", headers=police).get_json()
    assert status["status"] == "loaded"
    assert (status["rows"], status["accepted"], status["rejected"]) == (6, 5, 1)
    assert status["error_report"] == f"/api/v1/imports/{body['batch_id']}/errors"

    report = client.get(status["error_report"], headers=police)
    assert report.status_code == 200 and report.mimetype == "text/csv"
    text = report.get_data(as_text=True)
    assert text.startswith("\ufeffrow_number,source_key,column,value,problem,severity")
    assert "no_name" not in text and ",error" in text


def test_the_same_file_twice_is_one_batch(client, police, work, tmp_path) -> None:
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(3)))
    first = upload(client, police, path).get_json()
    work()
    again = upload(client, police, path)
    assert again.status_code == 200
    assert again.get_json()["batch_id"] == first["batch_id"]
    assert again.get_json()["duplicate_batch"] is True
    assert again.get_json()["notes"] == []


def test_the_same_file_again_with_another_profile_says_the_profile_was_not_applied(
    client, police, work, tmp_path
) -> None:
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(3)))
    first = upload(client, police, path, collected_on="2026-01-05").get_json()
    work()
    mapping = json.dumps({"fields": {"full_name": "Họ, chữ đệm và tên khai sinh"}})
    again = upload(client, police, path, mapping=mapping, collected_on="2026-02-01").get_json()
    assert again["duplicate_batch"] is True and again["batch_id"] == first["batch_id"]
    (note,) = again["notes"]
    assert "another mapping profile and the collection date 2026-02-01" in note
    assert "not applied" in note and f"batch {first['batch_id']}" in note


def test_police_upload_and_read_only_for_their_own_commune(client, police, make_client,
                                                           tmp_path) -> None:  # fmt: skip
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(2)))
    r = upload(client, police, path, commune_code="26740")
    assert r.status_code == 403 and r.get_json()["code"] == "forbidden"
    own = upload(client, police, path).get_json()
    other = make_client("police", commune_code="26740")[1]
    assert client.get(f"/api/v1/imports/{own['batch_id']}", headers=other).status_code == 403
    assert client.get(f"/api/v1/imports/{own['batch_id']}/errors", headers=other).status_code == 403
    listed = client.get("/api/v1/imports", headers=other).get_json()
    assert listed == {"items": [], "next": None}


def test_agencies_cannot_upload(client, make_client, tmp_path) -> None:
    agency = make_client("agency")[1]
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(1)))
    assert upload(client, agency, path).status_code == 403


def test_an_upload_over_the_size_limit_is_413(connection, settings, make_client, tmp_path):
    small = dataclasses.replace(settings, max_upload_bytes=2_000)
    app = create_app(small, session_factory=lambda: _session_on(connection))
    police = make_client("police", commune_code="00004")[1]
    path = write_csv(tmp_path / "big.csv", list(fake_rows(50)))
    r = upload(app.test_client(), police, path)
    assert r.status_code == 413
    body = r.get_json()
    assert body["code"] == "request_entity_too_large" and body["request_id"]


def test_bad_form_fields_get_the_error_shape(client, police, tmp_path) -> None:
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(1)))
    r = upload(client, police, path, mapping="{not json")
    assert r.status_code == 400 and "JSON" in r.get_json()["message"]
    r = upload(client, police, path, mapping=json.dumps({"fields": {"nom": "x"}}))
    assert r.status_code == 400 and "nom" in r.get_json()["message"]
    r = client.post("/api/v1/imports", data={}, headers=police, content_type="multipart/form-data")
    body = r.get_json()
    assert r.status_code == 400 and body["code"] == "invalid_input"
    assert "file" in body["errors"]["multipart"]


def test_a_failed_batch_reports_its_reason(client, police, work, tmp_path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 40)
    batch = upload(client, police, path).get_json()
    work()
    status = client.get(f"/api/v1/imports/{batch['batch_id']}", headers=police).get_json()
    assert status["status"] == "failed" and status["failure_reason"]
    assert status["error_report"] is None


def test_the_list_is_paginated_newest_first(client, police, tmp_path) -> None:
    ids = []
    for i in range(3):
        path = write_csv(tmp_path / f"f{i}.csv", list(fake_rows(1, seed=i)))
        ids.append(upload(client, police, path).get_json()["batch_id"])
    page = client.get("/api/v1/imports?limit=2", headers=police).get_json()
    assert [b["batch_id"] for b in page["items"]] == ids[::-1][:2]
    rest = client.get(f"/api/v1/imports?limit=2&after={page['next']}", headers=police).get_json()
    assert [b["batch_id"] for b in rest["items"]] == ids[:1] and rest["next"] is None


def test_an_uploaded_batch_is_matched_by_the_worker_and_its_people_exist_for_verify(
    client, police, make_client, scope, session, tmp_path
) -> None:
    """Upload → worker (with the hook `popdb worker` injects) → batch `matched`, one person per
    citizen, and an agency's verify answers yes: nobody ran `popdb dedup run`."""
    from popdb.cli.worker import match_after_load

    pin = "001190000123"
    same = {"full_name": "Nguyễn Thị Hòa", "dob": "12/05/1990", "sex": "Nữ",
            "personal_id_number": pin, "permanent_address": "Số 5 phố Kim Mã, Phường Kim Mã",
            "permanent_commune_code": "00004"}  # fmt: skip
    rows = [dc01_row(source_key="A1", **same), dc01_row(source_key="A2", **same),
            dc01_row(source_key="B1", full_name="Trần Văn Nam", dob="01/02/1970", sex="Nam",
                     personal_id_number="001070000456")]  # fmt: skip
    batch_id = upload(client, police, write_csv(tmp_path / "dc01.csv", rows)).get_json()["batch_id"]
    assert process_pending(scope, after_load=match_after_load) == 1

    status = client.get(f"/api/v1/imports/{batch_id}", headers=police).get_json()
    assert status["status"] == "matched"
    persons = session.execute(sa.text(
        "SELECT source_key, person_id FROM source_record WHERE batch_id = :b ORDER BY source_key"
    ), {"b": batch_id}).all()  # fmt: skip
    by_key = dict(persons)
    assert by_key["A1"] is not None and by_key["A1"] == by_key["A2"] != by_key["B1"]

    _, agency = make_client("agency", legal_basis="a", operations=["verify"],
                            fields=["full_name"], rate_per_second=1000)  # fmt: skip
    answer = client.post(
        "/api/v1/identity/verify",
        headers=agency,
        json={"personal_id_number": pin, "full_name": "Nguyễn Thị Hòa", "purpose": "mở tài khoản"},
    )
    assert answer.status_code == 200 and answer.get_json()["match"] is True


def test_a_failing_match_hook_leaves_the_batch_loaded(client, police, scope, tmp_path) -> None:
    def broken(_scope, _batch_id):
        raise RuntimeError("matching broke")

    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(3)))
    batch_id = upload(client, police, path).get_json()["batch_id"]
    assert process_pending(scope, after_load=broken) == 1
    status = client.get(f"/api/v1/imports/{batch_id}", headers=police).get_json()
    assert status["status"] == "loaded"
