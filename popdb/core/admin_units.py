"""Dated snapshots of Vietnam's administrative units, read from package data.

A commune code means nothing without its vintage: codes were reused with new
names in the 2025 reform, and hundreds of codes valid in February 2020 were
gone by January 2025. This module only *reads* the official lists shipped in
``popdb/data/admin_units/`` (see PROVENANCE.md there); it has no database and
no opinion about how the rows are stored.

Names are returned as printed in the official files, with only two changes:
runs of whitespace (including line breaks inside quoted cells) are collapsed to
one space and the text is put in Unicode NFC. Tone-mark style ("Hòa"/"Hoà"),
capitalisation ("xã Bắc Sơn") and apostrophes are left alone, because they are
the official spelling; comparing names is the caller's business.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Literal

__all__ = [
    "VINTAGES",
    "UnitChange",
    "UnitRow",
    "Vintage",
    "read_old_to_new",
    "read_units",
    "vintage_in_force",
]

Level = Literal["province", "district", "commune"]

OLD_TO_NEW_FILE = "old-to-new-2025-07.csv"


@dataclass(frozen=True)
class Vintage:
    """One official list, and the day from which it is the one to validate against."""

    key: str  # "2020-02", "2021-02", "2025-01", "2025-07"
    in_force_from: date
    file_name: str
    has_districts: bool


VINTAGES: tuple[Vintage, ...] = (
    Vintage("2020-02", date(2020, 2, 25), "communes-2020-02-25.csv", True),
    Vintage("2021-02", date(2021, 2, 3), "communes-2021-02-03.csv", True),
    Vintage("2025-01", date(2025, 1, 4), "communes-2025-01-04.csv", True),
    Vintage("2025-07", date(2025, 7, 1), "communes-2025-07-01.csv", False),
)


@dataclass(frozen=True)
class UnitRow:
    """One province, district or commune as listed in one vintage.

    Codes are zero-padded strings (province 2 digits, district 3, commune 5)
    because "00004" and "4" are different things in every upstream list.
    ``parent_code`` is the district for a pre-2025 commune, the province for a
    2025-07 commune or a district, and None for a province.
    """

    vintage: str
    level: Level
    code: str
    name: str
    division_type: str | None
    parent_code: str | None
    province_code: str


@dataclass(frozen=True)
class UnitChange:
    """One (old commune -> new commune) pair of the 1 July 2025 conversion table.

    An old commune split between several new ones gives one UnitChange per new
    commune. ``old_code``/``old_name`` are None where the table names no old
    commune: five island districts that had no communes became "đặc khu"
    whole, and one row has an uncoded area (a coastal alluvial zone).
    ``old_district``, ``old_province`` and ``new_province`` are the cells as
    printed, code suffix included, e.g. "Huyện Thanh Trì (020)".
    """

    old_code: str | None
    old_name: str | None
    old_district: str | None
    old_province: str | None
    new_code: str
    new_name: str
    new_province: str
    note: str | None


def vintage_in_force(on: date) -> Vintage:
    """Return the latest vintage in force on ``on``.

    Dates before the first vintage (2020-02-25) get the first vintage: it is
    the oldest list we have, and the best available guess for older records.
    """
    chosen = VINTAGES[0]
    for vintage in VINTAGES:
        if vintage.in_force_from <= on:
            chosen = vintage
    return chosen


def clean_name(text: str) -> str:
    """Collapse whitespace and apply NFC; nothing else (official spelling is kept)."""
    return unicodedata.normalize("NFC", " ".join(text.split()))


_OLD_HEADER = ["Tỉnh Thành Phố", "Mã TP", "Quận Huyện", "Mã QH", "Phường Xã", "Mã PX", "Cấp"]
_NEW_HEADER = ["province_code", "province_name", "commune_code", "commune_name", "division_type"]
_OLD_TO_NEW_HEADER = ["Tỉnh, thành phố", "Tên Xã mới", "Mã Xã mới", "Tên Xã cũ", "Mã Xã cũ"]
_CODE_WIDTH = {"province": 2, "district": 3, "commune": 5}


def data_dir() -> Traversable:
    return files("popdb") / "data" / "admin_units"


def _rows(file_name: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (record number, cells); records may span lines (quoted newlines)."""
    # Bytes + StringIO(newline=""): Traversable.open() takes no newline argument,
    # and csv needs untranslated line ends to keep quoted line breaks intact.
    text = (data_dir() / file_name).read_bytes().decode("utf-8-sig")
    yield from enumerate(csv.reader(io.StringIO(text, newline="")), start=1)


