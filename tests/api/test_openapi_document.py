"""The OpenAPI document: valid OpenAPI 3, the upload as one multipart/form-data body, an
example on every operation (fitting its schema), the shared error responses, UTF-8 text.
And the API's consistency: one 400 `invalid_input` for bad input, sex as code or word."""

from __future__ import annotations

from pathlib import Path

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate

from api import create_app
from popdb.core.codes import sex_claim
from popdb.core.settings import Settings
from tests.support.persons import add_person

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def document() -> dict:
    offline = Settings(database_url="postgresql://unused", home=Path("/nonexistent"))
    app = create_app(offline, session_factory=lambda: None)  # type: ignore[arg-type,return-value]
    r = app.test_client().get("/openapi.json")
    assert "\\u" not in r.get_data(as_text=True)  # "Nữ", never "N\u1eef"
    return r.get_json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def test_the_document_is_valid_openapi_3(document) -> None:
    validate(document)
    assert document["openapi"].startswith("3.")
    assert "formData" not in str(document)


def test_the_upload_is_one_multipart_body_with_every_field(document) -> None:
    body = document["paths"]["/api/v1/imports"]["post"]["requestBody"]
    assert list(body["content"]) == ["multipart/form-data"]
    ref = body["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = document["components"]["schemas"][ref]
    assert {"file", "commune_code", "collected_on", "mapping"} <= set(schema["properties"])
    assert schema["properties"]["file"]["format"] == "binary" and schema["required"] == ["file"]
    assert "parameters" not in document["paths"]["/api/v1/imports"]["post"]


def test_every_operation_has_examples_and_its_error_responses(document) -> None:
    for method, path, op in _operations(document):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        assert {"401", "403", "429"} <= set(responses), where
        assert "422" not in responses, where
        if "400" in responses:
            assert "example" in responses["400"]["content"]["application/json"], where
        if "requestBody" in op:
            assert "413" in responses and "400" in responses, where
            assert all("example" in m for m in op["requestBody"]["content"].values()), where
        ok = [s for s in responses if s.startswith("2") and "content" in responses[s]]
        assert ok, where
        for status in ok:
            assert all("example" in m for m in responses[status]["content"].values()), (
                where, status)


def _fits(document: dict, schema: dict, example) -> None:
    OAS30Validator({**schema, "components": document["components"]}).validate(example)


def test_every_json_example_fits_its_schema(document) -> None:
    checked = 0
    for method, path, op in _operations(document):
        media = [*op.get("requestBody", {}).get("content", {}).items()]
        for response in op["responses"].values():
            media += [*response.get("content", {}).items()]
        for content_type, m in media:
            if content_type == "application/json" and "example" in m and "schema" in m:
                try:
                    _fits(document, m["schema"], m["example"])
                except Exception as exc:  # noqa: BLE001
                    pytest.fail(f"{method.upper()} {path}: {exc}")
                checked += 1
    assert checked > 40


def test_bad_input_is_one_400_everywhere(client, make_client, session) -> None:
    _, admin = make_client("admin")
    _, agency = make_client("agency", legal_basis="a", fields=["full_name"],
                            operations=["verify", "lookup"])  # fmt: skip
    person = add_person(session, personal_id_number="001190000001")
    answers = [
        client.post("/api/v1/identity/verify", headers=agency, json={"personal_id_number": "1"}),
        client.get("/api/v1/identity/persons/12ab?purpose=kyc", headers=agency),
        client.post("/api/v1/reviews/1/decision", headers=admin, json={"decision": "maybe"}),
        client.post(f"/api/v1/persons/{person.id}/unmerge", headers=admin, json={}),
        client.get("/api/v1/reviews?limit=0", headers=admin),
        client.get("/api/v1/reviews?after=nonsense", headers=admin),
        client.get("/api/v1/persons/search", headers=admin),
    ]
    for r in answers:
        body = r.get_json()
        assert r.status_code == 400 and body["code"] == "invalid_input", body
        assert set(body) == {"code", "status", "message", "errors", "request_id"}
        assert body["status"] == 400


def test_json_answers_are_readable_utf8(client, make_client, session) -> None:
    _, admin = make_client("admin")
    person = add_person(session, personal_id_number="001190000001")
    r = client.get(f"/api/v1/persons/{person.id}", headers=admin)
    assert "Nguyễn Thị Hòa".encode() in r.get_data() and b"\\u" not in r.get_data()


@pytest.mark.parametrize(("value", "code"), [
    (1, 1), (2, 2), (0, 0), ("1", 1), ("Nam", 1), ("nam", 1), ("NAM", 1), ("Nữ", 2),
    ("nữ", 2), ("nu", 2), ("NU", 2), ("male", 1), ("female", 2),
])  # fmt: skip
def test_sex_claims_read_codes_and_words(value, code) -> None:
    assert sex_claim(value) == code


@pytest.mark.parametrize("value", [3, -1, True, None, "", "x", "Nứ", 1.5, [1]])
def test_sex_claims_refuse_anything_else(value) -> None:
    with pytest.raises(ValueError):
        sex_claim(value)


def test_verify_takes_sex_as_a_word(client, make_client, session) -> None:
    _, agency = make_client("agency", legal_basis="a", fields=["full_name"],
                            operations=["verify"])  # fmt: skip
    add_person(session, personal_id_number="001190000001", sex=2)
    for sex, match in (("Nữ", True), ("nu", True), (2, True), ("Nam", False)):
        r = client.post("/api/v1/identity/verify", headers=agency,
                        json={"personal_id_number": "001190000001", "sex": sex,
                              "purpose": "kiểm tra"})  # fmt: skip
        assert r.status_code == 200 and r.get_json()["match"] is match, (sex, r.get_json())
    bad = client.post("/api/v1/identity/verify", headers=agency,
                      json={"personal_id_number": "001190000001", "sex": "Nứ",
                            "purpose": "kiểm tra"})  # fmt: skip
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_input"
    assert "sex" in str(bad.get_json()["errors"])
