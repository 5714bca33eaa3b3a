"""Tests for popdb.core.admin_units: the shipped official lists, read without a database."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections import Counter
from datetime import date
from functools import cache
from importlib.resources import files

import pytest

from popdb.core.admin_units import (
    VINTAGES,
    UnitChange,
    UnitRow,
    Vintage,
    read_old_to_new,
    read_units,
    vintage_in_force,
)

DATA = files("popdb") / "data" / "admin_units"
BY_KEY = {v.key: v for v in VINTAGES}


@cache
def units(key: str) -> tuple[UnitRow, ...]:
    return tuple(read_units(BY_KEY[key]))


@cache
def changes() -> tuple[UnitChange, ...]:
    return tuple(read_old_to_new())


def find(key: str, level: str, code: str) -> UnitRow:
    (row,) = [r for r in units(key) if r.level == level and r.code == code]
    return row


# -- vintages ---------------------------------------------------------------


def test_vintages_ordered_and_files_present() -> None:
    assert [v.key for v in VINTAGES] == ["2020-02", "2021-02", "2025-01", "2025-07"]
    assert [v.in_force_from for v in VINTAGES] == [
        date(2020, 2, 25),
        date(2021, 2, 3),
        date(2025, 1, 4),
        date(2025, 7, 1),
    ]
    assert [v.has_districts for v in VINTAGES] == [True, True, True, False]
    for v in VINTAGES:
        assert (DATA / v.file_name).is_file()


@pytest.mark.parametrize(
    ("on", "key"),
    [
        (date(2019, 1, 1), "2020-02"),  # before the first list: the first list
        (date(2020, 2, 24), "2020-02"),
        (date(2020, 2, 25), "2020-02"),
        (date(2020, 6, 1), "2020-02"),
        (date(2021, 2, 3), "2021-02"),
        (date(2024, 12, 31), "2021-02"),
        (date(2025, 1, 4), "2025-01"),
        (date(2025, 6, 30), "2025-01"),
        (date(2025, 7, 1), "2025-07"),
        (date(2026, 11, 23), "2025-07"),
    ],
)
def test_vintage_in_force(on: date, key: str) -> None:
    assert vintage_in_force(on).key == key


# -- counts -------------------------------------------------------------------

EXPECTED = {
    # vintage: (provinces, districts, communes, CSV records after the header)
    "2020-02": (63, 707, 10_767, 10_767),
    "2021-02": (63, 705, 10_603, 10_608),
    "2025-01": (63, 696, 10_051, 10_056),
    "2025-07": (34, 0, 3_321, 3_321),
}


@pytest.mark.parametrize("key", list(EXPECTED))
def test_counts_per_vintage(key: str) -> None:
    provinces, districts, communes, records = EXPECTED[key]
    levels = Counter(r.level for r in units(key))
    assert levels["province"] == provinces
    assert levels["district"] == districts
    assert levels["commune"] == communes
    # The README counts file records; the difference is commune-less districts.
    text = (DATA / BY_KEY[key].file_name).read_bytes().decode("utf-8")
    assert sum(1 for _ in csv.reader(io.StringIO(text, newline=""))) - 1 == records


def test_commune_less_districts_yield_a_district_only() -> None:
    island = {"318", "471", "498", "536", "755"}  # Bạch Long Vĩ ... Côn Đảo
    for key in ("2021-02", "2025-01"):
        districts = {r.code for r in units(key) if r.level == "district"}
        parents = {r.parent_code for r in units(key) if r.level == "commune"}
        assert island <= districts
        assert island.isdisjoint(parents)
    assert find("2025-01", "district", "755").name == "Huyện Côn Đảo"


def test_2025_07_division_types() -> None:
    types = Counter(r.division_type for r in units("2025-07") if r.level == "commune")
    assert types == {"xã": 2621, "phường": 687, "đặc khu": 13}


# -- integrity ----------------------------------------------------------------


@pytest.mark.parametrize("key", list(EXPECTED))
def test_no_duplicate_level_code(key: str) -> None:
    dupes = [k for k, n in Counter((r.level, r.code) for r in units(key)).items() if n > 1]
    assert dupes == []


@pytest.mark.parametrize("key", list(EXPECTED))
def test_codes_and_parents_consistent(key: str) -> None:
    rows = units(key)
    provinces = {r.code for r in rows if r.level == "province"}
    districts = {r.code: r.province_code for r in rows if r.level == "district"}
    width = {"province": 2, "district": 3, "commune": 5}
    for r in rows:
        assert r.vintage == key
        assert re.fullmatch(rf"\d{{{width[r.level]}}}", r.code), r
        assert r.province_code in provinces, r
        if r.level == "province":
            assert r.parent_code is None and r.province_code == r.code
        elif r.level == "district":
            assert r.parent_code == r.province_code
        elif BY_KEY[key].has_districts:
            assert districts[r.parent_code or ""] == r.province_code, r
        else:
            assert r.parent_code == r.province_code, r


@pytest.mark.parametrize("key", list(EXPECTED))
def test_names_cleaned_but_spelling_kept(key: str) -> None:
    for r in units(key):
        assert r.name == " ".join(r.name.split()) != ""
        assert unicodedata.is_normalized("NFC", r.name)
    # "Xã  Hoàng Văn Thụ" is printed with a double space in the old lists.
    if key != "2025-07":
        assert find(key, "commune", "06178").name == "Xã Hoàng Văn Thụ"


def test_official_spelling_not_rewritten() -> None:
    assert find("2025-07", "commune", "06325").name == "xã Bắc Sơn"  # lower-case, as published
    assert find("2020-02", "province", "17").name == "Tỉnh Hoà Bình"  # "oà" style kept
    assert find("2020-02", "province", "38").name == "Tỉnh Thanh Hóa"  # "óa" style kept


# -- domain facts ---------------------------------------------------------------


def test_code_00004_reused_with_new_name() -> None:
    old = find("2020-02", "commune", "00004")
    new = find("2025-07", "commune", "00004")
    assert (old.name, old.division_type, old.parent_code, old.province_code) == (
        "Phường Trúc Bạch",
        "Phường",
        "001",
        "01",
    )
    assert (new.name, new.division_type, new.parent_code, new.province_code) == (
        "Phường Ba Đình",
        "phường",
        "01",
        "01",
    )


def test_code_27007_tan_binh_to_tan_son() -> None:
    old = find("2025-01", "commune", "27007")
    assert old.name == "Phường 15"
    assert find("2025-01", "district", old.parent_code or "").name == "Quận Tân Bình"
    assert find("2025-07", "commune", "27007").name == "Phường Tân Sơn"


def test_province_codes_reused_in_2025() -> None:
    assert find("2025-01", "province", "15").name == "Tỉnh Yên Bái"
    assert find("2025-07", "province", "15").name == "Tỉnh Lào Cai"
    assert find("2025-07", "province", "91").name == "Tỉnh An Giang"


# -- old -> new conversion table ------------------------------------------------------


def test_old_to_new_counts() -> None:
    rows = changes()
    assert len(rows) == 10_571
    assert len(set(rows)) == len(rows)  # one row per (old, new) pair
    assert len({(c.old_code, c.new_code) for c in rows if c.old_code}) == 10_565
    assert len({c.old_code for c in rows if c.old_code}) == 10_033
    assert {c.new_code for c in rows} == {r.code for r in units("2025-07") if r.level == "commune"}
    split = Counter(c.old_code for c in rows if c.old_code)
    assert sum(1 for n in split.values() if n > 1) == 441


def test_ngu_hiep_split_in_two() -> None:
    hits = [c for c in changes() if c.old_code == "00667"]
    assert {c.new_code for c in hits} == {"00640", "00685"}
    assert {c.new_name for c in hits} == {"Xã Thanh Trì", "Xã Nam Phù"}
    for c in hits:
        assert c.old_name == "Xã Ngũ Hiệp"
        assert c.old_district == "Huyện Thanh Trì (020)"
        assert c.old_province == c.new_province == "Thành phố Hà Nội (01)"
        assert c.note == "Nhập một phần"


def test_banner_and_header_rows_skipped() -> None:
    for c in changes():
        assert re.fullmatch(r"\d{5}", c.new_code), c
        assert re.search(r"\(\d{2}\)$", c.new_province), c
        assert c.new_province != c.new_province.upper()  # not a "CAO BẰNG" banner
    first = changes()[0]
    assert (first.new_code, first.new_name, first.old_code, first.old_name) == (
        "00004",
        "Phường Ba Đình",
        "00004",
        "Phường Trúc Bạch",
    )


def test_rows_without_old_commune() -> None:
    orphans = {c.new_code: c for c in changes() if c.old_code is None}
    assert set(orphans) == {"11948", "14698", "19742", "20333", "21548", "26732"}
    con_dao = orphans["26732"]
    assert con_dao.old_name is None
    assert con_dao.new_name == "Đặc khu Côn Đảo"  # printed with a trailing line break
    assert con_dao.old_district == "Huyện Côn Đảo (755)"
    assert orphans["14698"].old_name == "Khu vực bãi bồi ven biển do huyện Kim Sơn quản lý"


def test_old_to_new_text_cleaned() -> None:
    for c in changes():
        for text in (c.old_name, c.new_name, c.old_district, c.note):
            if text is not None:
                assert text == " ".join(text.split()) != ""
                assert unicodedata.is_normalized("NFC", text)


# -- shipped files match PROVENANCE.md ------------------------------------------------


def test_provenance_hashes_match() -> None:
    provenance = (DATA / "PROVENANCE.md").read_text(encoding="utf-8")
    listed = dict(re.findall(r"\| `([\w.-]+\.csv)` \|.*`([0-9a-f]{64})` \|", provenance))
    names = {v.file_name for v in VINTAGES} | {"old-to-new-2025-07.csv"}
    assert set(listed) == names
    for name, digest in listed.items():
        assert hashlib.sha256((DATA / name).read_bytes()).hexdigest() == digest, name


def test_vintage_compares_by_value() -> None:
    assert Vintage("2025-07", date(2025, 7, 1), "communes-2025-07-01.csv", False) == VINTAGES[-1]
