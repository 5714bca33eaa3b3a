"""Row validation: typed columns, match keys, warnings; rejected only without a name."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importers.fields import FieldValue
from importers.validate import RECORD_COLUMNS, RowValidator
from popdb.core.models.citizen import CANONICAL_FIELDS
from tests.support.reference_validate import RowResult, validate_row

COLLECTED = dt.date(2026, 3, 1)
TODAY = dt.date(2026, 11, 23)


def validator(**kw: Any) -> RowValidator:
    return RowValidator(
        collected_on=kw.pop("collected_on", COLLECTED),
        communes_in_force=kw.pop("communes_in_force", {"00004", "26740"}),
        vintage="2025-07",
        known_codes=kw.pop("known_codes", {"00004", "26740", "00667", "01", "79", "001"}),
        province_of=kw.pop("province_of", {"00667": "01"}),
        today=TODAY,
        **kw,
    )


def row(v: RowValidator | None = None, **fields: str | None) -> RowResult:
    mapped = {k: FieldValue(val, (k.upper(),)) for k, val in fields.items()}
    return validate_row(v or validator(), 7, mapped, "K-7")


def codes_of(result: RowResult) -> set[str]:
    return {i.code for i in result.issues}


def test_record_columns_are_the_citizen_columns_of_the_schema() -> None:
    from popdb.core.models import SourceRecord

    table_columns = {c.name for c in SourceRecord.__table__.columns}
    assert set(RECORD_COLUMNS) <= table_columns
    derived = {"name_key", "name_fold", "dob_year", "dob_month", "dob_day", "ethnicity_code",
               "religion_code"}  # fmt: skip
    assert set(RECORD_COLUMNS) - derived <= set(CANONICAL_FIELDS)


def test_a_full_row_is_typed_keyed_and_clean() -> None:
    r = row(
        full_name="NGUYỄN  VĂN HOÀ",
        dob="05/3/1985",
        sex="Nam",
        personal_id_number="001 085 012 345",
        ethnicity="Kinh",
        religion="Không",
        nationality="Việt Nam",
        permanent_commune_code="00004",
        father_name="Nguyễn Văn Bình",
    )
    rec = r.record
    assert not r.rejected and r.issues == []
    assert rec["full_name"] == "NGUYỄN VĂN HOÀ"
    assert (rec["family_name"], rec["middle_name"], rec["given_name"]) == ("NGUYỄN", "VĂN", "HOÀ")
    assert rec["name_key"] == "nguyễn văn hòa" and rec["name_fold"] == "nguyen van hoa"
    assert (rec["dob_year"], rec["dob_month"], rec["dob_day"]) == (1985, 3, 5)
    assert rec["sex"] == 1 and rec["personal_id_number"] == "001085012345"
    assert (rec["ethnicity_code"], rec["religion_code"], rec["nationality"]) == ("01", "00", "VN")
    assert rec["permanent_commune_code"] == "00004"


@pytest.mark.parametrize("name", [None, "", "   ", "123", "--"])
def test_a_row_without_a_name_is_the_only_rejection(name: str | None) -> None:
    r = row(full_name=name, dob="01/02/1990", personal_id_number="001090012345")
    assert r.rejected
    assert [i.severity for i in r.issues] == ["error"] and r.issues[0].code == "no_name"


def test_separate_name_parts_make_the_full_name_in_registry_order() -> None:
    r = row(given_name="John", family_name="Smith")
    assert r.record["full_name"] == "Smith John"
    assert (r.record["family_name"], r.record["given_name"]) == ("Smith", "John")


def test_a_western_full_name_is_split_given_name_first() -> None:
    r = row(validator(name_order="given_first"), full_name="Mary Ann Jones")
    rec = r.record
    assert (rec["family_name"], rec["middle_name"], rec["given_name"]) == ("Jones", "Ann", "Mary")
    assert rec["full_name"] == "Jones Ann Mary"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("00/00/1950", (1950, None, None)), ("00/07/1950", (1950, 7, None)),
     ("1950", (1950, None, None)), ("1985-03-05", (1985, 3, 5)), ("19850305", (1985, 3, 5))],
)  # fmt: skip
def test_dates_keep_their_precision(text: str, expected: tuple[int | None, ...]) -> None:
    rec = row(full_name="A B", dob=text).record
    assert (rec["dob_year"], rec["dob_month"], rec["dob_day"]) == expected


def test_a_bad_date_is_a_warning_and_the_row_is_kept() -> None:
    r = row(full_name="Lê Thị Hoa", dob="31/02/1990")
    assert not r.rejected and r.record["dob_year"] is None
    (issue,) = r.issues
    assert issue.field == "dob" and issue.column == "DOB" and issue.value == "31/02/1990"


def test_a_profile_date_format_is_used() -> None:
    mapped = {
        "full_name": FieldValue("A B", ("name",)),
        "dob": FieldValue("19900102", ("date_of_birth",), "%Y%m%d"),
    }
    rec = validate_row(validator(), 2, mapped, None).record
    assert (rec["dob_year"], rec["dob_month"], rec["dob_day"]) == (1990, 1, 2)


def test_a_birth_after_the_collection_date_is_flagged() -> None:
    assert "born_after_collection" in codes_of(row(full_name="A B", dob="01/06/2026"))


def test_a_pin_that_lost_its_leading_zeros_is_restored_with_a_warning() -> None:
    r = row(full_name="A B", personal_id_number="1085012345", dob="1985", sex="Nam")
    assert r.record["personal_id_number"] == "001085012345"
    assert codes_of(r) == {"leading_zero_restored"}


def test_a_pin_disagreeing_with_the_row_is_kept_with_warnings() -> None:
    r = row(full_name="A B", personal_id_number="027139005852", dob="1994", sex="Nam")
    assert r.record["personal_id_number"] == "027139005852"
    assert {"pin_birth_year_mismatch", "pin_sex_mismatch"} <= codes_of(r)
    assert any("1939" in i.message for i in r.issues)
    assert {i.column for i in r.issues if i.code.startswith("pin_")} == {"PERSONAL_ID_NUMBER"}


def test_a_pin_place_is_checked_against_the_pre_2025_province_of_birth_registration() -> None:
    r = row(full_name="A B", personal_id_number="079085012345", birth_registration_code="00667")
    assert "pin_place_mismatch" in codes_of(r)


@pytest.mark.parametrize(
    ("text", "code"),
    [("098199000001", "unknown_place"), ("00108901234５", "non_ascii_digit"),
     ("abc", "not_digits"), ("1.23457E+11", "scientific_notation")],
)  # fmt: skip
def test_an_invalid_pin_is_a_warning_and_not_stored(text: str, code: str) -> None:
    r = row(full_name="A B", personal_id_number=text)
    assert r.record["personal_id_number"] is None and code in codes_of(r)


def test_an_old_nine_digit_id_is_kept_and_the_duplicated_range_flagged() -> None:
    r = row(full_name="A B", other_id_number="271 460 000")
    assert r.record["other_id_number"] == "271460000"
    assert codes_of(r) == {"cmnd_issued_twice"}
    lost = row(full_name="A B", other_id_number="14067543", father_id_number="15507106")
    assert lost.record["other_id_number"] == "014067543"
    assert lost.record["father_id_number"] == "015507106"
    assert [i.code for i in lost.issues] == ["leading_zero_restored"] * 2
    passport = row(full_name="A B", other_id_number="B1234567")
    assert passport.record["other_id_number"] == "B1234567" and passport.issues == []


def test_an_old_card_number_in_the_pin_column_becomes_the_other_id_number() -> None:
    """One "Số CMND/CCCD" column holds both documents (issue 17): a 9-digit value is the
    old card, kept as other_id_number, not rejected as a PIN of the wrong length."""
    r = row(full_name="A B", personal_id_number="024 567 891")
    assert r.record["personal_id_number"] is None
    assert r.record["other_id_number"] == "024567891"
    assert codes_of(r) == {"cmnd_in_pin_column"}
    lost = row(full_name="A B", personal_id_number="24567891")  # a spreadsheet ate the zero
    assert lost.record["other_id_number"] == "024567891"
    assert codes_of(lost) == {"cmnd_in_pin_column", "leading_zero_restored"}
    own = row(full_name="A B", personal_id_number="024567891", other_id_number="B1234567")
    assert own.record["other_id_number"] == "B1234567"  # the row's own column wins
    twice = row(full_name="A B", personal_id_number="271460000")
    assert twice.record["other_id_number"] == "271460000"
    assert "cmnd_issued_twice" in codes_of(twice)
    pin12 = row(full_name="A B", personal_id_number="001085012345")
    assert pin12.record["personal_id_number"] == "001085012345"
    assert pin12.record["other_id_number"] is None


def test_commune_codes_are_checked_against_the_list_in_force() -> None:
    r = row(full_name="A B", permanent_commune_code="00667", current_commune_code="4")
    assert r.record["permanent_commune_code"] == "00667"
    assert r.record["current_commune_code"] == "00004"
    unknown = next(i for i in r.issues if i.code == "unknown_commune")
    assert "2025-07" in unknown.message and "another list" in unknown.message
    assert "leading_zero_restored" in codes_of(r)


def test_a_malformed_commune_code_is_not_stored() -> None:
    r = row(full_name="A B", permanent_commune_code="Ba Đình")
    assert r.record["permanent_commune_code"] is None and codes_of(r) == {"bad_code"}


def test_coded_fields_accept_aliases_and_warn_on_unknown_values() -> None:
    r = row(full_name="A B", ethnicity="Mèo", religion="Thiên chúa giáo", sex="X")
    assert r.record["ethnicity_code"] == "08" and r.record["religion_code"] == "02"
    assert r.record["sex"] is None
    assert any(i.field == "sex" and i.value == "X" for i in r.issues)


def test_legacy_font_names_are_flagged() -> None:
    assert "legacy_encoding" in codes_of(row(full_name="NguyÔn V¨n An"))


def test_overlong_values_are_kept_with_a_warning() -> None:
    r = row(full_name="A B", permanent_address="x" * 400)
    assert len(r.record["permanent_address"]) == 400 and codes_of(r) == {"too_long"}


def test_phone_numbers_are_normalised() -> None:
    assert row(full_name="A B", phone="+84 912 345 678").record["phone"] == "0912345678"
    assert row(full_name="A B", phone="912345678").record["phone"] == "0912345678"
    odd = row(full_name="A B", phone="12")
    assert odd.record["phone"] == "12" and codes_of(odd) == {"unusual_phone"}


def test_another_countrys_number_with_its_country_code_is_kept_without_a_warning() -> None:
    uk = row(full_name="A B", phone="+44 (20) 7946-0958")
    assert uk.record["phone"] == "+442079460958" and not uk.issues
    assert codes_of(row(full_name="A B", phone="+44 12")) == {"unusual_phone"}


_CHECKS = {
    "personal_id_number": re.compile(r"^[0-9]{12}$"),
    "permanent_commune_code": re.compile(r"^[0-9]{5}$"),
    "current_commune_code": re.compile(r"^[0-9]{5}$"),
    "ethnicity_code": re.compile(r"^[0-9]{2}$"),
    "religion_code": re.compile(r"^[0-9]{2}$"),
    "nationality": re.compile(r"^[A-Z]{2}$"),
}


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(CANONICAL_FIELDS)), st.text(max_size=30)))
def test_whatever_the_cells_hold_the_typed_values_satisfy_the_database_checks(
    cells: dict[str, str],
) -> None:
    result = row(**cells)
    rec = result.record
    for column, pattern in _CHECKS.items():
        assert rec[column] is None or pattern.match(str(rec[column])), (column, rec[column])
    assert rec["sex"] in (None, 0, 1, 2)
    assert rec["marital_status"] in (None, 0, 1, 2, 3)
    assert rec["blood_group"] in (None, "00", "01", "02", "03", "04")
    if rec["dob_year"] is not None:
        assert 1850 <= rec["dob_year"] <= 2400
    assert rec["dob_day"] is None or rec["dob_month"] is not None
    assert result.rejected == (rec["full_name"] is None)
