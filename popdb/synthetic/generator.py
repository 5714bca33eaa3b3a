"""Realistic, labelled synthetic citizen records: DC01 rows and a Western variant, with truth.

Why: `popdb demo`, the dedup benchmark (our matcher against Splink and recordlinkage on the
same files) and the quality tests need data that is hard in the ways real registry data is
hard, so that a matcher tuned on it also works on held-out data. Nothing here is real: names
come from our own lists (`popdb/data/names/`, see PROVENANCE.md there), places from the
official unit lists, numbers from the generator.

The population model: households share a commune, an address and (along the father's line,
the mother's for the matrilineal Ê Đê and Gia Rai) a family name; children carry their
parents' full names; twins share date of birth, parents and address; common names collide
(Zipf-like given names, Nguyễn 38 %) and some different people are made namesakes on purpose
(same full name and birth year, some in the same commune). Most people have one record; a
configurable share has 2-4, as if collected again later, by another commune, or in the
2020 campaign under the pre-2025 unit codes. Every record, the first included, is typed by a
clerk: fields are corrupted independently (domain.md 4.2-4.5: diacritics dropped, tone
placement, NFD, case, hỏi/ngã and dialect typos, middle name omitted, day/month swapped,
year-only dates, missing or mistyped numbers, moved addresses, legacy unit names and
abbreviations, ...), with per-commune clerk habits so that batches differ. Each row carries
its person's id in `truth_id`.

Deterministic for a seed (and a given Faker version: street names and Western names come
from Faker's static lists). Streaming: memory is bounded by the duplicate delay window, not
by the number of records.
"""

from __future__ import annotations

import csv
import dataclasses
import heapq
import io
import os
import random
import re
import unicodedata
import zlib
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, lru_cache
from importlib.resources import files
from operator import itemgetter
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, NamedTuple, TypeVar

from popdb.core import admin_units
from popdb.core.pin import PIN_PLACES, generate_pin
from popdb.core.text import canonical

__all__ = [
    "DC01_HEADERS",
    "DEFAULT_RATES",
    "DEMO_COMMUNES",
    "FOREIGN_HEADERS",
    "FOREIGN_PROFILE",
    "FOREIGN_RATES",
    "TRUTH_COLUMN",
    "DemoFile",
    "PersonTruth",
    "SyntheticConfig",
    "SyntheticRecord",
    "generate",
    "generate_foreign",
    "generate_records",
    "summarize",
    "write_csv",
    "write_demo_files",
]

#: The ground-truth column: the id of the person a row describes. Not a DC01 field.
TRUTH_COLUMN = "truth_id"

# DC01 headers, as `importers.dc01.DC01_COLUMNS` spells them. Written out rather than imported
# because popdb must not depend on importers; a test checks that the two agree.
H_KEY = "Số phiếu"
H_NAME = "Họ, chữ đệm và tên khai sinh"
H_ALIAS = "Tên gọi khác"
H_DOB = "Ngày, tháng, năm sinh"
H_SEX = "Giới tính"
H_PIN = "Số định danh cá nhân"
H_CMND = "Số CMND"
H_BIRTH_PLACE = "Nơi đăng ký khai sinh"
H_BIRTH_CODE = "Mã nơi đăng ký khai sinh"
H_HOMETOWN = "Quê quán"
H_HOMETOWN_CODE = "Mã quê quán"
H_ETHNICITY = "Dân tộc"
H_RELIGION = "Tôn giáo"
H_NATIONALITY = "Quốc tịch"
H_MARITAL = "Tình trạng hôn nhân"
H_BLOOD = "Nhóm máu"
H_PERMANENT = "Nơi thường trú"
H_PERMANENT_CODE = "Mã xã nơi thường trú"
H_CURRENT = "Nơi ở hiện tại"
H_CURRENT_CODE = "Mã xã nơi ở hiện tại"
H_FATHER = "Họ, chữ đệm và tên cha"
H_FATHER_PIN = "Số định danh cá nhân của cha"
H_MOTHER = "Họ, chữ đệm và tên mẹ"
H_MOTHER_PIN = "Số định danh cá nhân của mẹ"
H_SPOUSE = "Họ, chữ đệm và tên vợ/chồng"
H_SPOUSE_PIN = "Số định danh cá nhân của vợ/chồng"
H_HEAD = "Họ, chữ đệm và tên chủ hộ"
H_HEAD_PIN = "Số định danh cá nhân của chủ hộ"
H_RELATION = "Quan hệ với chủ hộ"
H_PHONE = "Số điện thoại"
H_EMAIL = "Email"

#: The DC01 template's headers in form order, then `TRUTH_COLUMN`: the columns of `generate`.
DC01_HEADERS: tuple[str, ...] = (
    H_KEY, H_NAME, H_ALIAS, H_DOB, H_SEX, H_PIN, H_CMND, H_BIRTH_PLACE, H_BIRTH_CODE,
    H_HOMETOWN, H_HOMETOWN_CODE, H_ETHNICITY, H_RELIGION, H_NATIONALITY, H_MARITAL, H_BLOOD,
    H_PERMANENT, H_PERMANENT_CODE, H_CURRENT, H_CURRENT_CODE, H_FATHER, H_FATHER_PIN,
    H_MOTHER, H_MOTHER_PIN, H_SPOUSE, H_SPOUSE_PIN, H_HEAD, H_HEAD_PIN, H_RELATION, H_PHONE,
    H_EMAIL, TRUTH_COLUMN,
)  # fmt: skip
_TEXT_CELLS = (H_NAME, H_ALIAS, H_BIRTH_PLACE, H_HOMETOWN, H_PERMANENT, H_CURRENT, H_FATHER,
               H_MOTHER, H_SPOUSE, H_HEAD)  # fmt: skip

#: Communes of the 2025-07 list used by `write_demo_files`: a Hà Nội and a Hồ Chí Minh City
#: ward, an Ê Đê area of Đắk Lắk, a Khmer area of Cần Thơ and a mountain commune of Lào Cai.
DEMO_COMMUNES: tuple[str, ...] = ("00004", "26740", "24169", "31528", "04744")

#: Base probability of each corruption on one record (scaled by `SyntheticConfig.error_scale`,
#: and by `first_record_error_scale` on a person's first record; some are further raised or
#: lowered per collecting commune, the clerk's habits). Keys are the names reported in
#: `SyntheticRecord.corruptions`.
DEFAULT_RATES: Mapping[str, float] = MappingProxyType(
    {
        # names
        "name_case": 0.25,  # not in capitals (title case, sometimes lower case)
        "name_tone_style": 0.35,  # new-style tone placement (Hoà, Thuỷ); shows on oa/oe/uy only
        "name_ascii": 0.06,  # every diacritic dropped, đ -> d ("NGUYEN VAN HOA")
        "nfd": 0.05,  # the record's text decomposed (NFD), as UniKey's "tổ hợp" mode types it
        "name_typo": 0.08,  # one transcription error of domain.md 4.3 in the citizen's name
        "middle_omitted": 0.05,
        "middle_changed": 0.02,  # another middle name, or one added where there was none
        "name_order": 0.005,  # given name first (Western order); Ê Đê names "fixed" to family first
        "whitespace": 0.03,  # double space, NBSP, leading/trailing or zero-width space
        "apostrophe": 0.3,  # ’ or ` for ' (only names that have an apostrophe: H'Hen)
        "parent_name_typo": 0.08,  # per parent name present
        "parent_middle_omitted": 0.06,  # per parent name present
        "father_missing": 0.15,  # doubled for people over 50
        "mother_missing": 0.12,  # doubled for people over 50
        # dates of birth
        "dob_format": 0.2,  # another accepted form: 5/3/1985, 1985-03-05, 19850305, 05-03-1985
        "dob_year_only": 0.03,  # 00/00/1985, 1985 or --/--/1985 although the date is known
        "dob_placeholder": 0.02,  # 01/01/yyyy (x10 for people whose date is not known)
        "dob_day_month_swap": 0.03,  # only when both parts are <= 12 and differ
        "dob_typo": 0.02,  # year off by one, last two year digits swapped, day off by 1-3
        "dob_two_digit_year": 0.004,  # 05/03/85: the importer warns and keeps no date
        "dob_missing": 0.01,
        # sex
        "sex_missing": 0.03,
        "sex_wrong": 0.002,
        # numbers
        "pin_typo": 0.01,  # one digit changed or two adjacent digits swapped
        "pin_zero_lost": 0.004,  # 11 digits: a spreadsheet ate the leading zero
        "pin_spaced": 0.03,  # "079 303 000 123" or dotted
        "cmnd_changed": 0.1,  # another 9-digit number (re-issued after a move); duplicates only
        # addresses
        "moved": 0.25,  # another commune (new permanent address); duplicates only
        "current_elsewhere": 0.08,  # lives (and is collected) in another commune
        "address_legacy_text": 0.12,  # a current record worded the pre-2025 way (with the district)
        "address_abbrev": 0.35,  # P., Q., TP., TP.HCM, F15, ...
        "address_ascii": 0.04,
        "address_typo": 0.05,
        "address_missing": 0.03,
    }
)

#: Corruptions of `generate_foreign`, same conventions as `DEFAULT_RATES`.
FOREIGN_RATES: Mapping[str, float] = MappingProxyType(
    {
        "given_typo": 0.08,  # keyboard neighbour, dropped, doubled or swapped letters, phonetic
        "surname_typo": 0.07,
        "nickname": 0.05,  # Robert -> Bob
        "names_swapped": 0.02,  # given name in the surname column and back
        "given_missing": 0.02,
        "surname_missing": 0.01,
        "accents_dropped": 0.3,  # only names that have some: Hélène -> Helene
        "name_case": 0.05,  # upper case
        "dob_day_month_swap": 0.03,
        "dob_typo": 0.02,
        "dob_missing": 0.03,
        "sex_missing": 0.05,
        "ssn_typo": 0.02,
        "ssn_missing": 0.2,
        "moved": 0.15,  # duplicates only
        "street_number_typo": 0.03,
        "address_typo": 0.05,
        "suburb_typo": 0.04,
        "postcode_typo": 0.03,
        "address_missing": 0.03,
    }
)


@dataclass(frozen=True)
class SyntheticConfig:
    """The generator's knobs. Defaults aim at the field's difficulty, not at an easy file.

    - `duplicate_share`: share of persons with more than one record.
    - `extra_records`: relative weights of 1, 2 and 3 extra records for those persons.
    - `twin_rate`: share of births that are twins.
    - `namesake_rate`: share of adults made namesakes of an earlier person (same full name,
      sex and birth year, half of them in the same commune), on top of natural collisions.
    - `legacy_share`: share of records collected before the 2025 reform (2020 campaign, or
      the first half of 2025), with pre-2025 commune codes and four-level addresses.
    - `error_scale`: multiplies every rate; `first_record_error_scale` further multiplies
      the rates on a person's first record (it was typed by a clerk too, usually carefully).
    - `rates`: overrides of `DEFAULT_RATES` (or of `FOREIGN_RATES` for `generate_foreign`);
      a rate of 1 applies to every record, whatever the scales and clerk habits.
    - `pin_share`: chance that an adult's current record carries the personal ID number
      (lower for children and much lower in the 2020 campaign); `cmnd_share` the same for
      an old 9-digit ID number, which people born before 2003 may have.
    - `communes`: how many 2025-07 communes households live in (drawn from the seed), or the
      exact commune codes. Moves and temporary residence stay within these communes.
    - `as_of`: the date the population is observed; current records are collected in the
      60 days before it, ages run from 0 to 100 at it. At least 2025-07-01.
    - `duplicate_delay`: a duplicate is emitted up to this many records after its person's
      first record, so that neighbouring rows do not give the truth away; it bounds memory.
    """

    duplicate_share: float = 0.25
    extra_records: tuple[float, float, float] = (0.72, 0.2, 0.08)
    twin_rate: float = 0.02
    namesake_rate: float = 0.02
    legacy_share: float = 0.15
    error_scale: float = 1.0
    first_record_error_scale: float = 0.3
    rates: Mapping[str, float] = field(default_factory=dict)
    pin_share: float = 0.6
    cmnd_share: float = 0.35
    communes: int | tuple[str, ...] = 64
    as_of: date = date(2025, 10, 1)
    duplicate_delay: int = 20_000

    def __post_init__(self) -> None:
        for name in ("duplicate_share", "twin_rate", "namesake_rate", "legacy_share",
                     "pin_share", "cmnd_share"):  # fmt: skip
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        if self.error_scale < 0 or self.first_record_error_scale < 0:
            raise ValueError("error scales must not be negative")
        if (
            len(self.extra_records) != 3
            or min(self.extra_records) < 0
            or not any(self.extra_records)
        ):
            raise ValueError("extra_records: three non-negative weights, not all zero")
        if self.as_of < date(2025, 7, 1):
            raise ValueError("as_of must be on or after 2025-07-01 (the 2025-07 commune list)")
        if self.duplicate_delay < 1:
            raise ValueError("duplicate_delay must be at least 1")
        if isinstance(self.communes, int) and self.communes < 1:
            raise ValueError("communes must be at least 1")

    def rate_table(self, defaults: Mapping[str, float]) -> dict[str, float]:
        """`defaults` with `rates` applied; an unknown name is an error, not a silent no-op."""
        unknown = sorted(set(self.rates) - set(defaults))
        if unknown:
            raise ValueError(f"unknown corruption rate(s) {unknown}; known: {sorted(defaults)}")
        table = {**defaults, **self.rates}
        bad = {k: v for k, v in table.items() if not 0.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"rates must be between 0 and 1: {bad}")
        return table