def _code(cell: str, level: Level, where: str) -> str:
    """Validate a code cell; refuse rather than re-pad a code a spreadsheet mangled."""
    code = cell.strip()
    if not re.fullmatch(rf"\d{{{_CODE_WIDTH[level]}}}", code):
        raise ValueError(f"{where}: bad {level} code {cell!r}")
    return code


def _check_header(cells: list[str], expected: list[str], where: str) -> None:
    if [clean_name(c) for c in cells[: len(expected)]] != expected:
        raise ValueError(f"{where}: unexpected header {cells!r}")


def read_units(vintage: Vintage) -> Iterator[UnitRow]:
    """Yield every province and district once (first occurrence) and every commune.

    The pre-2025 files have one row per commune, with the province and district
    repeated on each row; districts that have no communes at all (island
    districts such as Côn Đảo in the 2021 and 2025-01 lists) appear as a row
    with empty commune cells and level "Huyện", and yield only the district.
    """
    seen: set[tuple[str, str]] = set()
    rows = _rows(vintage.file_name)
    n, header = next(rows)
    where = f"{vintage.file_name}:{n}"
    _check_header(header, _OLD_HEADER if vintage.has_districts else _NEW_HEADER, where)

    def first(level: Level, code: str) -> bool:
        key = (level, code)
        if key in seen:
            return False
        seen.add(key)
        return True

    for n, cells in rows:
        where = f"{vintage.file_name}:{n}"
        if not any(c.strip() for c in cells):
            continue
        if vintage.has_districts:
            prov, prov_code, dist, dist_code, comm, comm_code, level = cells[:7]
            p = _code(prov_code, "province", where)
            d = _code(dist_code, "district", where)
            if first("province", p):
                yield UnitRow(vintage.key, "province", p, clean_name(prov), None, None, p)
            if first("district", d):
                yield UnitRow(vintage.key, "district", d, clean_name(dist), None, p, p)
            if not comm_code.strip() and not comm.strip():
                continue  # district without communes
            c = _code(comm_code, "commune", where)
            yield UnitRow(
                vintage.key, "commune", c, clean_name(comm), clean_name(level) or None, d, p
            )
        else:
            prov_code, prov, comm_code, comm, division_type = cells[:5]
            p = _code(prov_code, "province", where)
            if first("province", p):
                yield UnitRow(vintage.key, "province", p, clean_name(prov), None, None, p)
            c = _code(comm_code, "commune", where)
            yield UnitRow(
                vintage.key, "commune", c, clean_name(comm), clean_name(division_type) or None, p, p
            )


def read_old_to_new() -> Iterator[UnitChange]:
    """Parse the 1 July 2025 conversion table, one UnitChange per (old, new) pair.

    The file opens with two header lines and has a banner row (only the first
    cell filled, e.g. "THÀNH PHỐ HÀ NỘI") before each new province; those are
    skipped. Every data row of the shipped file repeats the new province, name
    and code, so nothing is carried forward from the row above: a data row
    without a new code is an error, not a continuation.
    """
    rows = _rows(OLD_TO_NEW_FILE)
    next(rows)  # "Đơn vị hành chính từ ngày 01/7/2025 ..." group header
    n, header = next(rows)
    _check_header(header, _OLD_TO_NEW_HEADER, f"{OLD_TO_NEW_FILE}:{n}")
    for n, cells in rows:
        where = f"{OLD_TO_NEW_FILE}:{n}"
        if not any(c.strip() for c in cells[1:]):
            continue  # banner row (or blank line)
        new_prov, new_name, new_code, old_name, old_code, note, old_dist, old_prov = (
            clean_name(c) for c in cells[:8]
        )
        if not (new_prov and new_name and new_code):
            raise ValueError(f"{where}: data row without its new commune: {cells!r}")
        yield UnitChange(
            old_code=_code(old_code, "commune", where) if old_code else None,
            old_name=old_name or None,
            old_district=old_dist or None,
            old_province=old_prov or None,
            new_code=_code(new_code, "commune", where),
            new_name=new_name,
            new_province=new_prov,
            note=note or None,
        )
