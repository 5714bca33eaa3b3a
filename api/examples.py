"""One example per operation of the OpenAPI document (request body where there is one, and
the success answer), attached by `api.openapi.DocPlugin`; tests/api/test_openapi_document.py
checks that every operation has one and that each JSON example fits its schema."""

from __future__ import annotations

from typing import Any

_RID = "3f2c9a0e5b7d4e21a8c6f0d9b1e4a7c2"
_BATCH = {
    "batch_id": 42, "status": "matched", "commune_code": "00004",
    "file_name": "phuc-xa-2026-11.xlsx", "collected_on": "2026-11-30", "rows": 1250,
    "accepted": 1243, "rejected": 7, "warnings": 19, "duplicate_batch": False,
    "failure_reason": None, "error_report": "/api/v1/imports/42/errors",
    "created_at": "2026-12-01T08:15:02+00:00", "started_at": "2026-12-01T08:15:03+00:00",
    "finished_at": "2026-12-01T08:16:40+00:00", "unmapped_columns": [], "notes": [],
    "held_for_preview": False,
}  # fmt: skip
_FIELDS = {"full_name": "Nguyễn Thị Hòa", "dob": "1990-05-12", "sex": 2,
           "personal_id_number": "001190000001", "ethnicity_code": "01"}  # fmt: skip
_RECORD = {
    "id": 9001, "person_id": 501, "source_key": "00004-0000117", "status": "accepted",
    "batch": {"id": 42, "commune_code": "00004", "file_name": "phuc-xa-2026-11.xlsx",
              "collected_on": "2026-11-30", "row_number": 117},
    "warnings": [], "fields": _FIELDS,
}  # fmt: skip
_GOLDEN = {"id": 501, "personal_id_number": "001190000001", "pin_state": "kept",
           "status": "active", "merged_into_id": None, "version": 3, "fields": _FIELDS}
_SUMMARY = {
    "id": 77, "status": "pending", "awaiting_approval": False, "probability": 0.8731,
    "match_weight": 2.78, "decision": "review", "review_reason": None,
    "blocking_rule": "name_fold, dob_year", "model_version": 1, "left_record_id": 9001,
    "right_record_id": 9350, "left_person_id": 501, "right_person_id": 733,
    "communes": ["00004", "00007"], "claimed_by": None, "claimed_until": None,
    "decided_by": None, "decided_at": None, "merge_requested_by": None, "version": 1,
}  # fmt: skip

_HELD = {"batch_id": 43, "commune_code": "00004", "file_name": "phuc-xa-2026-12.xlsx",
         "status": "loaded", "collected_on": "2026-12-05", "rows": 310, "accepted": 308,
         "created_at": "2026-12-06T09:00:00+00:00"}  # fmt: skip
_EXAMPLE = {
    "record_id": 9401, "row_number": 2, "source_key": "00004-0000201",
    "full_name": "Nguyễn Thị Hòa", "dob": "1990-05-12", "person_id": 501,
    "candidate_record_id": 9001, "candidate_person_id": 501, "probability": 0.9998,
    "match_weight": 21.4, "decision": "auto_link", "review_status": None,
    "reasons": ["name: exact", "dob: exact", "pin: exact"],
}  # fmt: skip
_OUTCOME = {
    "batch_id": 43, "records": 308, "counts": {"link": 251, "new": 49, "review": 8},
    "new_persons": 47, "review_items": 9,
    "examples": {"link": [_EXAMPLE], "new": [], "review": [{
        **_EXAMPLE, "record_id": 9460, "row_number": 61, "person_id": None,
        "candidate_record_id": 9350, "candidate_person_id": 733, "probability": 0.91,
        "match_weight": 3.3, "decision": "auto_link", "review_status": "pending",
        "reasons": ["the records' groups hold different personal ID numbers", "name: exact",
                    "dob: exact", "pin: one_slip"]}]},
    "match": {"new_records": 308, "auto_links": 260, "reviews": 9,
              "persons": {"persons_created": 47, "records_linked": 251}},
}  # fmt: skip
_SETTING = {"commune_code": "00004", "match_preview": True, "set_by": "admin:lan (#7)",
            "reason": "new clerks: look at each batch first",
            "set_at": "2026-12-06T08:00:00+00:00"}  # fmt: skip