class PersonTruth(NamedTuple):
    """What is true of a person, shared by all their records (for scoring and tests).

    `month`/`day` are always the real date; `date_known` False means the person's records
    only show the year (old people often do not know their date of birth). `commune_code`
    is the household's 2025-07 commune (a person who moved shows another one on some
    records). `twin_group` is the same for twins; `namesake_of` is the id of the person
    whose name and birth year were copied on purpose.
    """

    truth_id: str
    household_id: int
    sex: int  # 1 male, 2 female (QCVN 109)
    family: str
    middle: str
    given: str
    full_name: str
    year: int
    month: int
    day: int
    date_known: bool
    pin: str
    cmnd: str | None
    ethnicity: str
    commune_code: str
    father_name: str | None
    mother_name: str | None
    twin_group: int | None = None
    namesake_of: str | None = None


class SyntheticRecord(NamedTuple):
    """One generated row and what is known about it.

    `collected_by` is the commune (5-digit code valid in `vintage`, which is the list in
    force on `collected_on`) whose batch the row belongs to. `corruptions` names the
    `DEFAULT_RATES` keys applied to this row. (Named tuples: millions are made.)
    """

    row: dict[str, str]
    person: PersonTruth
    collected_by: str
    collected_on: date
    vintage: str
    first: bool
    corruptions: tuple[str, ...]


# --- randomness ----------------------------------------------------------------------------

T = TypeVar("T")


class _FastRandom(random.Random):
    """`random.Random` whose randint, randrange and choice cost one `random()` call each.

    The standard versions draw exact integers through several Python calls, and they were
    the largest cost of the generator. int(random() * n) is biased by less than n / 2**53,
    which synthetic data can afford. Deterministic for a seed like its parent.
    """

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        if step != 1:
            return super().randrange(start, stop, step)
        return start + int(self.random() * (stop - start))

    def choice(self, seq: Sequence[T]) -> T:  # type: ignore[override]
        return seq[int(self.random() * len(seq))]


# --- weighted choice -----------------------------------------------------------------------


