"""importers.dc01: the DC01 form's Vietnamese headers, and the variants communes type."""

from __future__ import annotations

import pytest

from importers.dc01 import (
    DC01_COLUMNS,
    HEADER_ALIASES,
    HOUSEHOLD_HEAD_ID,
    HOUSEHOLD_HEAD_NAME,
    SOURCE_KEY,
    dc01_field,
    dc01_profile,
    header_key,
    unrecognised,
)
from importers.mapping import FieldSpec
from popdb.core.models.citizen import CANONICAL_FIELDS

DC01_HEADERS = [h for h, _ in DC01_COLUMNS]


def test_every_dc01_target_is_a_canonical_field_the_source_key_or_raw_only() -> None:
    targets = [t for _, t in DC01_COLUMNS]
    assert targets[0] == SOURCE_KEY
    assert all(t in CANONICAL_FIELDS for t in targets if t not in (SOURCE_KEY, None))
    assert [h for h, t in DC01_COLUMNS if t is None] == [HOUSEHOLD_HEAD_NAME, HOUSEHOLD_HEAD_ID]


def test_dc01_columns_follow_the_law_s_order_and_name_each_field_once() -> None:
    fields = [t for _, t in DC01_COLUMNS if t not in (SOURCE_KEY, None)]
    assert len(fields) == len(set(fields))
    assert fields[:4] == ["full_name", "other_names", "dob", "sex"]
    assert fields.index("permanent_address") < fields.index("current_address")
    assert fields.index("father_name") < fields.index("household_head_relation")
    # the headers differ even to the reader's duplicate check (case and spacing ignored)
    assert len({" ".join(h.split()).casefold() for h in DC01_HEADERS}) == len(DC01_HEADERS)


def test_the_full_dc01_header_maps_every_field_with_a_family_first_name() -> None:
    profile = dc01_profile(DC01_HEADERS)
    assert profile is not None
    assert profile.name == "dc01"
    assert profile.name_order == "family_first"
    assert profile.source_key == ("Số phiếu",)
    assert profile.fields == {
        t: FieldSpec((h,)) for h, t in DC01_COLUMNS if t not in (SOURCE_KEY, None)
    }


def test_header_key_drops_case_diacritics_and_punctuation() -> None:
    assert header_key("Họ, chữ đệm và tên") == "ho chu dem va ten"
    assert header_key("  HỌ VÀ TÊN ") == "ho va ten"
    assert header_key("Họ tên vợ/chồng") == header_key("Ho ten vo chong") == "ho ten vo chong"
    assert header_key("Số ĐDCN") == "so ddcn"
    assert header_key(None) == ""


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Họ và tên", "full_name"),
        ("Họ tên", "full_name"),
        ("Họ, tên", "full_name"),
        ("HỌ VÀ TÊN", "full_name"),
        ("ho va ten", "full_name"),
        ("Ngày sinh", "dob"),
        ("Ngày tháng năm sinh", "dob"),
        ("NS", "dob"),
        ("Giới tính", "sex"),
        ("GT", "sex"),
        ("Phái", "sex"),
        ("Số ĐDCN", "personal_id_number"),
        ("Số định danh", "personal_id_number"),
        ("Số CCCD", "personal_id_number"),
        ("CCCD", "personal_id_number"),
        ("Số căn cước", "personal_id_number"),
        ("CMND", "other_id_number"),
        ("Số CMND 9 số", "other_id_number"),
        ("Nơi ĐKKS", "birth_registration_place"),
        ("Thường trú", "permanent_address"),
        ("Địa chỉ thường trú", "permanent_address"),
        ("HKTT", "permanent_address"),
        ("Chỗ ở hiện nay", "current_address"),
        ("Nơi ở hiện nay", "current_address"),
        ("Họ tên cha", "father_name"),
        ("Họ tên bố", "father_name"),
        ("Tên cha", "father_name"),
        ("Họ tên mẹ", "mother_name"),
        ("Quan hệ với chủ hộ", "household_head_relation"),
        ("QH với CH", "household_head_relation"),
        ("Quan hệ", "household_head_relation"),
        ("SĐT", "phone"),
        ("Điện thoại", "phone"),
        ("Số phiếu", SOURCE_KEY),
        ("Mã phiếu", SOURCE_KEY),
        # a commune's own layouts: words run together or joined by underscores
        ("HOTEN", "full_name"),
        ("HO_TEN", "full_name"),
        ("NGAYSINH", "dob"),
        ("GIOITINH", "sex"),
        ("QUEQUAN", "hometown"),
        ("SO_DINH_DANH", "personal_id_number"),
        ("Số CMND cũ", "other_id_number"),
        ("DIA_CHI", "permanent_address"),
        ("Nơi ở", "current_address"),
        ("QH_CHU_HO", "household_head_relation"),
    ],
)
def test_headers_seen_in_practice_map_to_their_field(header: str, field: str) -> None:
    assert dc01_field(header) == field


@pytest.mark.parametrize(
    "header", ["STT", "Tạm trú", "Nơi tạm trú", "Ghi chú", "Nơi sinh", "CCCD/CMND", "NOISINH"]
)
def test_row_counters_temporary_residence_and_strangers_stay_unmapped(header: str) -> None:
    assert dc01_field(header) is None


def test_no_alias_is_claimed_by_two_fields() -> None:
    seen: dict[str, str] = {}
    for field, aliases in HEADER_ALIASES.items():
        for alias in aliases:
            assert seen.setdefault(header_key(alias), field) == field, alias


def test_a_profile_is_built_from_the_headers_actually_present() -> None:
    profile = dc01_profile(["STT", "Mã phiếu", "Họ tên", "Ngày sinh", "Ghi chú"])
    assert profile is not None
    assert profile.source_key == ("Mã phiếu",)
    assert profile.fields == {"full_name": FieldSpec(("Họ tên",)), "dob": FieldSpec(("Ngày sinh",))}


def test_two_headers_for_one_field_keep_the_first() -> None:
    profile = dc01_profile(["Họ tên", "HỌ VÀ TÊN", "Số phiếu", "Mã phiếu"])
    assert profile is not None
    assert profile.fields == {"full_name": FieldSpec(("Họ tên",))}
    assert profile.source_key == ("Số phiếu",)
    assert profile.bind(["Họ tên", "HỌ VÀ TÊN", "Số phiếu", "Mã phiếu"]).unmapped_columns == [
        "HỌ VÀ TÊN",
        "Mã phiếu",
    ]


def test_a_header_without_a_name_column_is_not_dc01() -> None:
    assert dc01_profile(["Ngày sinh", "Giới tính", "Số CCCD"]) is None
    assert dc01_profile(["full_name", "dob"]) is None
    assert dc01_profile([]) is None


def test_a_father_s_name_alone_is_not_a_citizen_s_name() -> None:
    assert dc01_profile(["Họ tên cha", "Họ tên mẹ"]) is None


def test_unrecognised_headers_are_those_neither_read_nor_skipped_on_purpose() -> None:
    header = ["STT", "HOTEN", "Ghi chú", "CCCD/CMND", "", "Tạm trú"]
    assert unrecognised(header) == ["Ghi chú", "CCCD/CMND"]
