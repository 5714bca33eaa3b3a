"""importers.mapping: a profile says which column holds which field, or says clearly why not."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from importers.fields import FieldValue
from importers.mapping import (
    BoundProfile,
    FieldSpec,
    MappingError,
    MappingProfile,
    load_profile,
    parse_profile,
)
from importers.readers import open_table
from importers.recognise import resolve_profile

WESTERN_HEADER = [
    "rec_id",
    "given_name",
    "surname",
    "date_of_birth",
    "street_number",
    "address_1",
    "suburb",
    "postcode",
    "state",
    "soc_sec_id",
]
WESTERN_PROFILE = {
    "source_key": "rec_id",
    "name_order": "given_first",
    "fields": {
        "family_name": "surname",
        "given_name": "given_name",
        "dob": {"column": "date_of_birth", "format": "%Y%m%d"},
        "other_id_number": "soc_sec_id",
        "permanent_address": {
            "concat": ["street_number", "address_1", "suburb", "postcode"],
            "sep": " ",
        },
    },
}


def _error(data: Any) -> str:
    """The message of the MappingError that parsing `data` raises."""
    with pytest.raises(MappingError) as info:
        parse_profile(data)
    return str(info.value)


def _bind_error(header: list[str], data: Any) -> str:
    with pytest.raises(MappingError) as info:
        parse_profile(data).bind(header)
    return str(info.value)


# --- the three forms of a field ------------------------------------------------------------


def test_a_string_maps_one_column_and_strips_its_value() -> None:
    bound = parse_profile({"fields": {"full_name": "name"}}).bind(["name", "x"])
    row = bound.map_row({"name": "  Nguyễn Văn An ", "x": "1"})
    assert row == {"full_name": FieldValue("Nguyễn Văn An", ("name",), None)}


def test_a_column_object_carries_its_date_format_to_the_field_value() -> None:
    profile = parse_profile(
        {"fields": {"full_name": "n", "dob": {"column": "born", "format": "%Y%m%d"}}}
    )
    assert profile.fields["dob"] == FieldSpec(("born",), format="%Y%m%d")
    row = profile.bind(["n", "born"]).map_row({"n": "An", "born": "19500512"})
    assert row["dob"] == FieldValue("19500512", ("born",), "%Y%m%d")


def test_a_column_object_without_format_has_no_format_hint() -> None:
    profile = parse_profile({"fields": {"full_name": {"column": "n"}}})
    assert profile.fields["full_name"] == FieldSpec(("n",), format=None)


def test_concat_joins_the_non_empty_parts_with_the_separator() -> None:
    profile = parse_profile(
        {"fields": {"full_name": "n", "current_address": {"concat": ["a", "b", "c"], "sep": ", "}}}
    )
    bound = profile.bind(["n", "a", "b", "c"])
    row = bound.map_row({"n": "An", "a": " 12 ", "b": "  ", "c": "Hà Nội"})
    assert row["current_address"] == FieldValue("12, Hà Nội", ("a", "b", "c"), None)


def test_concat_separator_defaults_to_one_space() -> None:
    profile = parse_profile({"fields": {"full_name": {"concat": ["ho", "ten"]}}})
    row = profile.bind(["ho", "ten"]).map_row({"ho": "Lê", "ten": "Hoa"})
    assert row["full_name"].value == "Lê Hoa"


def test_fields_whose_cells_are_all_empty_are_left_out() -> None:
    profile = parse_profile(
        {"fields": {"full_name": "n", "sex": "s", "hometown": {"concat": ["a", "b"]}}}
    )
    row = profile.bind(["n", "s", "a", "b"]).map_row({"n": "An", "s": None, "a": "", "b": " "})
    assert row == {"full_name": FieldValue("An", ("n",), None)}


def test_the_same_column_may_feed_two_fields() -> None:
    profile = parse_profile({"fields": {"full_name": "n", "other_names": "n"}})
    row = profile.bind(["n"]).map_row({"n": "An"})
    assert row["full_name"].value == row["other_names"].value == "An"


def test_name_order_defaults_to_family_first_and_reads_given_first() -> None:
    assert parse_profile({"fields": {"full_name": "n"}}).name_order == "family_first"
    profile = parse_profile({"fields": {"full_name": "n"}, "name_order": "given_first"})
    assert profile.name_order == "given_first"
    assert profile.bind(["n"]).name_order == "given_first"


# --- source key -----------------------------------------------------------------------------


def test_a_single_source_key_column_gives_the_row_key() -> None:
    bound = parse_profile({"source_key": "id", "fields": {"full_name": "n"}}).bind(["id", "n"])
    assert bound.source_key({"id": " A-17 ", "n": "An"}) == "A-17"
    assert bound.source_key({"id": None, "n": "An"}) is None


def test_a_composite_source_key_joins_its_columns_with_a_bar() -> None:
    profile = parse_profile({"source_key": ["commune", "no"], "fields": {"full_name": "n"}})
    assert profile.source_key == ("commune", "no")
    bound = profile.bind(["commune", "no", "n"])
    assert bound.source_key({"commune": "00004", "no": "12", "n": "An"}) == "00004|12"
    assert bound.source_key({"commune": "00004", "no": None, "n": "An"}) == "00004|"
    assert bound.source_key({"commune": None, "no": " ", "n": "An"}) is None


def test_without_a_source_key_rows_have_none() -> None:
    bound = parse_profile({"fields": {"full_name": "n"}}).bind(["n"])
    assert bound.source_key({"n": "An"}) is None


def test_unmapped_columns_are_those_no_field_or_key_reads_in_file_order() -> None:
    profile = parse_profile({"source_key": "id", "fields": {"full_name": "n"}})
    bound = profile.bind(["note", "id", "n", "extra"])
    assert bound.unmapped_columns == ["note", "extra"]


# --- errors in the profile ------------------------------------------------------------------


@pytest.mark.parametrize("data", [[], "fields", 3, None])
def test_a_profile_that_is_not_an_object_is_rejected(data: Any) -> None:
    assert "must be a JSON object" in _error(data)


def test_a_profile_without_fields_is_rejected() -> None:
    assert '"fields"' in _error({"source_key": "id"})


def test_a_profile_with_empty_fields_is_rejected() -> None:
    assert '"fields" in the mapping profile is empty' in _error({"fields": {}})


def test_fields_that_are_not_an_object_are_rejected() -> None:
    message = _error({"fields": ["full_name"]})
    assert '"fields"' in message and "a list" in message


def test_an_unknown_top_level_key_is_named_with_the_allowed_ones() -> None:
    message = _error({"fields": {"full_name": "n"}, "sourcekey": "id"})
    assert '"sourcekey"' in message
    assert '(did you mean "source_key"?)' in message
    assert '"fields", "household_id", "name_order", "source_key"' in message


def test_an_unknown_field_lists_the_valid_ones_and_suggests_the_closest() -> None:
    message = _error({"fields": {"full_nam": "n"}})
    assert '"full_nam"' in message
    assert '(did you mean "full_name"?)' in message
    assert "personal_id_number" in message and "household_head_relation" in message


def test_an_unknown_field_written_the_western_way_suggests_its_canonical_name() -> None:
    assert '(did you mean "family_name"?)' in _error({"fields": {"surname": "s"}})
    assert '(did you mean "dob"?)' in _error({"fields": {"date_of_birth": "d"}})


@pytest.mark.parametrize("spec", [3, None, ["a", "b"], True])
def test_a_field_value_of_the_wrong_type_names_the_field_and_the_forms(spec: Any) -> None:
    message = _error({"fields": {"full_name": spec}})
    assert '"full_name"' in message
    assert '"column"' in message and '"concat"' in message


def test_a_spec_object_with_neither_column_nor_concat_is_rejected() -> None:
    message = _error({"fields": {"dob": {"format": "%Y"}}})
    assert 'Field "dob"' in message and '"column" or "concat"' in message


def test_a_spec_with_both_column_and_concat_is_rejected() -> None:
    message = _error({"fields": {"full_name": {"column": "a", "concat": ["a", "b"]}}})
    assert 'Field "full_name"' in message and "both" in message


def test_an_unknown_key_in_a_column_spec_is_named() -> None:
    message = _error({"fields": {"dob": {"column": "d", "date_format": "%Y"}}})
    assert '"date_format"' in message and 'field "dob"' in message
    assert '"column", "format"' in message


def test_an_unknown_key_in_a_concat_spec_is_named() -> None:
    message = _error({"fields": {"full_name": {"concat": ["a"], "separator": "-"}}})
    assert '"separator"' in message and '"concat", "sep"' in message


def test_an_empty_concat_is_rejected() -> None:
    message = _error({"fields": {"hometown": {"concat": []}}})
    assert '"concat" of field "hometown" is empty' in message


def test_a_concat_that_is_not_a_list_is_rejected() -> None:
    assert '"concat" of field "hometown"' in _error({"fields": {"hometown": {"concat": "a"}}})


def test_an_empty_column_name_is_rejected() -> None:
    assert 'field "full_name"' in _error({"fields": {"full_name": "  "}})


@pytest.mark.parametrize("fmt", ["%Y-%a-%d", "%Y%j", "%H %Y"])
def test_a_date_format_with_other_directives_is_rejected(fmt: str) -> None:
    message = _error({"fields": {"full_name": "n", "dob": {"column": "d", "format": fmt}}})
    assert f'"{fmt}"' in message and 'field "dob"' in message
    assert "%d, %m, %b or %B (month name), %Y and literal text" in message


@pytest.mark.parametrize(
    ("fmt", "why"),
    [("%Y%", "lone %"), ("%d/%Y", "no month"), ("%d %m %b %Y", "at most once")],
)
def test_a_date_format_the_parser_cannot_use_is_rejected_with_the_reason(
    fmt: str, why: str
) -> None:
    message = _error({"fields": {"dob": {"column": "d", "format": fmt}}})
    assert f'"{fmt}"' in message and why in message


def test_a_list_of_date_formats_is_kept_in_order() -> None:
    profile = parse_profile(
        {"fields": {"full_name": "n", "dob": {"column": "d", "format": ["%m/%d/%Y", "%d-%b-%Y"]}}}
    )
    assert profile.fields["dob"].format == ("%m/%d/%Y", "%d-%b-%Y")


@pytest.mark.parametrize("fmt", [[], ["%d/%m/%Y", 3], {"a": 1}])
def test_a_list_of_date_formats_must_be_non_empty_strings(fmt: object) -> None:
    assert "non-empty list" in _error({"fields": {"dob": {"column": "d", "format": fmt}}})


def test_each_format_of_a_list_is_checked() -> None:
    message = _error({"fields": {"dob": {"column": "d", "format": ["%d/%m/%Y", "%d/%m/%y"]}}})
    assert '"%d/%m/%y"' in message and "two-digit years are ambiguous" in message


def test_a_two_digit_year_is_rejected_with_the_reason() -> None:
    message = _error({"fields": {"dob": {"column": "d", "format": "%d.%m.%y"}}})
    assert "two-digit years are ambiguous" in message


@pytest.mark.parametrize(
    "fmt", ["%Y%m%d", "%d/%m/%Y", "ngày %d tháng %m năm %Y", "%Y", "%m-%Y%%", "%d-%b-%Y", "%B %Y"]
)
def test_day_month_year_and_literal_text_make_a_valid_date_format(fmt: str) -> None:
    profile = parse_profile({"fields": {"dob": {"column": "d", "format": fmt}}})
    assert profile.fields["dob"].format == fmt


@pytest.mark.parametrize("fmt", ["%d/%m", "%Y/%m/%Y"])
def test_a_date_format_needs_the_year_once(fmt: str) -> None:
    assert "must contain %Y once" in _error({"fields": {"dob": {"column": "d", "format": fmt}}})


def test_a_format_on_a_field_that_is_not_a_date_is_rejected() -> None:
    message = _error({"fields": {"sex": {"column": "s", "format": "%Y"}}})
    assert 'Field "sex" has a "format"' in message and '"dob"' in message


def test_a_format_that_is_not_a_string_is_rejected() -> None:
    assert '"format" of field "dob"' in _error({"fields": {"dob": {"column": "d", "format": 1}}})


def test_a_bad_name_order_is_rejected_with_the_allowed_values() -> None:
    message = _error({"fields": {"full_name": "n"}, "name_order": "surname_first"})
    assert '"surname_first"' in message and '"family_first", "given_first"' in message


@pytest.mark.parametrize("key", [[], 5, {"column": "id"}, [""], ["a", 1]])
def test_a_bad_source_key_is_rejected(key: Any) -> None:
    assert '"source_key"' in _error({"fields": {"full_name": "n"}, "source_key": key})


def test_a_profile_built_in_code_is_checked_like_one_read_from_json() -> None:
    with pytest.raises(MappingError, match='Unknown field "fullname"'):
        MappingProfile(fields={"fullname": FieldSpec(("n",))})
    with pytest.raises(MappingError, match='Field "sex" has a "format"'):
        MappingProfile(fields={"sex": FieldSpec(("s",), format="%Y")})


# --- loading a file -------------------------------------------------------------------------


def test_load_profile_reads_json_and_is_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "health_registry.json"
    path.write_text(json.dumps(WESTERN_PROFILE), encoding="utf-8")
    profile = load_profile(path)
    assert profile.name == "health_registry"
    assert profile.source_key == ("rec_id",)
    assert profile.fields["permanent_address"].columns == (
        "street_number",
        "address_1",
        "suburb",
        "postcode",
    )


def test_load_profile_reports_invalid_json_with_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"fields": {\n  "full_name": "n",\n}}', encoding="utf-8")
    with pytest.raises(MappingError) as info:
        load_profile(path)
    message = str(info.value)
    assert "broken.json is not valid JSON" in message and "line 3, column 1" in message


def test_load_profile_of_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="does not exist"):
        load_profile(tmp_path / "nope.json")


def test_load_profile_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"fields": {"full_name": "n"}}).encode())
    assert load_profile(path).fields == {"full_name": FieldSpec(("n",))}


# --- binding to a file's header -------------------------------------------------------------


def test_a_missing_column_names_the_field_and_lists_the_files_columns() -> None:
    message = _bind_error(["Họ tên", "Ngày sinh"], {"fields": {"full_name": "full name"}})
    assert 'Column "full name" wanted by field "full_name" is not in the file' in message
    assert '"Họ tên", "Ngày sinh"' in message


def test_a_missing_source_key_column_says_it_is_the_source_key() -> None:
    message = _bind_error(["n"], {"source_key": "id", "fields": {"full_name": "n"}})
    assert 'Column "id" wanted by the source key is not in the file' in message


def test_header_matching_ignores_case_spacing_and_tone_placement() -> None:
    profile = parse_profile({"fields": {"full_name": "họ tên", "hometown": "quê  quán"}})
    bound = profile.bind([" HỌ TÊN ", "Quê Quán"])
    assert bound.field_columns == {"full_name": (" HỌ TÊN ",), "hometown": ("Quê Quán",)}
    assert bound.map_row({" HỌ TÊN ": "An", "Quê Quán": "Huế"})["hometown"].value == "Huế"
    # "hoà" (modern tone placement) and "hòa" (traditional) are the same header
    assert parse_profile({"fields": {"full_name": "hoà"}}).bind(["Hòa"]).field_columns == {
        "full_name": ("Hòa",)
    }


def test_header_matching_ignores_diacritics_when_nothing_closer_exists() -> None:
    bound = parse_profile({"fields": {"full_name": "Ho ten"}}).bind(["Họ tên", "Ngày sinh"])
    assert bound.field_columns == {"full_name": ("Họ tên",)}


def test_an_exact_header_wins_over_loose_matches() -> None:
    bound = parse_profile({"fields": {"full_name": "Ho ten"}}).bind(["Họ tên", "Ho ten"])
    assert bound.field_columns == {"full_name": ("Ho ten",)}


def test_a_closer_loose_match_wins_over_a_folded_one() -> None:
    # canonical matches only "HỌ TÊN"; without diacritics "Hồ tên" would match too
    bound = parse_profile({"fields": {"full_name": "họ tên"}}).bind(["HỌ TÊN", "Hồ tên"])
    assert bound.field_columns == {"full_name": ("HỌ TÊN",)}


def test_an_ambiguous_loose_match_is_an_error_naming_the_candidates() -> None:
    message = _bind_error(["Họ tên", "Hồ tên"], {"fields": {"full_name": "ho ten"}})
    assert 'Column "ho ten" wanted by field "full_name" matches several columns' in message
    assert '"Họ tên", "Hồ tên"' in message


def test_a_western_file_maps_with_its_profile(tmp_path: Path) -> None:
    path = tmp_path / "western.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(WESTERN_HEADER)
        w.writerow(["rec-1-org", "Lachlan", "Smith", "19840217", "12", "Banks St", "Yass", "2582"])
        w.writerow(["rec-2-dup-0", "Mia", "O'Brien", "", "", "1 Main Rd", "", "3000", "vic", "9"])
    profile = parse_profile(WESTERN_PROFILE, name="western")
    with open_table(path) as table:
        bound = resolve_profile(table.header, profile)
        rows = [(bound.source_key(raw), bound.map_row(raw)) for _, raw in table.rows]

    assert bound.unmapped_columns == ["state"]
    assert bound.name_order == "given_first"
    key, first = rows[0]
    assert key == "rec-1-org"
    assert first == {
        "family_name": FieldValue("Smith", ("surname",)),
        "given_name": FieldValue("Lachlan", ("given_name",)),
        "dob": FieldValue("19840217", ("date_of_birth",), "%Y%m%d"),
        "permanent_address": FieldValue(
            "12 Banks St Yass 2582", ("street_number", "address_1", "suburb", "postcode")
        ),
    }
    key, second = rows[1]
    assert key == "rec-2-dup-0"
    assert second["family_name"].value == "O'Brien"
    assert "dob" not in second  # an empty cell maps to no value at all
    assert second["permanent_address"].value == "1 Main Rd 3000"
    assert second["other_id_number"].value == "9"


# --- resolving without a profile --------------------------------------------------------------


def test_dc01_headers_without_a_profile_use_the_dc01_profile() -> None:
    header = ["STT", "Số phiếu", "Họ, chữ đệm và tên khai sinh", "Ngày, tháng, năm sinh"]
    bound = resolve_profile(header, None)
    assert bound.profile.name == "dc01"
    assert bound.profile.name_order == "family_first"
    assert bound.source_key_columns == ("Số phiếu",)
    row = bound.map_row(
        {"STT": "1", "Số phiếu": "0042", "Họ, chữ đệm và tên khai sinh": "TRẦN THỊ NGA",
         "Ngày, tháng, năm sinh": "05/3/1985"}
    )  # fmt: skip
    assert row["full_name"] == FieldValue("TRẦN THỊ NGA", ("Họ, chữ đệm và tên khai sinh",))
    assert row["dob"].value == "05/3/1985"
    assert bound.unmapped_columns == ["STT"]


def test_dc01_alias_headers_without_a_profile_are_understood() -> None:
    header = ["STT", "HỌ VÀ TÊN", "Ngày sinh", "GT", "Số CCCD", "HKTT", "SĐT", "Tạm trú"]
    bound = resolve_profile(header, None)
    assert bound.field_columns == {
        "full_name": ("HỌ VÀ TÊN",),
        "dob": ("Ngày sinh",),
        "sex": ("GT",),
        "personal_id_number": ("Số CCCD",),
        "permanent_address": ("HKTT",),
        "phone": ("SĐT",),
    }
    assert bound.unmapped_columns == ["STT", "Tạm trú"]


def test_canonical_english_headers_without_a_profile_map_one_to_one() -> None:
    header = ["rec_id", "Full_Name", "DOB", "sex", "Given Name", "notes"]
    bound = resolve_profile(header, None)
    assert bound.profile.name == "canonical"
    assert bound.field_columns == {
        "full_name": ("Full_Name",),
        "dob": ("DOB",),
        "sex": ("sex",),
        "given_name": ("Given Name",),
    }
    assert bound.source_key_columns == ("rec_id",)
    assert bound.unmapped_columns == ["notes"]
    assert bound.map_row({"Full_Name": "An", "DOB": "1950", "sex": "1"})["dob"].value == "1950"


def test_a_column_named_source_key_is_the_key_of_a_canonical_file() -> None:
    bound = resolve_profile(["source_key", "family_name", "given_name"], None)
    assert bound.source_key({"source_key": "K1"}) == "K1"


def test_an_unrecognised_layout_asks_for_a_mapping_profile() -> None:
    with pytest.raises(MappingError) as info:
        resolve_profile(["col_a", "col_b", "col_c"], None)
    message = str(info.value)
    assert "were not recognised" in message
    assert '"col_a", "col_b", "col_c"' in message
    assert "--mapping" in message


def test_canonical_headers_without_a_name_are_rejected_as_having_no_name_column() -> None:
    with pytest.raises(MappingError, match="no name column") as info:
        resolve_profile(["dob", "sex"], None)
    assert '"dob", "sex"' in str(info.value)


def test_a_profile_that_maps_no_name_is_rejected() -> None:
    profile = parse_profile({"fields": {"dob": "d", "middle_name": "m"}}, name="partial")
    with pytest.raises(MappingError, match='"partial" maps no name column'):
        resolve_profile(["d", "m"], profile)


def test_a_given_profile_is_bound_even_when_the_headers_look_like_dc01() -> None:
    profile = parse_profile({"fields": {"full_name": "Họ tên cha"}})
    bound = resolve_profile(["Họ tên", "Họ tên cha"], profile)
    assert isinstance(bound, BoundProfile)
    assert bound.field_columns == {"full_name": ("Họ tên cha",)}
    assert bound.unmapped_columns == ["Họ tên"]