class _Weighted:
    """Items with weights; `pick` is a bisection on the cumulative weights (fast, seedable)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Iterable[tuple[Any, float]]) -> None:
        items: list[Any] = []
        cum: list[float] = []
        total = 0.0
        for item, weight in pairs:
            if weight <= 0:
                continue
            total += weight
            items.append(item)
            cum.append(total)
        if not items:
            raise ValueError("no item with a positive weight")
        self.items = tuple(items)
        self.cum = tuple(cum)
        self.total = total

    def pick(self, rnd: Callable[[], float]) -> Any:
        return self.items[bisect_right(self.cum, rnd() * self.total)]


# --- package data: names -------------------------------------------------------------------

#: Ethnicities whose names are written given name first (Y Moan Ênuôl, H'Hen Niê).
_GIVEN_FIRST = frozenset({"Ê Đê"})
#: Matrilineal peoples: children take their mother's family name.
_MATRILINEAL = frozenset({"Ê Đê", "Gia Rai"})
#: Birth-year eras for the weight of Văn/Thị: before 1960, 1960-79, 1980-99, 2000 on.
_ERA_FACTOR = (3.0, 2.0, 1.0, 0.35)


def _era(year: int) -> int:
    return 0 if year < 1960 else 1 if year < 1980 else 2 if year < 2000 else 3


def _read_csv(name: str) -> list[dict[str, str]]:
    text = (files("popdb") / "data" / "names" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@dataclass(frozen=True)
class _Names:
    family: _Weighted
    middle: dict[tuple[int, int], _Weighted]  # (sex, era)
    given: dict[int, _Weighted]  # sex
    minority: dict[tuple[str, str, int], _Weighted]  # (ethnicity, part, sex)
    vocabulary: frozenset[str]


@cache
def _names() -> _Names:
    """The name lists of `popdb/data/names/`, read once."""
    sex_of = {"M": (1,), "F": (2,), "*": (1, 2)}
    family = _Weighted(
        (r["name"], float(r["share_percent"])) for r in _read_csv("family_names.csv")
    )
    middle_rows = _read_csv("middle_names.csv")
    middle: dict[tuple[int, int], _Weighted] = {}
    for sex in (1, 2):
        rows = [r for r in middle_rows if sex in sex_of[r["sex"]]]
        for era, factor in enumerate(_ERA_FACTOR):
            middle[sex, era] = _Weighted(
                (r["name"], float(r["weight"]) * (factor if r["name"][:3] in ("Văn", "Thị") else 1))
                for r in rows
            )
    given_rows = _read_csv("given_names.csv")
    given = {
        sex: _Weighted(
            (r["name"], float(r["weight"])) for r in given_rows if sex in sex_of[r["sex"]]
        )
        for sex in (1, 2)
    }
    grouped: dict[tuple[str, str, int], list[tuple[str, float]]] = {}
    minority_rows = _read_csv("minority_names.csv")
    for r in minority_rows:
        for sex in sex_of[r["sex"]]:
            grouped.setdefault((r["ethnicity"], r["part"], sex), []).append(
                (r["name"], float(r["weight"]))
            )
    words = {
        w
        for rows in (middle_rows, given_rows, minority_rows)
        for r in rows
        for w in r["name"].split()
    }
    words |= {w for name in family.items for w in name.split()}
    return _Names(
        family=family,
        middle=middle,
        given=given,
        minority={k: _Weighted(v) for k, v in grouped.items()},
        vocabulary=frozenset(words),
    )


# --- package data: places ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Commune:
    """A commune of the 2025-07 list and its pre-2025 predecessors (2025-01 codes)."""

    code: str
    name: str
    urban: bool
    province_code: str
    province_name: str
    predecessors: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _OldCommune:
    """A commune of the 2025-01 list: what pre-2025 records and birth registrations name."""

    code: str
    name: str
    urban: bool
    district: str
    province_code: str
    province_name: str
    in_2020: bool  # also in the 2020-02 list, so a 2020 campaign record can carry its code
    text: str  # "Xã …, Huyện …, Tỉnh …": the four-level address of the unit
    district_text: str  # "Huyện …, Tỉnh …": birth places often stop at the district


@dataclass(frozen=True)
class _Geo:
    communes: dict[str, _Commune]
    old: dict[str, _OldCommune]
    old_codes: tuple[str, ...]
    old_by_province: dict[str, tuple[str, ...]]
    streets: tuple[str, ...]


@cache
def _geo() -> _Geo:
    """The 2025-07, 2025-01 and 2020-02 lists and the old-to-new table, read once."""
    by_key = {v.key: v for v in admin_units.VINTAGES}
    in_2020 = {u.code for u in admin_units.read_units(by_key["2020-02"]) if u.level == "commune"}
    names_01: dict[tuple[str, str], str] = {}
    old: dict[str, _OldCommune] = {}
    for u in admin_units.read_units(by_key["2025-01"]):
        names_01[u.level, u.code] = u.name
        if u.level != "commune" or u.province_code not in _PROVINCES_63:
            continue
        district = names_01["district", u.parent_code or ""]
        province = names_01["province", u.province_code]
        old[u.code] = _OldCommune(
            code=u.code,
            name=u.name,
            urban=(u.division_type or "").lower() in ("phường", "thị trấn"),
            district=district,
            province_code=u.province_code,
            province_name=province,
            in_2020=u.code in in_2020,
            text=f"{u.name}, {district}, {province}",
            district_text=f"{district}, {province}",
        )
    predecessors: dict[str, list[str]] = {}
    for change in admin_units.read_old_to_new():
        if change.old_code in old and change.old_code not in predecessors.get(change.new_code, []):
            predecessors.setdefault(change.new_code, []).append(change.old_code)
    provinces: dict[str, str] = {}
    communes: dict[str, _Commune] = {}
    for u in admin_units.read_units(by_key["2025-07"]):
        if u.level == "province":
            provinces[u.code] = u.name
            continue
        preds = tuple(predecessors.get(u.code, ()))
        if not preds:
            continue  # island districts that became "đặc khu" whole: no 2025-01 commune
        communes[u.code] = _Commune(
            code=u.code,
            name=u.name,
            urban=(u.division_type or "") == "phường",
            province_code=u.province_code,
            province_name=provinces[u.province_code],
            predecessors=preds,
        )
    old_by_province: dict[str, list[str]] = {}
    for code, unit in old.items():
        old_by_province.setdefault(unit.province_code, []).append(code)
    from faker.providers.address.vi_VN import Provider as ViAddress

    return _Geo(
        communes=communes,
        old=old,
        old_codes=tuple(sorted(old)),
        old_by_province={k: tuple(sorted(v)) for k, v in old_by_province.items()},
        streets=tuple(ViAddress.streets),
    )


#: Pre-2025 province codes (PIN positions 2-3).
_PROVINCES_63 = frozenset(code[1:] for code in PIN_PLACES)

#: Approximate issuing prefixes of 9-digit CMND numbers by pre-2025 province (PROVENANCE.md):
#: only there to make synthetic numbers look plausible.
_CMND_PREFIX = {
    "01": "01", "79": "02", "31": "03", "11": "04", "12": "04", "14": "05", "10": "06",
    "15": "06", "02": "07", "08": "07", "20": "08", "04": "08", "19": "09", "06": "09",
    "22": "10", "24": "12", "27": "12", "25": "13", "26": "13", "30": "14", "33": "14",
    "34": "15", "35": "16", "36": "16", "37": "16", "38": "17", "40": "18", "42": "18",
    "44": "19", "45": "19", "46": "19", "48": "20", "49": "20", "51": "21", "52": "21",
    "54": "22", "56": "22", "62": "23", "64": "23", "66": "24", "67": "24", "68": "25",
    "58": "26", "60": "26", "75": "27", "77": "27", "74": "28", "70": "28", "72": "29",
    "80": "30", "82": "31", "83": "32", "84": "33", "86": "33", "87": "34", "89": "35",
    "92": "36", "93": "36", "94": "36", "91": "37", "95": "38", "96": "38",
}  # fmt: skip
#: 2007: numbers 271450001-271500000 were issued in both Bà Rịa-Vũng Tàu and Đồng Nai.
_CMND_TWICE = (271_450_001, 271_500_000)

# Ethnic mix of households by 2025-07 province (rough: enough to put names where they live).
_MIX = {
    "north_mountain": (("Kinh", 40), ("Tày", 15), ("Thái", 12), ("Nùng", 10), ("Mông", 14),
                       ("Dao", 9)),
    "muong": (("Kinh", 82), ("Mường", 14), ("Thái", 4)),
    "ede": (("Kinh", 72), ("Ê Đê", 18), ("Gia Rai", 3), ("Tày", 4), ("Nùng", 3)),
    "jarai": (("Kinh", 64), ("Gia Rai", 32), ("Ê Đê", 4)),
    "mekong": (("Kinh", 88), ("Khơ me", 10), ("Hoa", 2)),
    "hcm": (("Kinh", 93), ("Hoa", 6), ("Khơ me", 1)),
    "default": (("Kinh", 98), ("Hoa", 0.5), ("Tày", 0.5), ("Mường", 0.5), ("Nùng", 0.5)),
}  # fmt: skip
_REGION = {
    **dict.fromkeys(("04", "08", "11", "12", "14", "15", "20"), "north_mountain"),
    **dict.fromkeys(("25", "38"), "muong"),
    "66": "ede",
    "52": "jarai",
    **dict.fromkeys(("92", "86", "91", "96"), "mekong"),
    "79": "hcm",
}
_SPELLINGS = {
    "Kinh": (("Kinh", 95), ("Kinh (Việt)", 3), ("Việt", 2)),
    "Khơ me": (("Khmer", 60), ("Khơ-me", 25), ("Khơ me", 15)),
    "Mông": (("Mông", 50), ("H'Mông", 40), ("Hmông", 10)),
    "Ê Đê": (("Ê Đê", 60), ("Ê-đê", 40)),
    "Gia Rai": (("Gia Rai", 60), ("Gia-rai", 30), ("Jarai", 10)),
}
_RELIGIONS = {
    "Kinh": (("Không", 80), ("Phật giáo", 9), ("Công giáo", 7), ("Cao Đài", 1.5),
             ("Phật giáo Hòa Hảo", 1.5), ("Tin Lành", 1)),
    "Ê Đê": (("Không", 45), ("Tin Lành", 35), ("Công giáo", 20)),
    "Gia Rai": (("Không", 45), ("Tin Lành", 35), ("Công giáo", 20)),
    "Khơ me": (("Phật giáo", 90), ("Không", 10)),
    "Hoa": (("Không", 55), ("Phật giáo", 40), ("Công giáo", 5)),
    "Mông": (("Không", 75), ("Tin Lành", 20), ("Công giáo", 5)),
    "other": (("Không", 90), ("Phật giáo", 5), ("Công giáo", 5)),
}  # fmt: skip
_RELIGION_SPELLINGS = {
    "Không": (("Không", 85), ("Không tôn giáo", 10), ("Không có", 5)),
    "Công giáo": (("Công giáo", 70), ("Thiên Chúa giáo", 30)),
    "Tin Lành": (("Tin Lành", 70), ("Tin lành", 30)),
    "Phật giáo Hòa Hảo": (("Phật giáo Hòa Hảo", 60), ("Hòa Hảo", 40)),
}
_MARITAL = {
    "married": (("Đã kết hôn", 75), ("Kết hôn", 25)),
    "single": (("Chưa kết hôn", 75), ("Độc thân", 25)),
    "widowed": (("Góa", 70), ("Ly hôn hoặc góa", 30)),
    "divorced": (("Ly hôn", 100),),
}
#: A woman's family name -> the form her children inherit (Tôn Nữ is Tôn Thất's female form).
_MALE_LINE = {"Tôn Nữ": "Tôn Thất", "Công Tằng Tôn Nữ": "Nguyễn Phước"}
_ALIASES = ("Tí", "Tèo", "Út", "Bé", "Cu", "Hai", "Ba", "Bi", "Bống", "Su")
_TWIN_PAIRS = (("Long", "Phụng"), ("Phúc", "Lộc"), ("An", "Khang"), ("Kim", "Ngân"),
               ("Đức", "Tài"), ("Minh", "Mẫn"), ("Thiện", "Mỹ"), ("Bảo", "Ngọc"))  # fmt: skip
_MOBILE_PREFIXES = (
    "090", "091", "093", "094", "096", "097", "098", "086", "088", "089", "032", "033", "034",
    "035", "036", "037", "038", "039", "070", "076", "077", "078", "079", "081", "082", "083",
    "084", "085", "056", "058",
)  # fmt: skip
_HAMLET_WORDS = ("Tân", "Bình", "Phú", "An", "Long", "Hòa", "Thạnh", "Mỹ", "Vĩnh", "Phước",
                 "Đông", "Tây", "Trung", "Thượng", "Hạ", "Lợi", "Thành", "Hưng", "Thịnh",
                 "Lộc", "Nam", "Bắc", "Thuận", "Quang", "Yên", "Khánh", "Hội", "Xuân")  # fmt: skip


# --- Vietnamese text variants ----------------------------------------------------------------

_TONE_MARKS = ("\u0300", "\u0301", "\u0303", "\u0309", "\u0323")  # huyền sắc ngã hỏi nặng
_HOI, _NGA, _NANG, _SAC = "\u0309", "\u0303", "\u0323", "\u0301"
_CIRCUMFLEX, _BREVE, _HORN = "\u0302", "\u0306", "\u031b"
_VOWELS = frozenset("aeiouy")


def _letters(word: str) -> list[list[str]]:
    """A word as [base letter, combining marks...] groups (NFD), for editing marks."""
    out: list[list[str]] = []
    for ch in unicodedata.normalize("NFD", word):
        if unicodedata.combining(ch) and out:
            out[-1].append(ch)
        else:
            out.append([ch])
    return out


def _unletters(letters: list[list[str]]) -> str:
    return unicodedata.normalize("NFC", "".join("".join(g) for g in letters))


@lru_cache(maxsize=100_000)
def _ascii(text: str) -> str:
    """Every diacritic dropped and đ -> d, case kept: what an ASCII keyboard types."""
    out = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return out.replace("đ", "d").replace("Đ", "D")


@lru_cache(maxsize=20_000)
def _new_style(word: str) -> str:
    """The "new" tone placement of an open oa/oe/uy syllable (Hòa -> Hoà, Thủy -> Thuỷ);
    other words unchanged (qu-onsets and closed syllables have one correct form)."""
    letters = _letters(word)
    if len(letters) < 2:
        return word
    a, b = letters[-2], letters[-1]
    pair = (a[0].lower(), b[0].lower())
    if pair not in (("o", "a"), ("o", "e"), ("u", "y")) or len(b) > 1:
        return word
    if len(letters) >= 3 and letters[-3][0].lower() in "qg" and pair[0] == "u":
        return word
    if len(letters) >= 3 and letters[-3][0].lower() in _VOWELS:
        return word
    tones = [m for m in a[1:] if m in _TONE_MARKS]
    if not tones or len(a) > 2:
        return word
    a.remove(tones[0])
    b.append(tones[0])
    return _unletters(letters)


def _restore_case(template: str, text: str) -> str:
    if template.isupper():
        return text.upper()
    if template[:1].isupper():
        return "'".join(p[:1].upper() + p[1:] for p in text.split("'"))
    return text


_ONSETS = (("ngh", ()), ("ng", ()), ("nh", ()), ("gi", ("d", "r")), ("tr", ("ch",)),
           ("ch", ("tr",)), ("d", ("gi", "r", "v")), ("r", ("d", "gi")), ("s", ("x",)),
           ("x", ("s",)), ("l", ("n",)), ("n", ("l",)), ("v", ("d",)))  # fmt: skip
_TYPO_KINDS = _Weighted(
    (("hoi_nga", 3), ("tone_drop", 3), ("tone_dot", 2), ("vowel_mark", 3), ("d_stroke", 1.5),
     ("onset", 3), ("coda", 1.5), ("i_y", 1), ("drop", 1.5), ("double", 0.5), ("hand", 0.5))
)  # fmt: skip


def _vn_typo(word: str, rng: random.Random) -> str:
    """One transcription error of domain.md 4.3 in a Vietnamese word, case kept: hỏi/ngã,
    tone or vowel mark dropped or changed, đ/d, dialect onsets (d/gi/r, s/x, ch/tr, l/n, v/d)
    and codas (n/ng, t/c), i/y, a letter dropped or doubled, handwriting u/n. The word is
    returned unchanged when none of a few tries applies."""
    low = word.lower()
    for _ in range(6):
        kind = _TYPO_KINDS.pick(rng.random)
        out = _typo_kind(kind, low, rng)
        if out and out != low:
            return _restore_case(word, out)
    return word


def _typo_kind(kind: str, low: str, rng: random.Random) -> str | None:
    letters = _letters(low)
    bases = "".join(g[0] for g in letters)
    tone_at = next((i for i, g in enumerate(letters) for m in g[1:] if m in _TONE_MARKS), None)
    if kind in ("hoi_nga", "tone_drop", "tone_dot"):
        if tone_at is None:
            if kind != "tone_dot":
                return None
            vowels = [i for i, b in enumerate(bases) if b in _VOWELS]
            if not vowels:
                return None
            letters[vowels[0]].append(_NANG)
            return _unletters(letters)
        group = letters[tone_at]
        tone = next(m for m in group[1:] if m in _TONE_MARKS)
        if kind == "hoi_nga":
            if tone not in (_HOI, _NGA):
                return None
            group[group.index(tone)] = _NGA if tone == _HOI else _HOI
        elif kind == "tone_drop":
            group.remove(tone)
        else:
            if tone not in (_NANG, _SAC):
                return None
            group[group.index(tone)] = _SAC if tone == _NANG else _NANG
        return _unletters(letters)
    if kind == "vowel_mark":
        marked = [
            i for i, g in enumerate(letters) if any(m in (_CIRCUMFLEX, _BREVE, _HORN) for m in g)
        ]
        if marked:
            group = letters[rng.choice(marked)]
            mark = next(m for m in group[1:] if m in (_CIRCUMFLEX, _BREVE, _HORN))
            swap = {_CIRCUMFLEX: _BREVE, _BREVE: _CIRCUMFLEX} if group[0] == "a" else {}
            swap |= {_CIRCUMFLEX: _HORN, _HORN: _CIRCUMFLEX} if group[0] == "o" else {}
            if swap and rng.random() < 0.4:
                group[group.index(mark)] = swap[mark]
            else:
                group.remove(mark)
            return _unletters(letters)
        plain = [i for i, b in enumerate(bases) if b in "aeou"]
        if not plain:
            return None
        group = letters[rng.choice(plain)]
        group.insert(1, _HORN if group[0] == "u" else _CIRCUMFLEX)
        return _unletters(letters)
    if kind == "d_stroke":
        if bases.startswith("đ"):
            letters[0][0] = "d"
        elif bases.startswith("d") and not bases.startswith("di"):
            letters[0][0] = "đ"
        else:
            return None
        return _unletters(letters)
    if kind == "onset":
        for onset, replacements in _ONSETS:
            if bases.startswith(onset):
                rest = letters[len(onset) :]
                if not replacements or not rest or rest[0][0] not in _VOWELS:
                    return None
                if any(len(g) > 1 for g in letters[: len(onset)]):
                    return None  # a mark on the onset's i (gì): not an onset change
                return rng.choice(replacements) + _unletters(rest)
        return None
    if kind == "coda":
        if bases.endswith("ng") and len(bases) > 3:
            return _unletters(letters[:-1])
        if bases.endswith("n") and not bases.endswith(("nh", "ng")) and len(bases) > 2:
            return _unletters(letters) + "g"
        if bases.endswith("t") and len(bases) > 2:
            return _unletters(letters[:-1]) + "c"
        if bases.endswith("c") and not bases.endswith("ch") and len(bases) > 2:
            return _unletters(letters[:-1]) + "t"
        return None
    if kind == "i_y":
        if len(bases) >= 2 and bases[-2] not in _VOWELS and bases[-1] in "iy":
            letters[-1][0] = "y" if bases[-1] == "i" else "i"
            return _unletters(letters)
        return None
    if kind == "drop":
        if len(letters) < 3:
            return None
        del letters[rng.randrange(1, len(letters))]
        return _unletters(letters)
    if kind == "double":
        i = rng.randrange(len(letters))
        letters.insert(i, [letters[i][0]])
        return _unletters(letters)
    # hand: u <-> n in handwriting
    spots = [i for i, g in enumerate(letters) if g[0] in "un" and len(g) == 1]
    if not spots:
        return None
    i = rng.choice(spots)
    letters[i][0] = "n" if letters[i][0] == "u" else "u"
    return _unletters(letters)


def _whitespace(name: str, rng: random.Random) -> str:
    """The invisible differences of domain.md 4.2 item 6."""
    words = name.split(" ")
    kind = rng.randrange(5)
    if kind == 0 and len(words) > 1:
        i = rng.randrange(1, len(words))
        return " ".join(words[:i]) + "  " + " ".join(words[i:])
    if kind == 1 and len(words) > 1:
        i = rng.randrange(1, len(words))
        return " ".join(words[:i]) + "\u00a0" + " ".join(words[i:])
    if kind == 2:
        return name + " "
    if kind == 3:
        return " " + name
    word = words[-1]
    cut = rng.randrange(1, len(word)) if len(word) > 1 else 1
    words[-1] = word[:cut] + "\u200b" + word[cut:]
    return " ".join(words)


# --- addresses ---------------------------------------------------------------------------------

_HCM_NAMES = ("TP.HCM", "TP HCM", "Tp.HCM", "HCM", "TP. Hồ Chí Minh", "Sài Gòn")
_HANOI_NAMES = ("TP. Hà Nội", "Hà Nội", "HN", "Tp Hà Nội")
_ABBREVIATIONS = (
    ("Thành phố ", ("TP. ", "Tp. ", "TP ", "T.P ", "")),
    ("Tỉnh ", ("", "T. ", "tỉnh ")),
    ("Quận ", ("Q.", "Q. ", "quận ")),
    ("Huyện ", ("H.", "H. ", "huyện ")),
    ("Thị xã ", ("TX.", "Tx. ")),
    ("Thị trấn ", ("TT.", "Tt. ")),
    ("Phường ", ("P.", "P. ", "phường ")),
    ("Xã ", ("X.", "xã ", "X. ")),
)


_NUMBERED_WARD = re.compile(r"Phường (\d+)")


def _abbreviate(address: str, rng: random.Random) -> str:
    """Clerk shorthand of domain.md 4.4: TP./Q./H./P./X., TP.HCM, numbered wards P.15/F15."""
    out = address
    if "Thành phố Hồ Chí Minh" in out and rng.random() < 0.8:
        out = out.replace("Thành phố Hồ Chí Minh", rng.choice(_HCM_NAMES))
    if "Thành phố Hà Nội" in out and rng.random() < 0.6:
        out = out.replace("Thành phố Hà Nội", rng.choice(_HANOI_NAMES))
    if "Phường " in out and rng.random() < 0.8:  # "Phường 15" -> P.15 / P15 / F15 / phường 015
        form = rng.choice(("P.{}", "P{}", "F{}", "phường 0{}"))
        out = _NUMBERED_WARD.sub(lambda m: form.format(m.group(1)), out)
    for full, shorts in _ABBREVIATIONS:
        if full in out and rng.random() < 0.7:
            out = out.replace(full, rng.choice(shorts))
    return out


def _hamlet(province_code: str, rng: random.Random) -> str:
    """A rural address line: Thôn/Xóm in the North, Bản in the mountains, Ấp in the South."""
    north = int(province_code) < 38
    mountain = _REGION.get(province_code) in ("north_mountain", "ede", "jarai")
    if mountain:
        prefix = rng.choice(("Bản", "Thôn", "Buôn" if province_code in ("66", "52") else "Bản"))
    elif north:
        prefix = rng.choice(("Thôn", "Thôn", "Xóm"))
    elif int(province_code) >= 72:
        prefix = "Ấp"
    else:
        prefix = rng.choice(("Thôn", "Tổ dân phố"))
    if rng.random() < 0.45:
        return f"{prefix} {rng.randint(1, 15)}"
    first, second = rng.sample(_HAMLET_WORDS, 2)
    return f"{prefix} {first} {second}"


def _street_line(province_code: str, streets: Sequence[str], rng: random.Random) -> str:
    """An urban address line: ngõ/ngách/phố in the North, hẻm and slashed numbers in the South."""
    street = rng.choice(streets)
    n = rng.randint(1, 350)
    if int(province_code) < 38:
        kind = rng.randrange(3)
        if kind == 0:
            return f"Số {n} phố {street}"
        if kind == 1:
            return f"Số {n} ngõ {rng.randint(2, 200)} {street}"
        return f"Số {rng.randint(1, 40)} ngách {rng.randint(2, 90)}/{rng.randint(2, 200)} {street}"
    kind = rng.randrange(3)
    if kind == 0:
        return f"{n} đường {street}"
    if kind == 1:
        return f"{n}/{rng.randint(1, 99)} {street}"
    return f"Số {rng.randint(1, 60)} hẻm {n} {street}"


# --- the population ----------------------------------------------------------------------------


@dataclass(slots=True)
class _Household:
    hid: int
    commune: _Commune
    old: _OldCommune
    line: str
    ethnicity: str
    religion: str
    head: _Person | None = None


@dataclass(slots=True)
class _Person:
    truth: PersonTruth
    household: _Household
    sex: int
    family: str
    middle: str
    given: str
    given_first: bool
    year: int
    month: int
    day: int
    date_known: bool
    pin: str
    cmnd: str | None
    birth_reg: _OldCommune
    hometown: _OldCommune
    father_name: str | None
    mother_name: str | None
    father_pin: str | None = None
    mother_pin: str | None = None
    spouse: _Person | None = None
    relation: str = "Chủ hộ"
    marital: str | None = None
    phone: str | None = None
    email: str | None = None
    alias: str | None = None

    @property
    def full_name(self) -> str:
        return self.truth.full_name


def _full_name(family: str, middle: str, given: str, given_first: bool) -> str:
    parts = (middle, given, family) if given_first else (family, middle, given)
    return " ".join(p for p in parts if p)


def _mix(key: str, *parts: object) -> int:
    """A stable 32-bit hash (Python's hash() of str changes per process)."""
    return zlib.crc32(":".join(map(str, (key, *parts))).encode())


def _permute(x: int, keys: tuple[int, ...], half: int) -> int:
    """A Feistel permutation of [0, half**2): unique, random-looking numbers from a counter."""
    left, right = divmod(x, half)
    for k in keys:
        left, right = right, (left + (right * 2_654_435_761 + k) % 1_000_003) % half
    return left * half + right


class _Donor(NamedTuple):
    """What a later person may copy from an earlier adult: the name (namesakes), the CMND."""

    truth_id: str
    sex: int
    year: int
    family: str
    middle: str
    given: str
    given_first: bool
    ethnicity: str
    household_id: int
    cmnd: str | None


@dataclass(frozen=True, slots=True)
class _Scheme:
    family: _Weighted
    middle: tuple[_Weighted | None, ...]  # per birth-year era; None: no middle name
    given: _Weighted
    prefix: _Weighted | None  # Y / H' (Ê Đê, Gia Rai)
    given_first: bool


class _Population:
    """Households and their members, one household at a time (streaming)."""

    def __init__(self, seed: int, config: SyntheticConfig) -> None:
        self.seed = seed
        self.config = config
        self.rng = _FastRandom(seed)
        self.names = _names()
        self.geo = _geo()
        self.pool = self._pool(config.communes)
        self.as_of = config.as_of
        self.latest_birth = config.as_of - timedelta(days=61)
        self.next_person = 0
        self.next_household = 0
        self.next_twin = 0
        self.pin_counters: dict[str, list[int]] = {}
        self.pin_prefixes: dict[tuple[str, int, int], str] = {}
        # Recent adults, nationwide and per commune: namesake and CMND donors. Bounded rings
        # of small tuples, so memory does not grow with the population.
        self.recent: list[_Donor] = []
        self.recent_here: dict[str, list[_Donor]] = {}
        self.mix = {region: _Weighted(pairs) for region, pairs in _MIX.items()}
        self.religion = {eth: _Weighted(pairs) for eth, pairs in _RELIGIONS.items()}
        self.marital = {k: _Weighted(v) for k, v in _MARITAL.items()}
        self.schemes: dict[tuple[str, int], _Scheme] = {}

    def _pool(self, communes: int | tuple[str, ...]) -> tuple[_Commune, ...]:
        geo = self.geo
        if isinstance(communes, int):
            codes = sorted(geo.communes)
            picker = random.Random(f"communes:{self.seed}")
            return tuple(geo.communes[c] for c in picker.sample(codes, min(communes, len(codes))))
        unknown = [c for c in communes if c not in geo.communes]
        if unknown or not communes:
            raise ValueError(f"not communes of the 2025-07 list (with predecessors): {unknown}")
        return tuple(geo.communes[c] for c in communes)

    # --- names ---

    def _scheme(self, ethnicity: str, sex: int) -> _Scheme:
        """How people of `ethnicity` and `sex` are named: their people's lists where we have
        them, the Kinh lists otherwise (looked up once per pair)."""
        found = self.schemes.get((ethnicity, sex))
        if found is None:
            m = self.names.minority
            own_given = m.get((ethnicity, "given", sex))
            own_middle = m.get((ethnicity, "middle", sex))
            if own_middle is not None:
                middle: tuple[_Weighted | None, ...] = (own_middle,) * len(_ERA_FACTOR)
            elif own_given is not None:
                middle = (None,) * len(_ERA_FACTOR)  # no middle name (Ê Đê, Gia Rai, ...)
            else:
                middle = tuple(self.names.middle[sex, era] for era in range(len(_ERA_FACTOR)))
            found = _Scheme(
                family=m.get((ethnicity, "family", sex)) or self.names.family,
                middle=middle,
                given=own_given or self.names.given[sex],
                prefix=m.get((ethnicity, "prefix", sex)),
                given_first=ethnicity in _GIVEN_FIRST,
            )
            self.schemes[ethnicity, sex] = found
        return found

    def _name(
        self, sex: int, year: int, ethnicity: str, family: str | None = None
    ) -> tuple[str, str, str, bool]:
        """(family, middle, given, given_first) of a new person."""
        rnd = self.rng.random
        scheme = self._scheme(ethnicity, sex)
        if family is None:
            family = scheme.family.pick(rnd)
        middle_pick = scheme.middle[_era(year)]
        middle = middle_pick.pick(rnd) if middle_pick is not None else ""
        given = scheme.given.pick(rnd)
        if scheme.prefix is not None:
            p = scheme.prefix.pick(rnd)
            if p.endswith("'"):
                given = p + given  # H'Hen: glued to the given name
            else:
                middle = p  # Y Moan: a word of its own
        if sex == 2 and family == "Tôn Thất" and rnd() < 0.7:
            family = "Tôn Nữ"
        elif sex == 2 and family == "Nguyễn Phước" and rnd() < 0.3:
            family = "Công Tằng Tôn Nữ"
        return family, middle, given, scheme.given_first

    def _parents(self, family: str, year: int, ethnicity: str, avoid: str) -> tuple[str, str]:
        """Full names of the parents of someone (whose parents are not generated as persons)
        born in `year` with `family`: the family name comes down the father's line, the
        mother's for matrilineal peoples. The father is not given the child's own name."""
        rng = self.rng
        parents_year = year - rng.randint(20, 38)
        mat = ethnicity in _MATRILINEAL
        line = _MALE_LINE.get(family, family)
        father = avoid
        for _ in range(5):
            father = _full_name(*self._name(1, parents_year, ethnicity, None if mat else line))
            if father != avoid:
                break
        mother_year = parents_year + rng.randint(-2, 6)
        mother = _full_name(*self._name(2, mother_year, ethnicity, family if mat else None))
        return father, mother

    # --- numbers ---

    def _pin(self, place: str, sex: int, year: int) -> str:
        """A unique PIN: `generate_pin`'s prefix, then a per-prefix counter through a Feistel
        permutation, so numbers never repeat and still look random."""
        prefix = self.pin_prefixes.get((place, sex, year))
        if prefix is None:  # generate_pin keeps the layout rules; the tail is ours
            prefix = generate_pin(place_code=place, sex=sex, birth_year=year, rng=self.rng)[:6]
            self.pin_prefixes[place, sex, year] = prefix
        state = self.pin_counters.get(prefix)
        if state is None:
            h = _mix("pin", self.seed, prefix)
            state = [0, h & 0xFFFF, (h >> 16) & 0xFFFF, _mix("pin2", h) & 0xFFFF]
            self.pin_counters[prefix] = state
        if state[0] >= 1_000_000:
            raise ValueError(f"more than a million people share the PIN prefix {prefix}")
        tail = _permute(state[0], tuple(state[1:]), 1000)
        state[0] += 1
        return f"{prefix}{tail:06d}"

    def _cmnd(self, province: str) -> str:
        rnd = self.rng.random
        if self.recent and rnd() < 0.002:  # numbers are not unique: one issued twice
            donor = self.rng.choice(self.recent)
            if donor.cmnd:
                return donor.cmnd
        if province in ("75", "77") and rnd() < 0.01:
            return str(self.rng.randint(*_CMND_TWICE))
        prefix = _CMND_PREFIX.get(province, "0" + province[:1])
        return prefix + f"{self.rng.randrange(10 ** (9 - len(prefix))):0{9 - len(prefix)}d}"

    def _phone(self) -> str:
        return self.rng.choice(_MOBILE_PREFIXES) + f"{self.rng.randrange(10**7):07d}"

    # --- people ---

    def _birth(self, year: int) -> tuple[int, int, int, bool]:
        """A real date in `year` (not after `latest_birth`) and whether the person knows it."""
        rng = self.rng
        last = self.latest_birth
        while True:
            month, day = rng.randint(1, 12), rng.randint(1, 28 if rng.random() < 0.1 else 31)
            try:
                when = date(year, month, day)
            except ValueError:
                continue
            if when <= last:
                break
            year -= 1  # a birth after the cut-off moves back a year
        unknown = 0.25 if year < 1960 else 0.05 if year < 1976 else 0.005
        return year, month, day, rng.random() >= unknown

    def _person(
        self,
        household: _Household,
        *,
        sex: int,
        year: int,
        name: tuple[str, str, str, bool],
        birth_reg: _OldCommune,
        hometown: _OldCommune,
        father_name: str | None,
        mother_name: str | None,
        relation: str,
        birth: tuple[int, int, int, bool] | None = None,
        twin_group: int | None = None,
        namesake_of: str | None = None,
    ) -> _Person:
        rng = self.rng
        y, month, day, known = birth or self._birth(year)
        family, middle, given, given_first = name
        pin = self._pin("0" + birth_reg.province_code, sex, y)
        cmnd = None
        if y <= 2002 and rng.random() < 0.85:
            where = birth_reg if rng.random() < 0.7 else household.old
            cmnd = self._cmnd(where.province_code)
        truth = PersonTruth(
            truth_id=f"P{self.next_person:08d}",
            household_id=household.hid,
            sex=sex,
            family=family,
            middle=middle,
            given=given,
            full_name=_full_name(family, middle, given, given_first),
            year=y,
            month=month,
            day=day,
            date_known=known,
            pin=pin,
            cmnd=cmnd,
            ethnicity=household.ethnicity,
            commune_code=household.commune.code,
            father_name=father_name,
            mother_name=mother_name,
            twin_group=twin_group,
            namesake_of=namesake_of,
        )
        self.next_person += 1
        age = self.as_of.year - y
        person = _Person(
            truth=truth, household=household, sex=sex, family=family, middle=middle, given=given,
            given_first=given_first, year=y, month=month, day=day, date_known=known, pin=pin,
            cmnd=cmnd, birth_reg=birth_reg, hometown=hometown, father_name=father_name,
            mother_name=mother_name, relation=relation,
        )  # fmt: skip
        if 15 <= age <= 75 and rng.random() < 0.75:
            person.phone = self._phone()
        if 15 <= age <= 50 and rng.random() < 0.06:
            local = _ascii(given + family).lower().replace(" ", "").replace("'", "")
            person.email = f"{local}{rng.randint(1, 99)}@gmail.com"
        if rng.random() < 0.03:
            person.alias = rng.choice(_ALIASES)
        if age >= 18:
            donor = _Donor(
                truth.truth_id, sex, y, family, middle, given, given_first,
                household.ethnicity, household.hid, cmnd,
            )  # fmt: skip
            self.recent.append(donor)
            if len(self.recent) > 4096:
                del self.recent[:1024]
            here = self.recent_here.setdefault(household.commune.code, [])
            here.append(donor)
            if len(here) > 48:
                del here[:16]
        return person

    def _origin(self, home: _OldCommune) -> tuple[_OldCommune, _OldCommune]:
        """(birth registration, hometown) of an adult whose parents are not in the data."""
        rng = self.rng
        geo = self.geo
        if rng.random() < 0.72:
            same = geo.old_by_province[home.province_code]
            birth = home if rng.random() < 0.5 else geo.old[rng.choice(same)]
        else:
            birth = geo.old[rng.choice(geo.old_codes)]
        if rng.random() < 0.7:
            hometown = birth
        else:
            hometown = geo.old[rng.choice(geo.old_by_province[birth.province_code])]
        return birth, hometown

    def _adult(
        self, household: _Household, sex: int, year: int, relation: str,
        family: str | None = None, namesake: bool = True,
    ) -> _Person:  # fmt: skip
        """An adult whose parents are not generated as persons (only their names)."""
        rng = self.rng
        eth = household.ethnicity
        birth_reg, hometown = self._origin(household.old)
        name = self._name(sex, year, eth, family)
        donor = None
        if namesake and self.recent and rng.random() < self.config.namesake_rate:
            donor = self._namesake_donor(sex, household)
        birth = None
        if donor is not None:
            name = (donor.family, donor.middle, donor.given, donor.given_first)
            birth = self._birth(donor.year)
            year = birth[0]
        father, mother = self._parents(name[0], year, eth, _full_name(*name))
        return self._person(
            household, sex=sex, year=year, name=name, birth_reg=birth_reg, hometown=hometown,
            father_name=father, mother_name=mother, relation=relation, birth=birth,
            namesake_of=donor.truth_id if donor is not None else None,
        )  # fmt: skip

    def _namesake_donor(self, sex: int, household: _Household) -> _Donor | None:
        """A recent adult of the same sex and people, in the same commune half of the time."""
        rng = self.rng
        pool = self.recent
        if rng.random() < 0.5:
            pool = self.recent_here.get(household.commune.code) or pool
        for _ in range(12):
            donor = rng.choice(pool)
            if (donor.sex, donor.ethnicity) == (sex, household.ethnicity) and (
                donor.household_id != household.hid
            ):
                return donor
        return None

    def household(self) -> list[_Person]:
        """A new household's members, head first."""
        rng = self.rng
        rnd = rng.random
        geo = self.geo
        commune = rng.choice(self.pool)
        old = geo.old[rng.choice(commune.predecessors)]
        region = _REGION.get(commune.province_code, "default")
        eth = self.mix[region].pick(rnd)
        rel = self.religion.get(
            eth, self.religion["other"] if eth != "Kinh" else self.religion["Kinh"]
        )
        line = (
            _street_line(commune.province_code, geo.streets, rng)
            if commune.urban and rnd() < 0.9
            else _hamlet(commune.province_code, rng)
        )
        h = _Household(self.next_household, commune, old, line, eth, rel.pick(rnd))
        self.next_household += 1
        year_now = self.as_of.year
        kind = rnd()
        members: list[_Person] = []
        if kind < 0.12:  # one adult
            sex = 1 if rnd() < 0.5 else 2
            age = rng.randint(18, 92)
            head = self._adult(h, sex, year_now - age, "Chủ hộ")
            status = "single" if age < 45 and rnd() < 0.9 else "widowed" if age > 60 else "divorced"
            head.marital = self.marital[status].pick(rnd)
            h.head = head
            return [head]
        father_year = year_now - min(95, max(20, int(rng.triangular(20, 90, 38))))
        mother_year = min(year_now - 18, father_year + rng.randint(-2, 7))
        three_gen = kind > 0.85 and year_now - father_year < 60
        single_mother = 0.12 <= kind < 0.18
        father = None
        if not single_mother:
            father = self._adult(h, 1, father_year, "Chủ hộ")
        mother = self._adult(h, 2, mother_year, "Chủ hộ" if father is None else "Vợ")
        head = father or mother
        h.head = head
        if father is not None:
            if not three_gen and rnd() < 0.12:  # the wife is the registered head
                father.relation, mother.relation = "Chồng", "Chủ hộ"
                h.head = mother
            father.spouse, mother.spouse = mother, father
            father.marital = mother.marital = self.marital["married"].pick(rnd)
            members.append(father)
        else:
            mother.marital = self.marital["divorced" if rnd() < 0.5 else "widowed"].pick(rnd)
        members.append(mother)
        if three_gen and father is not None:
            # The head's parents live with them (the wife's, among matrilineal peoples).
            child = mother if eth in _MATRILINEAL else father
            gp_year = child.year - rng.randint(20, 36)
            if year_now - gp_year <= 100:
                grandfather = None
                if rnd() < 0.6:
                    grandfather = self._grandparent(h, child, 1, gp_year)
                    members.append(grandfather)
                if rnd() < 0.8:
                    grandmother = self._grandparent(h, child, 2, gp_year + rng.randint(-1, 5))
                    if grandfather is not None:
                        grandfather.spouse, grandmother.spouse = grandmother, grandfather
                        grandfather.marital = grandmother.marital = self.marital["married"].pick(
                            rnd
                        )
                    members.append(grandmother)
        if kind < 0.24 and not single_mother:
            return self._ordered(h, members)  # a couple without children (yet)
        n_children = 1 + bisect_right((0.3, 0.75, 0.93), rnd())
        members += self._children(h, father, mother, n_children)
        return self._ordered(h, members)

    def _ordered(self, h: _Household, members: list[_Person]) -> list[_Person]:
        assert h.head is not None
        return [h.head, *(m for m in members if m is not h.head)]

    def _grandparent(self, h: _Household, child: _Person, sex: int, year: int) -> _Person:
        """A parent of `child` (the head, or his wife among matrilineal peoples) who lives with
        the household; the child's record then names them."""
        rng = self.rng
        line_sex = 2 if h.ethnicity in _MATRILINEAL else 1
        family = _MALE_LINE.get(child.family, child.family) if sex == line_sex else None
        name = self._name(sex, year, h.ethnicity, family)
        full = _full_name(*name)
        if sex == 1:
            child.father_name = full
            child.truth = child.truth._replace(father_name=full)
        else:
            child.mother_name = full
            child.truth = child.truth._replace(mother_name=full)
        birth_reg, hometown = self._origin(child.birth_reg)
        father, mother = self._parents(name[0], year, h.ethnicity, full)
        gp = self._person(
            h, sex=sex, year=year, name=name, birth_reg=birth_reg, hometown=hometown,
            father_name=father, mother_name=mother,
            relation=(rng.choice(("Bố", "Cha")) if sex == 1 else "Mẹ")
            + ("" if child is h.head else " vợ" if child.sex == 2 else " chồng"),
        )  # fmt: skip
        if sex == 1:
            child.father_pin = gp.pin
        else:
            child.mother_pin = gp.pin
        gp.marital = self.marital["widowed"].pick(rng.random)
        return gp

    def _children(
        self, h: _Household, father: _Person | None, mother: _Person, n: int
    ) -> list[_Person]:
        rng = self.rng
        rnd = rng.random
        year_now = self.as_of.year
        year = mother.year + rng.randint(19, 27)
        if father is not None:
            year = max(year, father.year + rng.randint(20, 24))
        children: list[_Person] = []
        line_parent = mother if (father is None or h.ethnicity in _MATRILINEAL) else father
        used = {mother.given, *((father.given,) if father is not None else ())}
        for _ in range(n):
            if year > self.latest_birth.year or year - mother.year > 44:
                break
            twins = rnd() < self.config.twin_rate
            sexes = [1 if rnd() < 0.51 else 2]
            if twins:
                sexes.append(sexes[0] if rnd() < 0.65 else 3 - sexes[0])
            group = None
            if twins:
                group = self.next_twin
                self.next_twin += 1
            birth = self._birth(year)
            # Twins are often given a pair of names (Long and Phụng, Phúc and Lộc).
            pair = rng.choice(_TWIN_PAIRS) if twins and rnd() < 0.3 else None
            if pair is not None and not all(
                (h.ethnicity, "given", sex) not in self.names.minority
                and name in self.names.given[sex].items
                for name, sex in zip(pair, sexes, strict=True)
            ):
                pair = None
            family = _MALE_LINE.get(line_parent.family, line_parent.family)
            first_name: tuple[str, str, str, bool] | None = None
            for k, sex in enumerate(sexes):
                name = self._name(sex, year, h.ethnicity, family)
                if pair is not None:
                    name = (name[0], name[1], pair[k], name[3])
                elif first_name is not None and sex == sexes[0]:
                    name = (name[0], first_name[1], name[2], name[3])  # twins: same middle name
                for _ in range(20):  # siblings (twins too) and parents never share a given name
                    if name[2] not in used:
                        break
                    name = (
                        name[0],
                        name[1],
                        self._name(sex, year, h.ethnicity, family)[2],
                        name[3],
                    )
                used.add(name[2])
                first_name = first_name or name
                birth_reg = h.old if birth[0] >= 2000 or rnd() < 0.8 else mother.birth_reg
                hometown = (father or mother).hometown
                child = self._person(
                    h, sex=sex, year=year, name=name, birth_reg=birth_reg, hometown=hometown,
                    father_name=father.full_name if father is not None else None,
                    mother_name=mother.full_name, relation="Con", birth=birth, twin_group=group,
                )  # fmt: skip
                child.father_pin = father.pin if father is not None else None
                child.mother_pin = mother.pin
                age = year_now - child.year
                if age >= 18:
                    child.marital = self.marital["single"].pick(rnd)
                children.append(child)
            year += rng.randint(1, 6)
        return children


# --- records -------------------------------------------------------------------------------------


def _clerk_habits(seed: int, commune: str) -> dict[str, float]:
    """Multipliers of some rates for the clerk(s) of one collecting commune, about 1 on
    average: one commune types with UniKey's NFD mode or the new tone style, another in
    ASCII, so batches differ the way real ones do."""
    rng = random.Random(f"clerk:{seed}:{commune}")
    return {
        "nfd": 5.5 if rng.random() < 0.1 else 0.5,
        "name_tone_style": 2.05 if rng.random() < 0.4 else 0.3,
        "name_case": rng.choice((0.4, 1.6)),
        "name_ascii": 3.0 if rng.random() < 0.2 else 0.5,
        "dob_format": 1.75 if rng.random() < 0.4 else 0.5,
        "address_abbrev": rng.choice((0.5, 1.5)),
    }


class _Writer:
    """Turns persons into records: the clerk at work, field by field."""

    def __init__(self, population: _Population, rates: dict[str, float]) -> None:
        self.pop = population
        self.rng = population.rng
        self.config = population.config
        self.seed = population.seed
        self.rates = rates
        self.clerks: dict[tuple[str, bool], dict[str, float]] = {}
        self.vintages: dict[date, str] = {}
        self.dates: dict[tuple[str, str], date] = {}
        self.marital = population.marital
        self.spellings = {k: _Weighted(v) for k, v in _SPELLINGS.items()}
        self.religion_spellings = {k: _Weighted(v) for k, v in _RELIGION_SPELLINGS.items()}

    # --- collection dates and batches ---

    def collection_date(self, code: str, era: str, unit: _OldCommune | None) -> date:
        """One date per (commune, era): a batch is one commune's collection on one day."""
        key = (code, era)
        found = self.dates.get(key)
        if found is None:
            h = _mix("collected", self.seed, code, era)
            if era == "current":
                start = max(date(2025, 7, 1), self.config.as_of - timedelta(days=60))
                span = (self.config.as_of - start).days + 1
                found = start + timedelta(days=h % span)
            elif unit is not None and unit.in_2020:
                found = date(2020, 3, 1) + timedelta(days=h % 270)
            else:
                found = date(2025, 1, 10) + timedelta(days=h % 160)
            self.dates[key] = found
        return found

    def thresholds(self, code: str, first: bool) -> dict[str, float]:
        """Each corruption's probability on a record of this commune's batch: the rate, the
        error scale (and the first-record scale), and the clerk's habits."""
        found = self.clerks.get((code, first))
        if found is None:
            factors = _clerk_habits(self.seed, code)
            config = self.config
            scale = config.error_scale * (config.first_record_error_scale if first else 1.0)
            found = {  # a rate of 1 stays 1: every record
                k: v if v >= 1.0 else v * scale * factors.get(k, 1.0) for k, v in self.rates.items()
            }
            self.clerks[code, first] = found
        return found

    def vintage(self, on: date) -> str:
        found = self.vintages.get(on)
        if found is None:
            found = self.vintages[on] = admin_units.vintage_in_force(on).key
        return found

    # --- one person's records ---

    def records(self, person: _Person) -> list[SyntheticRecord]:
        config = self.config
        rnd = self.rng.random
        n = 1
        if rnd() < config.duplicate_share:
            n += 1 + bisect_right(
                _cumulative(config.extra_records), rnd() * sum(config.extra_records)
            )
        out = [self.record(person, first=True)]
        out += [self.record(person, first=False) for _ in range(n - 1)]
        return out

    def record(self, p: _Person, *, first: bool) -> SyntheticRecord:
        rng = self.rng
        rnd = rng.random
        config = self.config
        geo = self.pop.geo
        h = p.household
        scale = config.error_scale * (config.first_record_error_scale if first else 1.0)
        applied: list[str] = []
        rates = self.rates

        # Where and when: the era decides the unit list, the commune decides the batch.
        era = "current"
        commune: _Commune = h.commune
        old = h.old
        line = h.line
        moved = not first and rnd() < rates["moved"] * config.error_scale
        if moved:
            applied.append("moved")
            commune = rng.choice(self.pop.pool)
            old = geo.old[rng.choice(commune.predecessors)]
            line = (
                _street_line(commune.province_code, geo.streets, rng)
                if commune.urban
                else _hamlet(commune.province_code, rng)
            )
        if rnd() < config.legacy_share:
            legacy_date = self.collection_date(old.code, "legacy", old)
            if date(p.year, p.month, p.day) < legacy_date:
                era = "legacy"
        current_commune = commune
        if (
            era == "current"
            and len(self.pop.pool) > 1
            and rnd() < rates["current_elsewhere"] * scale
        ):
            applied.append("current_elsewhere")
            current_commune = rng.choice(self.pop.pool)
        if era == "current":
            collected_by = current_commune.code
            collected_on = self.collection_date(collected_by, "current", None)
        else:
            collected_by = old.code
            collected_on = self.collection_date(old.code, "legacy", old)
        vintage = self.vintage(collected_on)
        chance = self.thresholds(collected_by, first)

        mark = applied.append

        def hit(kind: str, factor: float = 1.0) -> bool:
            if rnd() < chance[kind] * factor:
                mark(kind)
                return True
            return False

        # The typist's habits for this record, shared by every name on it.
        case_kind = "upper"
        if hit("name_case"):
            case_kind = "title" if rnd() < 0.85 else "lower"
        # Drawn here, reported only if some name on the record has an oa/oe/uy syllable.
        new_style = rnd() < chance["name_tone_style"]
        restyled: list[bool] = []
        ascii_names = hit("name_ascii")

        def style(words: list[str]) -> str:
            if new_style:
                styled = [_new_style(w) for w in words]
                if styled != words:
                    restyled.append(True)
                words = styled
            text = " ".join(words)
            if ascii_names:
                text = _ascii(text)
            if case_kind == "upper":
                return text.upper()
            return text.lower() if case_kind == "lower" else text

        age = config.as_of.year - p.year
        row: dict[str, str] = dict.fromkeys(DC01_HEADERS, "")
        row[TRUTH_COLUMN] = p.truth.truth_id

        # --- the citizen's name ---
        middle = p.middle
        if middle and hit("middle_omitted"):
            middle = ""
        elif rnd() < chance["middle_changed"] and (pool := self._middle_pool(p)) is not None:
            other = pool.pick(rnd)
            if other == middle:
                other = "" if middle else pool.pick(rnd)
            if other != middle:
                middle = other
                applied.append("middle_changed")
        given_first = p.given_first
        if hit("name_order", 5.0 if given_first else 1.0):
            given_first = not given_first
        if given_first:
            words = [*middle.split(), *p.given.split(), *p.family.split()]
        else:
            words = [*p.family.split(), *middle.split(), *p.given.split()]
        if hit("name_typo"):
            i = len(words) - 1 if rnd() < 0.5 else rng.randrange(len(words))
            words[i] = _vn_typo(words[i], rng)
        name = style(words)
        if "'" in name and hit("apostrophe"):
            name = name.replace("'", rng.choice(("\u2019", "`", "\u2018")))
        if hit("whitespace"):
            name = _whitespace(name, rng)
        row[H_NAME] = name
        if p.alias and rnd() < 0.5:
            row[H_ALIAS] = p.alias

        # --- other people's names ---
        old_person = 2.0 if age > 50 else 1.0
        if p.father_name and not hit("father_missing", old_person):
            row[H_FATHER] = self._other_name(p.father_name, hit, style)
            if p.father_pin and rnd() < 0.25:
                row[H_FATHER_PIN] = p.father_pin
        if p.mother_name and not hit("mother_missing", old_person):
            row[H_MOTHER] = self._other_name(p.mother_name, hit, style)
            if p.mother_pin and rnd() < 0.25:
                row[H_MOTHER_PIN] = p.mother_pin
        if p.spouse is not None and rnd() < 0.7:
            row[H_SPOUSE] = style(p.spouse.full_name.split())
            if rnd() < 0.2:
                row[H_SPOUSE_PIN] = p.spouse.pin
        head = h.head
        if head is not None and not moved:
            if rnd() < 0.8:
                row[H_HEAD] = row[H_NAME] if head is p else style(head.full_name.split())
                if rnd() < 0.4:
                    row[H_HEAD_PIN] = head.pin
            if rnd() < 0.9:
                row[H_RELATION] = p.relation
        elif moved and rnd() < 0.7:
            row[H_RELATION] = "Chủ hộ" if age >= 18 else "Con"

        # --- date of birth, sex ---
        row[H_DOB] = self._dob(p, hit, collected_on)
        if not hit("sex_missing"):
            sex = p.sex
            if hit("sex_wrong"):
                sex = 3 - sex
            text = "Nam" if sex == 1 else "Nữ"
            row[H_SEX] = text.upper() if rnd() < 0.05 else text

        # --- numbers ---
        pin_share = (
            config.pin_share * (0.7 if age < 14 else 1.0) * (0.3 if era == "legacy" else 1.0)
        )
        if rnd() < pin_share:
            row[H_PIN] = self._pin_cell(p.pin, hit)
        if p.cmnd is not None:
            share = (
                config.cmnd_share * (2.0 if era == "legacy" else 1.0) * (1.5 if age >= 50 else 1.0)
            )
            if rnd() < share:
                cmnd = p.cmnd
                if not first and hit("cmnd_changed"):
                    cmnd = self.pop._cmnd(old.province_code)
                row[H_CMND] = cmnd
        elif rnd() < 0.01 and age >= 14:
            row[H_CMND] = p.pin  # a 12-digit CMND (2012-2016) is the PIN already

        # --- places ---
        abbreviate = hit("address_abbrev")
        ascii_places = hit("address_ascii")

        def place(text: str) -> str:
            if abbreviate:
                text = _abbreviate(text, rng)
            if ascii_places:
                text = _ascii(text)
            return text

        birth_reg = p.birth_reg
        if rnd() < 0.85:
            row[H_BIRTH_PLACE] = place(self._old_address(birth_reg, "", rng))
        code_kind = rnd()
        if code_kind < 0.5:
            row[H_BIRTH_CODE] = birth_reg.code
        elif code_kind < 0.62:
            row[H_BIRTH_CODE] = birth_reg.province_code
        if rnd() < 0.8:
            row[H_HOMETOWN] = place(self._old_address(p.hometown, "", rng))
            if rnd() < 0.3:
                row[H_HOMETOWN_CODE] = p.hometown.code
        legacy_text = era == "legacy" or hit("address_legacy_text")
        if not hit("address_missing"):
            if hit("address_typo"):
                words = line.split(" ")
                spots = [i for i, w in enumerate(words) if any(ch.isalpha() for ch in w)]
                i = rng.choice(spots)
                words[i] = _vn_typo(words[i], rng)
                line = " ".join(words)
            if legacy_text:
                permanent = self._old_address(old, line, rng)
            else:
                permanent = f"{line}, {commune.name}, {commune.province_name}"
            row[H_PERMANENT] = place(permanent)
        row[H_PERMANENT_CODE] = old.code if era == "legacy" else commune.code
        if current_commune is commune:
            if rnd() < 0.6:
                row[H_CURRENT] = row[H_PERMANENT]
            if rnd() < 0.8:
                row[H_CURRENT_CODE] = row[H_PERMANENT_CODE]
        else:
            geo_line = (
                _street_line(current_commune.province_code, geo.streets, rng)
                if current_commune.urban
                else _hamlet(current_commune.province_code, rng)
            )
            row[H_CURRENT] = place(
                f"{geo_line}, {current_commune.name}, {current_commune.province_name}"
            )
            row[H_CURRENT_CODE] = current_commune.code

        # --- coded fields ---
        if rnd() < 0.97:
            spelling = self.spellings.get(h.ethnicity)
            row[H_ETHNICITY] = spelling.pick(rnd) if spelling is not None else h.ethnicity
        if rnd() < 0.95:
            spelling = self.religion_spellings.get(h.religion)
            row[H_RELIGION] = spelling.pick(rnd) if spelling is not None else h.religion
        k = rnd()
        row[H_NATIONALITY] = "Việt Nam" if k < 0.95 else "VN" if k < 0.97 else ""
        if p.marital and rnd() < 0.7:
            row[H_MARITAL] = p.marital
        if rnd() < 0.08:
            row[H_BLOOD] = rng.choice(("A", "B", "O", "O", "AB", "Nhóm máu O", "Nhóm máu A"))
        if p.phone and rnd() < 0.6:
            phone = p.phone if rnd() < 0.8 else self.pop._phone()  # numbers change
            form = rnd()
            if form < 0.15:
                phone = f"{phone[:4]} {phone[4:7]} {phone[7:]}"
            elif form < 0.22:
                phone = f"+84 {phone[1:4]} {phone[4:7]} {phone[7:]}"
            elif form < 0.27:
                phone = f"{phone[:4]}.{phone[4:7]}.{phone[7:]}"
            row[H_PHONE] = phone
        if p.email and rnd() < 0.5:
            row[H_EMAIL] = p.email

        if hit("nfd"):
            for column in _TEXT_CELLS:
                if row[column]:
                    row[column] = unicodedata.normalize("NFD", row[column])
        if restyled:
            applied.append("name_tone_style")
        return SyntheticRecord(
            row=row,
            person=p.truth,
            collected_by=collected_by,
            collected_on=collected_on,
            vintage=vintage,
            first=first,
            corruptions=tuple(applied),
        )

    def _middle_pool(self, p: _Person) -> _Weighted | None:
        """Middle names a clerk may write instead of the person's: their people's list, the
        Kinh list, or none for names that have no middle name (Ê Đê, Gia Rai, Khơ me men)."""
        return self.pop._scheme(p.truth.ethnicity, p.sex).middle[_era(p.year)]

    def _other_name(
        self, full: str, hit: Callable[..., bool], style: Callable[[list[str]], str]
    ) -> str:
        """A parent's name as this clerk writes it: its own typo and omitted middle name."""
        words = full.split()
        if len(words) > 2 and hit("parent_middle_omitted"):
            words = [words[0], words[-1]]
        if hit("parent_name_typo"):
            i = self.rng.randrange(len(words))
            words[i] = _vn_typo(words[i], self.rng)
        return style(words)

    @staticmethod
    def _old_address(unit: _OldCommune, line: str, rng: random.Random) -> str:
        """A pre-2025 (four-level) address; birth places often stop at the district."""
        if line:
            return f"{line}, {unit.text}"
        return unit.text if rng.random() < 0.7 else unit.district_text

    def _dob(self, p: _Person, hit: Callable[..., bool], collected_on: date) -> str:
        rng = self.rng
        year, month, day = p.year, p.month, p.day
        if hit("dob_missing"):
            return ""
        if not p.date_known:
            if hit("dob_placeholder", 10.0):
                return f"01/01/{year}"
            if hit("dob_format"):
                return rng.choice((f"{year}", f"--/--/{year}", f"0/0/{year}"))
            return f"00/00/{year}"
        if hit("dob_year_only"):
            return rng.choice((f"00/00/{year}", f"00/00/{year}", f"{year}", f"--/--/{year}"))
        if hit("dob_placeholder"):
            return f"01/01/{year}"
        if day <= 12 and day != month and hit("dob_day_month_swap"):
            day, month = month, day
        if hit("dob_typo"):
            year, month, day = _date_typo(year, month, day, rng, collected_on)
        if hit("dob_two_digit_year"):
            return f"{day:02d}/{month:02d}/{year % 100:02d}"
        if hit("dob_format"):
            form = rng.randrange(5)
            if form == 0:
                return f"{day}/{month}/{year}"
            if form == 1:
                return f"{year}-{month:02d}-{day:02d}"
            if form == 2:
                return f"{year}{month:02d}{day:02d}"
            if form == 3:
                return f"{day:02d}-{month:02d}-{year}"
            # Circular 104/2020: months 3-9 with one digit
            return (
                f"{day:02d}/{month}/{year}" if 3 <= month <= 9 else f"{day:02d}.{month:02d}.{year}"
            )
        return f"{day:02d}/{month:02d}/{year}"

    def _pin_cell(self, pin: str, hit: Callable[..., bool]) -> str:
        rng = self.rng
        if hit("pin_typo"):
            digits = list(pin)
            i = rng.randrange(3, 12)
            if rng.random() < 0.5 and i < 11 and digits[i] != digits[i + 1]:
                digits[i], digits[i + 1] = digits[i + 1], digits[i]
            else:
                digits[i] = str((int(digits[i]) + rng.randint(1, 9)) % 10)
            pin = "".join(digits)
        if pin.startswith("0") and hit("pin_zero_lost"):
            return pin[1:]
        if hit("pin_spaced"):
            sep = " " if rng.random() < 0.8 else "."
            return sep.join((pin[:3], pin[3:6], pin[6:9], pin[9:]))
        return pin


def _date_typo(
    year: int, month: int, day: int, rng: random.Random, latest: date
) -> tuple[int, int, int]:
    """A plausible misreading of a date that is still a real date, not after `latest`."""
    for _ in range(5):
        kind = rng.randrange(3)
        y, m, d = year, month, day
        if kind == 0:
            y += rng.choice((-1, 1))
        elif kind == 1:
            y = year - year % 100 + (year % 10) * 10 + (year % 100) // 10  # 1975 -> 1957
        else:
            d += rng.choice((-3, -2, -1, 1, 2, 3))
        try:
            if date(y, m, d) <= latest and y >= 1900 and (y, m, d) != (year, month, day):
                return y, m, d
        except ValueError:
            continue
    return year - 1, month, min(day, 28)


@cache
def _cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return tuple(out)


# --- streaming with delayed duplicates ----------------------------------------------------------


def _interleave(groups: Iterator[list[Any]], rng: random.Random, delay: int) -> Iterator[Any]:
    """Each group's first item now, the others at random later positions (up to `delay`
    items on), so a person's records are not neighbours. Memory: the pending duplicates."""
    pending: list[tuple[int, int, Any]] = []
    emitted = 0
    seq = 0
    for group in groups:
        for k, item in enumerate(group):
            if k == 0:
                continue
            heapq.heappush(pending, (emitted + rng.randint(1, delay), seq, item))
            seq += 1
        yield group[0]
        emitted += 1
        while pending and pending[0][0] <= emitted:
            yield heapq.heappop(pending)[2]
            emitted += 1
    while pending:
        yield heapq.heappop(pending)[2]


def _config(config: SyntheticConfig | None, overrides: dict[str, Any]) -> SyntheticConfig:
    config = config or SyntheticConfig()
    return dataclasses.replace(config, **overrides) if overrides else config


def generate_records(
    persons: int, *, seed: int, config: SyntheticConfig | None = None, **overrides: Any
) -> Iterator[SyntheticRecord]:
    """The records of `persons` people, with what is known about each (see SyntheticRecord).

    `overrides` are `SyntheticConfig` fields, e.g. `duplicate_share=0.3`. Rows get their
    form number ("Số phiếu": the collecting commune and a running number) as they are
    emitted, so numbers follow file order and tell nothing about persons. Bad knobs raise
    ValueError here, not at the first row.
    """
    if persons < 0:
        raise ValueError("persons must not be negative")
    config = _config(config, overrides)
    rates = config.rate_table(DEFAULT_RATES)
    population = _Population(seed, config)
    writer = _Writer(population, rates)

    def groups() -> Iterator[list[SyntheticRecord]]:
        made = 0
        while made < persons:
            for person in population.household()[: persons - made]:
                made += 1
                yield writer.records(person)

    def numbered() -> Iterator[SyntheticRecord]:
        order_rng = _FastRandom(f"order:{seed}")
        for n, record in enumerate(_interleave(groups(), order_rng, config.duplicate_delay), 1):
            record.row[H_KEY] = f"{record.collected_by}-{n:07d}"
            yield record

    return numbered()


def generate(
    persons: int, *, seed: int, config: SyntheticConfig | None = None, **overrides: Any
) -> Iterator[dict[str, str]]:
    """DC01 rows (keys: `DC01_HEADERS`, including `truth_id`) of `persons` people.

    Deterministic for `seed`; streams (constant memory for any number of persons). See
    `SyntheticConfig` for the knobs and `DEFAULT_RATES` for the corruptions.
    """
    records = generate_records(persons, seed=seed, config=config, **overrides)
    return (record.row for record in records)


# --- files ---------------------------------------------------------------------------------------


def write_csv(
    path: str | os.PathLike[str],
    rows: Iterable[Mapping[str, str]],
    headers: Sequence[str],
    *,
    encoding: str = "utf-8-sig",
) -> int:
    """Write `rows` (dicts; missing keys written empty) under `headers`; return the row count.

    UTF-8 with a BOM by default, which Excel needs to read Vietnamese text and our importer
    accepts. Streams: rows are written as they come.
    """
    count = 0
    cells = itemgetter(*headers) if len(headers) > 1 else None  # one C call per full row
    with open(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers)
        for row in rows:
            try:
                writer.writerow(cells(row) if cells is not None else [row[headers[0]]])
            except KeyError:
                writer.writerow([row.get(h, "") for h in headers])
            count += 1
    return count


@dataclass(frozen=True)
class DemoFile:
    """One batch file of `write_demo_files`: import it with `--commune commune_code
    --collected-on collected_on`. Usable wherever a path is (`os.PathLike`)."""

    path: Path
    commune_code: str
    collected_on: date
    vintage: str
    rows: int

    def __fspath__(self) -> str:
        return str(self.path)


def write_demo_files(
    directory: str | os.PathLike[str],
    persons: int = 1000,
    *,
    seed: int = 0,
    config: SyntheticConfig | None = None,
    truth_column: bool = True,
    **overrides: Any,
) -> list[DemoFile]:
    """Generate `persons` people and write one DC01 CSV per batch: per collecting commune
    and collection date (imports are per commune), named `dc01-<commune>-<yyyymmdd>.csv`.

    Communes default to `DEMO_COMMUNES` (pass `communes=` to change them); pre-2025 batches
    (2020 campaign or early 2025) carry that time's commune code. With `truth_column` False
    the truth goes to `truth.csv` (file, form number, truth_id) instead of a column the
    importer would keep as unmapped. Returns the files, oldest batch first.
    """
    if config is None and "communes" not in overrides:
        overrides["communes"] = DEMO_COMMUNES
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)
    headers = list(DC01_HEADERS if truth_column else DC01_HEADERS[:-1])
    handles: dict[tuple[str, date], tuple[IO[str], Any, Path]] = {}
    counts: Counter[tuple[str, date]] = Counter()
    vintages: dict[tuple[str, date], str] = {}
    truth_file = (
        None if truth_column else (out_dir / "truth.csv").open("w", encoding="utf-8", newline="")
    )
    truth_writer = csv.writer(truth_file) if truth_file is not None else None
    if truth_writer is not None:
        truth_writer.writerow(["file", H_KEY, TRUTH_COLUMN])
    try:
        for record in generate_records(persons, seed=seed, config=config, **overrides):
            key = (record.collected_by, record.collected_on)
            entry = handles.get(key)
            if entry is None:
                path = out_dir / f"dc01-{key[0]}-{key[1]:%Y%m%d}.csv"
                handle = path.open("w", encoding="utf-8-sig", newline="")
                writer = csv.writer(handle)
                writer.writerow(headers)
                entry = handles[key] = (handle, writer, path)
                vintages[key] = record.vintage
            entry[1].writerow([record.row[h] for h in headers])
            counts[key] += 1
            if truth_writer is not None:
                truth_writer.writerow([entry[2].name, record.row[H_KEY], record.row[TRUTH_COLUMN]])
    finally:
        for opened, _, _ in handles.values():
            opened.close()
        if truth_file is not None:
            truth_file.close()
    return [
        DemoFile(handles[key][2], key[0], key[1], vintages[key], counts[key])
        for key in sorted(handles, key=lambda k: (k[1], k[0]))
    ]