EXAMPLES: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/me"): {"responses": {"200": {
        "client_id": 3, "name": "Công an xã Phúc Xá", "role": "police",
        "commune_code": "00004", "policy": {}}}},
    ("POST", "/api/v1/imports"): {
        "request": {"commune_code": "00004", "collected_on": "2026-11-30"},
        "responses": {"202": {**_BATCH, "status": "received", "rows": 0, "accepted": 0,
                              "rejected": 0, "warnings": 0, "error_report": None,
                              "started_at": None, "finished_at": None},
                      "200": {**_BATCH, "duplicate_batch": True}}},
    ("GET", "/api/v1/imports"): {"responses": {"200": {"items": [_BATCH], "next": None}}},
    ("GET", "/api/v1/imports/{batch_id}"): {"responses": {"200": _BATCH}},
    ("GET", "/api/v1/imports/{batch_id}/errors"): {"responses": {"200": (
        "row_number,source_key,column,value,problem,severity\r\n"
        "18,00004-0000018,Ngày sinh,31/02/1990,not a date,error\r\n")}},
    ("GET", "/api/v1/reviews"): {"responses": {"200": {"items": [_SUMMARY],
                                                       "next": "0.8731_77"}}},
    ("GET", "/api/v1/reviews/export"): {"responses": {"200": (
        "item_id,status,awaiting_approval,probability,match_weight,review_reason,communes,"
        "left_record_id,left_person_id,left_full_name,left_dob,left_personal_id_number,"
        "right_record_id,right_person_id,right_full_name,right_dob,right_personal_id_number"
        "\r\n77,pending,no,0.8731,2.78,,00004 00007,9001,501,Nguyễn Thị Hòa,1990-05-12,"
        "001190000001,9350,733,NGUYỄN THỊ HOÀ,1990-05,\r\n")}},
    ("POST", "/api/v1/reviews/claim"): {"responses": {"200": {**_SUMMARY, "status": "claimed"}}},
    ("GET", "/api/v1/reviews/{item_id}"): {"responses": {"200": {
        **_SUMMARY, "prior_weight": -9.1, "explained_weight": 2.78,
        "explained_probability": 0.8731,
        "comparisons": [{"comparison": "name", "left": "nguyễn thị hòa",
                         "right": "nguyễn thị hòa", "level": "exact", "m": 0.91, "u": 0.0004,
                         "bayes_factor_weight": 11.15, "term_frequency_weight": -1.2,
                         "weight": 9.95}],
        "left": _RECORD, "right": {**_RECORD, "id": 9350, "person_id": 733},
        "left_person": _GOLDEN, "right_person": {**_GOLDEN, "id": 733},
        "differences": ["dob"], "four_eyes": False}}},
    ("POST", "/api/v1/reviews/{item_id}/decision"): {
        "request": {"decision": "merge", "version": 1, "reason": "same mother, same hometown"},
        "responses": {"200": {"item_id": 77, "status": "merged", "decision": "merge",
                              "person_id": 501, "retired_person_id": 733,
                              "awaiting_approval": False, "version": 2}}},
    ("GET", "/api/v1/persons/search"): {"responses": {"200": {"kind": "name", "items": [{
        "id": 501, "personal_id_number": "001190000001", "pin_state": "kept",
        "status": "active", "merged_into_id": None, "full_name": "Nguyễn Thị Hòa",
        "dob": "1990-05-12", "sex": 2, "permanent_commune_code": "00004"}]}}},
    ("GET", "/api/v1/persons/{person_id}"): {"responses": {"200": {
        **_GOLDEN, "source_records": [_RECORD],
        "personal_id_numbers": [{"personal_id_number": "001190000001", "reason": "kept",
                                 "assigned_at": "2026-12-01T08:16:40+00:00",
                                 "retired_at": None}],
        "merged_person_ids": [733],
        "household": {"current": {
            "household_id": 8, "membership_id": 21, "household_number": "HK-0117",
            "address": "Số 12 ngõ 5 phố Kim Mã, Phường Ba Đình, Hà Nội",
            "commune_code": "00004", "relation": "wife", "relation_label": "Vợ",
            "valid_from": "2026-11-30",
            "head": {"person_id": 502, "full_name": "Nguyễn Văn An"},
            "members": [
                {"person_id": 502, "full_name": "Nguyễn Văn An", "relation": "head",
                 "relation_label": "Chủ hộ", "valid_from": "2026-11-30"},
                {"person_id": 501, "full_name": "Nguyễn Thị Hòa", "relation": "wife",
                 "relation_label": "Vợ", "valid_from": "2026-11-30"}]},
            "past": [{"membership_id": 3, "household_id": 2, "household_number": None,
                      "address": "Số 3 phố Huế, Hà Nội", "commune_code": "00004",
                      "relation": "child", "relation_label": "Con",
                      "valid_from": "2025-08-01", "valid_to": "2026-11-30",
                      "end_reason": "moved"}]}}}},
    ("POST", "/api/v1/persons/{person_id}/household/end"): {
        "request": {"reason": "chuyển hộ khẩu đi nơi khác", "valid_to": "2026-12-05"},
        "responses": {"200": {"person_id": 501, "membership_id": 21, "household_id": 8,
                              "valid_to": "2026-12-05"}}},
    ("GET", "/api/v1/persons/{person_id}/history"): {"responses": {"200": {"items": [
        {"id": 1201, "kind": "created", "actor": "matcher", "reason": "new cluster",
         "data": {"source_record_ids": [9001]}, "created_at": "2026-12-01T08:16:40+00:00"},
        {"id": 1388, "kind": "merged", "actor": "admin:5 Trần Văn Bình", "reason": None,
         "data": {"from_person_id": 733, "source_record_ids": [9350]},
         "created_at": "2026-12-02T10:01:12+00:00"}], "next": None}}},
    ("POST", "/api/v1/persons/{person_id}/unmerge"): {
        "request": {"source_record_ids": [9350], "reason": "twins: different birth order"},
        "responses": {"200": {"from_person_id": 501, "person_id": 733, "revived": True,
                              "moved_record_ids": [9350],
                              "personal_id_number": "001190000002"}}},
    ("GET", "/api/v1/persons/{person_id}/access-log"): {"responses": {"200": {
        "person_id": 501, "next": None, "items": [{
            "event_id": 88123, "occurred_at": "2026-12-03T09:12:44+00:00", "client_id": 12,
            "client_name": "Ngân hàng A", "role": "agency", "action": "identity.verify",
            "purpose": "mở tài khoản (KYC)", "legal_basis": "đ",
            "fields": ["full_name", "dob"], "officer_id": "gdv-017",
            "consent_ref": "KYC-2026-000123", "request_id": _RID}]}}},
    ("POST", "/api/v1/identity/verify"): {
        "request": {"personal_id_number": "001190000001", "full_name": "Nguyễn Thị Hòa",
                    "dob": "1990-05-12", "sex": "Nữ", "purpose": "mở tài khoản (KYC)",
                    "consent_ref": "KYC-2026-000123"},
        "responses": {"200": {"match": True, "request_id": _RID}}},
    ("POST", "/api/v1/identity/verify/batch"): {
        "request": {"purpose": "rà soát hồ sơ bảo hiểm", "items": [
            {"personal_id_number": "001190000001", "full_name": "Nguyễn Thị Hòa"},
            {"personal_id_number": "001190000002", "dob": "1985", "sex": 1}]},
        "responses": {"200": {"items": [{"match": True}, {"match": False}],
                              "request_id": _RID}}},
    ("GET", "/api/v1/identity/persons/{personal_id_number}"): {"responses": {"200": {
        "personal_id_number": "001190000001", "full_name": "Nguyễn Thị Hòa",
        "dob": "1990-05-12", "sex": 2, "request_id": _RID}}},
    ("POST", "/api/v1/identity/check"): {
        "request": {"personal_id_number": "001190000001", "purpose": "xét trợ cấp",
                    "predicates": {"alive": True, "age_at_least": 18, "resides_in": "01"}},
        "responses": {"200": {"answers": {"alive": True, "age_at_least": True,
                                          "resides_in": True}, "request_id": _RID}}},
    ("POST", "/api/v1/persons/{person_id}/life-events"): {
        "request": {"kind": "death", "occurred_on": "2026-11-02",
                    "record_reference": "Trích lục khai tử số 123/2026",
                    "authority": "UBND xã Phúc Xá",
                    "reason": "death registered by the commune"},
        "responses": {"201": {"id": 31, "person_id": 501, "kind": "death",
                              "status_before": "active", "status_after": "deceased"}}},
    ("POST", "/api/v1/persons/{person_id}/corrections"): {
        "request": {"field": "full_name", "value": "Nguyễn Thị Hoà",
                    "evidence": "Giấy khai sinh bản chính số 45", "reason": "tone mark misread"},
        "responses": {"201": {"id": 12, "person_id": 501, "field": "full_name",
                              "status": "pending", "four_eyes": True, "version": 1}}},
    ("POST", "/api/v1/persons/corrections/{correction_id}/decision"): {
        "request": {"decision": "approve", "version": 1, "reason": "birth certificate seen"},
        "responses": {"200": {"id": 12, "person_id": 501, "field": "full_name",
                              "status": "applied", "four_eyes": True, "version": 2}}},
    ("POST", "/api/v1/identity/lookup"): {
        "request": {"personal_id_number": "001190000001", "purpose": "khám chữa bệnh BHYT"},
        "responses": {"200": {
            "personal_id_number": "001190000001", "full_name": "Nguyễn Thị Hòa",
            "dob": "1990-05-12", "sex": 2, "request_id": _RID}}},
    ("GET", "/api/v1/batches/held"): {"responses": {"200": {"items": [_HELD], "next": None}}},
    ("GET", "/api/v1/batches/{batch_id}/preview"): {"responses": {"200": _OUTCOME}},
    ("POST", "/api/v1/batches/{batch_id}/release"): {
        "request": {"reason": "examples checked: the links are the same people"},
        "responses": {"200": {k: v for k, v in _OUTCOME.items() if k != "examples"}}},
    ("GET", "/api/v1/communes/settings"): {"responses": {"200": {"items": [_SETTING],
                                                                 "next": None}}},
    ("GET", "/api/v1/communes/{commune_code}/settings"): {"responses": {"200": _SETTING}},
    ("PUT", "/api/v1/communes/{commune_code}/settings"): {
        "request": {"match_preview": True, "reason": "new clerks: look at each batch first"},
        "responses": {"200": _SETTING}},
}  # fmt: skip