# --- statistics -------------------------------------------------------------------------------


def summarize(records: Iterable[SyntheticRecord]) -> dict[str, Any]:
    """Counts and rates of a generated set, for reports and tests (holds one entry per person:
    not for streams larger than memory).

    Namesakes are persons sharing canonical full name and birth year with another person;
    corruption rates are per record.
    """
    n = 0
    per_person: Counter[str] = Counter()
    persons: dict[str, PersonTruth] = {}
    kinds: Counter[str] = Counter()
    with_pin = with_cmnd = legacy = 0
    for r in records:
        n += 1
        per_person[r.person.truth_id] += 1
        persons.setdefault(r.person.truth_id, r.person)
        kinds.update(set(r.corruptions))
        with_pin += bool(r.row[H_PIN])
        with_cmnd += bool(r.row[H_CMND])
        legacy += r.vintage != "2025-07"
    twins: Counter[int] = Counter(
        p.twin_group for p in persons.values() if p.twin_group is not None
    )
    by_name: Counter[tuple[str | None, int]] = Counter(
        (canonical(p.full_name), p.year) for p in persons.values()
    )
    namesakes = sum(1 for p in persons.values() if by_name[canonical(p.full_name), p.year] > 1)
    return {
        "records": n,
        "persons": len(persons),
        "persons_with_duplicates": sum(1 for c in per_person.values() if c > 1),
        "records_per_person_max": max(per_person.values(), default=0),
        "twin_sets": sum(1 for c in twins.values() if c > 1),
        "twin_persons": sum(c for c in twins.values() if c > 1),
        "namesake_persons": namesakes,
        "forced_namesakes": sum(1 for p in persons.values() if p.namesake_of),
        "share_with_pin": with_pin / n if n else 0.0,
        "share_with_cmnd": with_cmnd / n if n else 0.0,
        "share_legacy": legacy / n if n else 0.0,
        "corruption_rates": {k: kinds[k] / n for k in sorted(kinds)} if n else {},
    }


# --- the Western variant ---------------------------------------------------------------------

#: Columns of `generate_foreign` (FEBRL-like), `truth_id` last.
FOREIGN_HEADERS: tuple[str, ...] = (
    "rec_id", "given_name", "surname", "date_of_birth", "sex", "street_number", "address_1",
    "suburb", "postcode", "state", "soc_sec_id", TRUTH_COLUMN,
)  # fmt: skip

#: The mapping profile for `generate_foreign` files (design.md "Mapping profile").
FOREIGN_PROFILE: dict[str, Any] = {
    "source_key": "rec_id",
    "name_order": "given_first",
    "fields": {
        "given_name": "given_name",
        "family_name": "surname",
        "dob": {"column": "date_of_birth", "format": "%Y%m%d"},
        "sex": "sex",
        "other_id_number": "soc_sec_id",
        "permanent_address": {
            "concat": ["street_number", "address_1", "suburb", "state", "postcode"],
            "sep": " ",
        },
    },
}

_NICKNAMES = {
    "Robert": ("Bob", "Rob", "Bobby"), "William": ("Bill", "Will", "Billy"),
    "Elizabeth": ("Liz", "Beth", "Betty"), "Margaret": ("Maggie", "Peggy", "Meg"),
    "James": ("Jim", "Jimmy"), "John": ("Jack", "Johnny"), "Richard": ("Rick", "Dick"),
    "Michael": ("Mike", "Mick"), "Thomas": ("Tom", "Tommy"), "Christopher": ("Chris",),
    "Daniel": ("Dan", "Danny"), "Matthew": ("Matt",), "Anthony": ("Tony",), "Joseph": ("Joe",),
    "Charles": ("Charlie", "Chuck"), "Edward": ("Ed", "Ted"), "Benjamin": ("Ben",),
    "Samuel": ("Sam",), "Alexander": ("Alex",), "Andrew": ("Andy", "Drew"),
    "Nicholas": ("Nick",), "Jonathan": ("Jon",), "Patricia": ("Pat", "Patty"),
    "Jennifer": ("Jen", "Jenny"), "Katherine": ("Kate", "Kathy"), "Catherine": ("Cathy", "Kate"),
    "Rebecca": ("Becky",), "Susan": ("Sue",), "Deborah": ("Deb", "Debbie"),
    "Jessica": ("Jess",), "Victoria": ("Vicky", "Tori"), "Samantha": ("Sam",),
    "Alexandra": ("Alex",), "Christine": ("Chris",), "Stephanie": ("Steph",),
    "Kimberly": ("Kim",), "Barbara": ("Barb",), "Jacqueline": ("Jackie",),
    "Gregory": ("Greg",), "Timothy": ("Tim",), "Kenneth": ("Ken",), "Donald": ("Don",),
    "Ronald": ("Ron",), "Lawrence": ("Larry",), "Peter": ("Pete",), "Steven": ("Steve",),
    "Stephen": ("Steve",), "David": ("Dave",), "Philip": ("Phil",), "Raymond": ("Ray",),
    "Douglas": ("Doug",), "Nathan": ("Nate",), "Joshua": ("Josh",), "Jacob": ("Jake",),
    "Frederick": ("Fred",), "Theodore": ("Ted", "Theo"), "Frédéric": ("Fred",),
}  # fmt: skip
_KEYBOARD = {
    "q": "wa", "w": "qes", "e": "wrd", "r": "etf", "t": "ryg", "y": "tuh", "u": "yij",
    "i": "uok", "o": "ipl", "p": "ol", "a": "qsz", "s": "adwx", "d": "sfec", "f": "dgrv",
    "g": "fhtb", "h": "gjyn", "j": "hkum", "k": "jli", "l": "ko", "z": "ax", "x": "zcs",
    "c": "xvd", "v": "cbf", "b": "vng", "n": "bmh", "m": "nj",
}  # fmt: skip
_PHONETIC = (("ph", "f"), ("f", "ph"), ("ck", "k"), ("c", "k"), ("k", "c"), ("ie", "y"),
             ("y", "ie"), ("ey", "y"), ("ou", "o"), ("ll", "l"), ("tt", "t"), ("nn", "n"),
             ("s", "z"), ("th", "t"), ("ae", "e"), ("mm", "m"), ("rn", "m"))  # fmt: skip
_STREET_SUFFIXES = (("Street", 30), ("Road", 20), ("Avenue", 10), ("Place", 6), ("Crescent", 5),
                    ("Court", 5), ("Drive", 8), ("Lane", 4), ("Parade", 2), ("Close", 3),
                    ("Circuit", 2), ("Terrace", 2), ("Way", 3))  # fmt: skip


def _latin_typo(word: str, rng: random.Random) -> str:
    """A typing, phonetic or OCR error in a Latin-script word, case kept."""
    if len(word) < 2:
        return word
    low = word.lower()
    for _ in range(5):
        kind = rng.randrange(6)
        if kind == 0:  # keyboard neighbour
            spots = [i for i, ch in enumerate(low) if ch in _KEYBOARD]
            if spots:
                i = rng.choice(spots)
                out = low[:i] + rng.choice(_KEYBOARD[low[i]]) + low[i + 1 :]
                break
        elif kind == 1 and len(low) > 3:  # dropped letter
            i = rng.randrange(1, len(low))
            out = low[:i] + low[i + 1 :]
            break
        elif kind == 2:  # doubled letter
            i = rng.randrange(len(low))
            out = low[: i + 1] + low[i] + low[i + 1 :]
            break
        elif kind == 3 and len(low) > 2:  # transposition
            i = rng.randrange(len(low) - 1)
            if low[i] != low[i + 1]:
                out = low[:i] + low[i + 1] + low[i] + low[i + 2 :]
                break
        elif kind in (4, 5):  # phonetic / OCR
            options = [(a, b) for a, b in _PHONETIC if a in low[1:]]
            if options:
                a, b = rng.choice(options)
                i = low.index(a, 1)
                out = low[:i] + b + low[i + len(a) :]
                break
    else:
        return word
    if word.isupper():
        return out.upper()
    return out[:1].upper() + out[1:] if word[:1].isupper() else out


def _digit_typo(digits: str, rng: random.Random) -> str:
    if not digits:
        return digits
    i = rng.randrange(len(digits))
    return digits[:i] + str((int(digits[i]) + rng.randint(1, 9)) % 10) + digits[i + 1 :]


@dataclass(frozen=True)
class _WesternNames:
    given: dict[int, tuple[_Weighted, ...]]  # sex -> per locale
    surnames: tuple[_Weighted, ...]
    locales: _Weighted  # index into the tuples
    suffixes: _Weighted


@cache
def _western_names() -> _WesternNames:
    """en_US (weighted by frequency), en_GB and fr_FR (ranked lists) names from Faker."""
    from faker.providers.person.en_GB import Provider as GB
    from faker.providers.person.en_US import Provider as US
    from faker.providers.person.fr_FR import Provider as FR

    def weighted(names: Any, ranked: bool = True) -> _Weighted:
        """Faker's frequencies when it has them; else a Zipf-like weight by rank for lists in
        order of popularity (en_GB names, fr_FR surnames), equal weights for alphabetical
        ones (fr_FR given names)."""
        if isinstance(names, Mapping):
            return _Weighted((n, float(w)) for n, w in names.items())
        if not ranked:
            return _Weighted((n, 1.0) for n in names)
        return _Weighted((n, 1000 / (rank + 1) ** 0.8) for rank, n in enumerate(names))

    return _WesternNames(
        given={
            sex: (
                weighted(getattr(US, attr)),
                weighted(getattr(GB, attr)),
                weighted(getattr(FR, attr), ranked=False),
            )
            for sex, attr in ((1, "first_names_male"), (2, "first_names_female"))
        },
        surnames=tuple(weighted(x.last_names) for x in (US, GB, FR)),
        locales=_Weighted(((0, 60), (1, 25), (2, 15))),
        suffixes=_Weighted(_STREET_SUFFIXES),
    )


@dataclass(frozen=True, slots=True)
class _Suburb:
    name: str
    postcode: str
    state: str


def _suburbs(seed: int) -> tuple[_Suburb, ...]:
    """A few hundred suburbs, each with a fixed state and postcode (Faker en_AU)."""
    from faker import Faker

    fake = Faker("en_AU")
    fake.seed_instance(seed)
    states = (("NSW", "2"), ("VIC", "3"), ("QLD", "4"), ("SA", "5"), ("WA", "6"), ("TAS", "7"),
              ("ACT", "26"), ("NT", "08"))  # fmt: skip
    weights = _Weighted(((s, w) for s, w in zip(states, (32, 26, 20, 7, 10, 2, 2, 1), strict=True)))
    rng = random.Random(f"suburbs:{seed}")
    out: list[_Suburb] = []
    seen: set[str] = set()
    while len(out) < 400:
        name = fake.city()
        if name in seen:
            continue
        seen.add(name)
        state, first = weights.pick(rng.random)
        postcode = first + "".join(str(rng.randrange(10)) for _ in range(4 - len(first)))
        out.append(_Suburb(name, postcode, state))
    return tuple(out)


@dataclass(slots=True)
class _Western:
    truth_id: str
    sex: int
    given: str
    surname: str
    year: int
    month: int
    day: int
    ssn: str | None
    street_number: str
    street: str
    suburb: _Suburb
    twin_group: int | None = None


def generate_foreign(
    persons: int, *, seed: int, config: SyntheticConfig | None = None, **overrides: Any
) -> Iterator[dict[str, str]]:
    """Western-style records (`FOREIGN_HEADERS`, FEBRL-like; import with `FOREIGN_PROFILE`).

    Same mechanics as `generate`: households share a surname and an address, twins share
    date of birth, surname and address, some people are namesakes, `duplicate_share` of the
    persons have 2-4 records, each corrupted independently (`FOREIGN_RATES`: typos, swapped
    names, nicknames, missing fields, moves, date swaps). Dates are YYYYMMDD, sex M/F, the
    7-digit `soc_sec_id` is unique per person. Deterministic for `seed`.
    """
    if persons < 0:
        raise ValueError("persons must not be negative")
    config = _config(config, overrides)
    rates = config.rate_table(FOREIGN_RATES)
    rng = _FastRandom(f"foreign:{seed}")
    rnd = rng.random
    names = _western_names()
    suburbs = _suburbs(seed)
    ssn_keys = tuple(_mix("ssn", seed, k) & 0xFFFF for k in range(4))
    year_now = config.as_of.year
    latest = config.as_of - timedelta(days=1)
    recent: list[_Western] = []
    counter = {"person": 0, "twin": 0}

    def ssn() -> str | None:
        if rnd() < 0.15:
            return None
        x = counter["person"]
        while True:  # cycle-walking keeps the permutation inside [0, 10**7)
            x = _permute(x, ssn_keys, 10_000)
            if x < 10_000_000:
                return f"{x:07d}"

    def birth(year: int) -> tuple[int, int, int]:
        while True:
            try:
                d = date(year, rng.randint(1, 12), rng.randint(1, 31))
            except ValueError:
                continue
            if d <= latest:
                return d.year, d.month, d.day
            year -= 1

    def person(
        sex: int,
        year: int,
        surname: str,
        locale: int,
        street: tuple[str, str, _Suburb],
        when: tuple[int, int, int] | None = None,
        twin: int | None = None,
    ) -> _Western:
        given = names.given[sex][locale].pick(rnd)
        y, m, d = when or birth(year)
        if when is None and recent and rnd() < config.namesake_rate:
            donor = rng.choice(recent)
            if donor.sex == sex:
                given, surname = donor.given, donor.surname
                y, m, d = birth(donor.year)
        p = _Western(f"F{counter['person']:08d}", sex, given, surname, y, m, d, ssn(),
                     street[0], street[1], street[2], twin)  # fmt: skip
        counter["person"] += 1
        recent.append(p)
        if len(recent) > 4096:
            del recent[:1024]
        return p

    def address() -> tuple[str, str, _Suburb]:
        street = f"{rng.choice(names.surnames[0].items[:300])} {names.suffixes.pick(rnd)}"
        return str(rng.randint(1, 250)), street, rng.choice(suburbs)

    def household() -> list[_Western]:
        locale = names.locales.pick(rnd)
        surname = names.surnames[locale].pick(rnd)
        where = address()
        head_year = year_now - int(rng.triangular(18, 95, 40))
        members = [person(1 if rnd() < 0.5 else 2, head_year, surname, locale, where)]
        if rnd() < 0.6:
            members.append(person(3 - members[0].sex, head_year + rng.randint(-4, 4),
                                  surname if rnd() < 0.7 else names.surnames[locale].pick(rnd),
                                  locale, where))  # fmt: skip
        mother_year = members[-1].year
        year = max(mother_year, head_year) + rng.randint(20, 32)
        for _ in range(rng.choice((0, 0, 1, 2, 2, 3))):
            if year > latest.year:
                break
            when = birth(year)
            twin = None
            sexes = [1 if rnd() < 0.5 else 2]
            if rnd() < config.twin_rate:
                twin = counter["twin"]
                counter["twin"] += 1
                sexes.append(sexes[0] if rnd() < 0.65 else 3 - sexes[0])
            first_given = None
            for sex in sexes:
                child = person(sex, year, surname, locale, where, when, twin)
                while first_given is not None and child.given == first_given:
                    child.given = names.given[sex][locale].pick(rnd)
                first_given = first_given or child.given
                members.append(child)
            year += rng.randint(1, 5)
        return members

    def row(p: _Western, first: bool) -> dict[str, str]:
        scale = config.error_scale * (config.first_record_error_scale if first else 1.0)

        def hit(kind: str) -> bool:
            rate = rates[kind]
            return rnd() < (rate if rate >= 1.0 else rate * scale)

        given, surname = p.given, p.surname
        if hit("nickname") and given in _NICKNAMES:
            given = rng.choice(_NICKNAMES[given])
        if hit("given_typo"):
            given = _latin_typo(given, rng)
        if hit("surname_typo"):
            surname = _latin_typo(surname, rng)
        if (given != _ascii(given) or surname != _ascii(surname)) and hit("accents_dropped"):
            given, surname = _ascii(given), _ascii(surname)
        if hit("name_case"):
            given, surname = given.upper(), surname.upper()
        if hit("names_swapped"):
            given, surname = surname, given
        if hit("given_missing"):
            given = ""
        elif hit("surname_missing"):
            surname = ""
        if not given and not surname:
            surname = p.surname  # a row must still name someone
        y, m, d = p.year, p.month, p.day
        if d <= 12 and d != m and hit("dob_day_month_swap"):
            d, m = m, d
        if hit("dob_typo"):
            y, m, d = _date_typo(y, m, d, rng, latest)
        dob = "" if hit("dob_missing") else f"{y:04d}{m:02d}{d:02d}"
        number, street, suburb = p.street_number, p.street, p.suburb
        if not first and hit("moved"):
            number, street, suburb = address()
        if hit("street_number_typo"):
            number = _digit_typo(number, rng)
        if hit("address_typo"):
            words = street.split(" ")
            words[0] = _latin_typo(words[0], rng)
            street = " ".join(words)
        suburb_name = suburb.name
        if hit("suburb_typo"):
            words = suburb_name.split(" ")
            k = rng.randrange(len(words))
            words[k] = _latin_typo(words[k], rng)
            suburb_name = " ".join(words)
        postcode = _digit_typo(suburb.postcode, rng) if hit("postcode_typo") else suburb.postcode
        ssn_cell = p.ssn or ""
        if ssn_cell and hit("ssn_missing"):
            ssn_cell = ""
        elif ssn_cell and hit("ssn_typo"):
            ssn_cell = _digit_typo(ssn_cell, rng)
        out = {
            "given_name": given,
            "surname": surname,
            "date_of_birth": dob,
            "sex": "" if hit("sex_missing") else ("M" if p.sex == 1 else "F"),
            "street_number": number,
            "address_1": street,
            "suburb": suburb_name,
            "postcode": postcode,
            "state": suburb.state,
            "soc_sec_id": ssn_cell,
            TRUTH_COLUMN: p.truth_id,
        }
        if hit("address_missing"):
            for column in ("street_number", "address_1", "suburb", "postcode"):
                out[column] = ""
        return out

    def groups() -> Iterator[list[dict[str, str]]]:
        made = 0
        while made < persons:
            for p in household()[: persons - made]:
                made += 1
                n = 1
                if rnd() < config.duplicate_share:
                    n += 1 + bisect_right(
                        _cumulative(config.extra_records), rnd() * sum(config.extra_records)
                    )
                yield [row(p, k == 0) for k in range(n)]

    def numbered() -> Iterator[dict[str, str]]:
        order_rng = _FastRandom(f"foreign-order:{seed}")
        for n, out in enumerate(_interleave(groups(), order_rng, config.duplicate_delay), 1):
            yield {"rec_id": f"rec-{n:07d}", **out}

    return numbered()
