"""Dedup quality, time and memory: our engine against Splink and recordlinkage, side by side.

    scripts/bench dedup [--records 10000 --records 100000 ...] [--layout dc01|foreign]
                        [--engines ours,splink,recordlinkage] [--timeout-min 20] [--memory-gb 8]
                        [--generator synthetic|standin] [--seed 42] [--workdir DIR]

For each size: writes a labelled CSV with popdb/synthetic.py (households with twins and
namesakes, several noisy records per person, a `truth_id` column; not timed), then runs each
engine on that same file in a subprocess of this process, one after the other:

- ours: `popdb import FILE --commune 00004 [--mapping P]`, `popdb dedup run`,
  `popdb dedup export --clusters F` on a fresh database (time = the three commands; memory =
  the largest of the three client processes; the PostgreSQL server's memory is not counted);
- Splink 4 on DuckDB and recordlinkage (ECM), configured in tests/bench/peers.py.

Each answer is scored by `dedup.evaluation.pairwise_scores` (pairs of records put in one
cluster against pairs sharing a truth_id). An engine past the time or memory limit is killed
and reported as such. Prints a table per size, the machine, and a Markdown table to paste into
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import shutil
import sys
import tempfile
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dedup.evaluation import Scores, pairwise_scores
from tests.bench.import_speed import machine
from tests.bench.peers import (
    DC01_SPEC,
    FOREIGN_SPEC,
    PeerResult,
    Spec,
    run_measured,
    run_recordlinkage,
    run_splink,
)
from tests.support.dc01 import HEADERS

ENGINES = ("ours", "splink", "recordlinkage")
TRUTH = "truth_id"

# --- the labelled file ----------------------------------------------------------------------


def labelled_csv(path: Path, records: int, layout: str, seed: int, generator: str) -> Spec:
    """Write `records` labelled rows to `path`; return the column roles of its layout.

    The one place that makes the file: popdb/synthetic.py, or the stand-in written before
    it landed (`--generator standin`), kept to compare the two.
    """
    make = synthetic_csv if generator == "synthetic" else standin_csv
    return make(path, records, layout, seed)


def synthetic_csv(path: Path, records: int, layout: str, seed: int) -> Spec:
    """The first `records` rows that popdb/synthetic.py makes (its default knobs)."""
    from popdb import synthetic

    # A person has 1.34 records on average, so `records` persons always give enough rows.
    if layout == "dc01":
        rows = synthetic.generate(records, seed=seed)
        synthetic.write_csv(path, itertools.islice(rows, records), synthetic.DC01_HEADERS)
        return DC01_SPEC
    rows = synthetic.generate_foreign(records, seed=seed)
    synthetic.write_csv(path, itertools.islice(rows, records), synthetic.FOREIGN_HEADERS)
    return FOREIGN_SPEC


def _words(text: str, sep: str = " ") -> list[str]:
    return text.split(sep)


#: Surname shares (domain.md 4.1), with two compound surnames that the peers' first-token rule
#: splits wrongly, as it would in real data.
FAMILY = {"Nguyễn": 38.0, "Trần": 11.0, "Lê": 9.5, "Phạm": 7.1, "Hoàng": 3.1, "Huỳnh": 2.0,
          "Phan": 4.5, "Vũ": 2.4, "Võ": 1.5, "Đặng": 2.1, "Bùi": 2.0, "Đỗ": 1.4, "Hồ": 1.3,
          "Ngô": 1.3, "Dương": 1.0, "Lý": 0.5, "Đinh": 0.9, "Đào": 0.8, "Trương": 0.8,
          "Lâm": 0.6, "Mai": 0.5, "Tô": 0.4, "Hà": 0.6, "Lương": 0.5, "Cao": 0.5, "Trịnh": 0.6,
          "Chu": 0.3, "Tạ": 0.3, "Kiều": 0.2, "Tôn Thất": 0.05, "Âu Dương": 0.05}  # fmt: skip
MIDDLE_M = {"Văn": 30, "Đức": 8, "Minh": 8, "Quang": 5, "Hữu": 5, "Công": 4, "Thanh": 4,
            "Xuân": 3, "Tiến": 3, "Ngọc": 3, "Duy": 3, "Hoàng": 3, "Trọng": 2, "Mạnh": 2,
            "Anh": 2, "Thành": 2, "Gia": 2, "Bảo": 2, "Đình": 3, "Quốc": 3}  # fmt: skip
MIDDLE_F = {"Thị": 35, "Ngọc": 8, "Thu": 5, "Thanh": 5, "Kim": 4, "Mai": 3, "Minh": 4,
            "Phương": 3, "Bảo": 3, "Hồng": 3, "Thùy": 3, "Khánh": 2, "Diệu": 2, "Bích": 2,
            "Hải": 2}  # fmt: skip
GIVEN_M = _words(
    "Anh Minh Hùng Dũng Tuấn Nam Long Hải Đức Huy Quang Sơn Thắng Cường Bình Hòa Khánh Phúc Quý "
    "Việt An Bảo Công Đạt Duy Giang Hiếu Hiển Hoàng Khang Khoa Kiên Lâm Lộc Luân Nghĩa Nhân "
    "Phong Phát Quân Tài Tâm Thành Thiện Thịnh Toàn Trí Trung Tú Vinh Vũ Hưng Hậu Hoan Tùng "
    "Thái Khải Lực Tín Vương"
)
GIVEN_F = _words(
    "Linh Trang Hương Lan Anh Hoa Mai Ngọc Phương Thảo Thủy Chi Vy Yến Hòa Hà Hạnh Hằng Hiền "
    "Hồng Huyền Khánh Liên Loan Ly Mến My Nga Ngân Nhi Nhung Oanh Phượng Quyên Quỳnh Tâm Thanh "
    "Thắm Thu Thúy Thư Tiên Trâm Trinh Tuyết Uyên Vân Xuân Diệp Dung Duyên Giang Hậu Lụa Nhàn "
    "Nguyệt Sen Thoa Vi Mỹ"
)
#: Place of birth registration and the pre-2025 province code that personal ID numbers carry.
PROVINCES = [("001", "Hà Nội", 30), ("031", "Hải Phòng", 4), ("036", "Nam Định", 5),
             ("034", "Thái Bình", 5), ("040", "Nghệ An", 5), ("038", "Thanh Hóa", 6),
             ("048", "Đà Nẵng", 2), ("046", "Thừa Thiên Huế", 2), ("049", "Quảng Nam", 2),
             ("079", "Hồ Chí Minh", 8), ("092", "Cần Thơ", 1), ("075", "Đồng Nai", 2),
             ("030", "Hải Dương", 4), ("027", "Bắc Ninh", 4), ("042", "Hà Tĩnh", 3),
             ("022", "Quảng Ninh", 2), ("056", "Khánh Hòa", 1), ("033", "Hưng Yên", 3),
             ("035", "Hà Nam", 2), ("037", "Ninh Bình", 2)]  # fmt: skip
STREETS = _words(
    "Phan Đình Phùng, Hoàng Diệu, Điện Biên Phủ, Đội Cấn, Kim Mã, Liễu Giai, Nguyễn Thái Học, "
    "Trần Phú, Quán Thánh, Hùng Vương, Ngọc Hà, Giảng Võ, Văn Cao, Đào Tấn, Nguyễn Chí Thanh, "
    "Linh Lang, Vạn Phúc, Cống Vị, Đốc Ngữ, Hoàng Hoa Thám, Thụy Khuê, Phó Đức Chính, "
    "Trúc Bạch, Hàng Bún, Lý Nam Đế, Cửa Bắc, Châu Long, Nam Cao, Sơn Tây, Láng Hạ, La Thành, "
    "Ông Ích Khiêm, Lê Hồng Phong, Chu Văn An, Tôn Thất Đàm, Nguyễn Cảnh Chân, Kim Mã Thượng, "
    "Vĩnh Phúc, Đê La Thành, Yên Phụ",
    sep=", ",
)
WARDS = ["Ba Đình", "Ngọc Hà", "Giảng Võ", "Kim Mã", "Liễu Giai", "Cống Vị"]
ETHNIC = ["Kinh"] * 17 + ["Tày", "Thái", "Mường", "Khmer", "H'Mông"]
RELIGION = ["Không"] * 8 + ["Phật giáo", "Công giáo"]
TONES = ("\u0300", "\u0301", "\u0303", "\u0309", "\u0323")  # huyền sắc ngã hỏi nặng
#: Share of births that are twins (about 1 % in reality; doubled to stress the engines).
TWIN_BIRTHS = 0.02
#: Records per person: 1 + this many more (the mean is 1.65).
EXTRA_RECORDS = {"0": 55.0, "1": 30.0, "2": 10.0, "3": 5.0}
PROVINCE_WEIGHTS = {str(i): float(w) for i, (_, _, w) in enumerate(PROVINCES)}
DIALECT = [("gi", "d"), ("d", "gi"), ("s", "x"), ("x", "s"), ("ch", "tr"), ("tr", "ch"),
           ("l", "n"), ("n", "l"), ("v", "d")]  # fmt: skip


@dataclass
class Person:
    truth: int
    family: str
    middle: str
    given: str
    male: bool
    year: int
    month: int
    day: int
    province: int  # index into PROVINCES
    pin: str
    address: tuple[int, int, str, str]  # house number, alley (0 = none), street, ward
    father: str
    mother: str
    relation: str

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.family, self.middle, self.given) if p)


class _Draw:
    """Weighted choices with precomputed cumulative weights (random.choices is slow per call)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._cum: dict[tuple[int, float], tuple[list[Any], list[float]]] = {}

    def pick(self, table: Mapping[str, float] | list[str], zipf: float = 0.0) -> Any:
        key = (id(table), zipf)  # tables are module constants or live as long as self
        if key not in self._cum:
            if isinstance(table, Mapping):
                values, weights = list(table), list(table.values())
            else:
                values = list(table)
                weights = [1 / (i + 1) ** zipf for i in range(len(values))]
            self._cum[key] = (values, list(itertools.accumulate(weights)))
        values, cum = self._cum[key]
        return self.rng.choices(values, cum_weights=cum)[0]


def _population(n_records: int, rng: random.Random) -> Iterator[tuple[Person, int]]:
    """(person, number of records) in households, until about `n_records` records."""
    draw = _Draw(rng)
    pins: set[str] = set()
    truth = itertools.count(1)
    made = 0
    recent: list[Person] = []

    def name(male: bool, family: str | None = None, middle: str | None = None) -> list[str]:
        return [
            family or draw.pick(FAMILY),
            middle or draw.pick(MIDDLE_M if male else MIDDLE_F),
            draw.pick(GIVEN_M if male else GIVEN_F, zipf=0.9),
        ]

    def pin_for(province: int, male: bool, year: int) -> str:
        century_sex = (year - 1900) // 100 * 2 + (0 if male else 1)
        while True:
            pin = f"{PROVINCES[province][0]}{century_sex}{year % 100:02d}{rng.randrange(10**6):06d}"
            if pin not in pins:
                pins.add(pin)
                return pin

    def person(
        parts: list[str],
        male: bool,
        year: int,
        father: str,
        mother: str,
        address: tuple[int, int, str, str],
        relation: str,
        dob: tuple[int, int] | None = None,
    ) -> Person:
        province = int(draw.pick(PROVINCE_WEIGHTS))
        month, day = dob or (rng.randint(1, 12), rng.randint(1, 28))
        p = Person(
            next(truth),
            parts[0],
            parts[1],
            parts[2],
            male,
            year,
            month,
            day,
            province,
            pin_for(province, male, year),
            address,
            father,
            mother,
            relation,
        )
        # A namesake: now and then someone born the same year gets a name already given nearby.
        if recent and rng.random() < 0.03:
            other = rng.choice(recent)
            if other.male == male:
                p.family, p.middle, p.given, p.year = (
                    other.family,
                    other.middle,
                    other.given,
                    other.year,
                )
                p.pin = pin_for(province, male, p.year)
        recent.append(p)
        if len(recent) > 500:
            recent.pop(rng.randrange(len(recent)))
        return p

    def records() -> int:
        return 1 + int(draw.pick(EXTRA_RECORDS))

    while made < n_records:
        address = (
            rng.randint(1, 400),
            rng.choice([0] * 3 + list(range(1, 80))),
            rng.choice(STREETS),
            rng.choice(WARDS),
        )
        head_year = rng.randint(1935, 2000)
        head_parts = name(True)
        grandfather = " ".join(name(True, family=head_parts[0]))
        grandmother = " ".join(name(False))
        members: list[Person] = []
        head = person(head_parts, True, head_year, grandfather, grandmother, address, "Chủ hộ")
        members.append(head)
        if rng.random() < 0.8:
            wife_year = min(2005, head_year + rng.randint(-3, 6))
            wife_parts = name(False)
            wife = person(wife_parts, False, wife_year, " ".join(name(True, wife_parts[0])),
                          " ".join(name(False)), address, "Vợ")  # fmt: skip
            members.append(wife)
            shared_middle = rng.random() < 0.4
            middle_m, middle_f = draw.pick(MIDDLE_M), draw.pick(MIDDLE_F)
            birth = wife_year + rng.randint(19, 26)
            givens: set[str] = set()  # siblings (twins included) never share a given name
            for _ in range(rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4])):
                if birth > 2024:
                    break
                twins = 2 if rng.random() < TWIN_BIRTHS else 1
                dob = (rng.randint(1, 12), rng.randint(1, 28))
                for _ in range(twins):
                    male = rng.random() < 0.51
                    parts = name(
                        male,
                        head_parts[0],
                        (middle_m if male else middle_f) if shared_middle else None,
                    )
                    while parts[2] in givens:
                        parts = name(male, head_parts[0], parts[1])
                    givens.add(parts[2])
                    members.append(
                        person(
                            parts, male, birth, head.full_name, wife.full_name, address, "Con", dob
                        )
                    )
                birth += rng.randint(1, 5)
            if rng.random() < 0.15 and head_year - 25 > 1915:  # the head's mother lives with them
                gm = grandmother.split(" ")
                members.append(person([gm[0], " ".join(gm[1:-1]), gm[-1]], False,
                                      head_year - rng.randint(20, 35), " ".join(name(True)),
                                      " ".join(name(False)), address, "Mẹ"))  # fmt: skip
        for p in members:
            k = records()
            made += k
            yield p, k


def _strip_marks(s: str) -> str:
    out = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
    return out.replace("đ", "d").replace("Đ", "D")


def _tone_error(s: str, rng: random.Random) -> str:
    """One syllable's tone mark changed, dropped or added (hỏi/ngã and the like)."""
    words = s.split(" ")
    i = rng.randrange(len(words))
    d = unicodedata.normalize("NFD", words[i])
    marks = [j for j, c in enumerate(d) if c in TONES]
    if marks:
        j = marks[0]
        new = rng.choice([t for t in TONES if t != d[j]] + [""])
        d = d[:j] + new + d[j + 1 :]
    else:
        vowels = [j for j, c in enumerate(d) if c.lower() in "aeiouy"]
        if vowels:
            j = vowels[-1] + 1
            d = d[:j] + rng.choice(TONES) + d[j:]
    words[i] = unicodedata.normalize("NFC", d)
    return " ".join(words)


def _typo(s: str, rng: random.Random) -> str:
    if len(s) < 3:
        return s
    i = rng.randrange(1, len(s) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return s[:i] + s[i + 1 :]
    if kind == 1:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + rng.choice("aeinoutrhgc") + s[i + 1 :]


def _dialect(given: str, rng: random.Random) -> str:
    low = given.lower()
    for a, b in rng.sample(DIALECT, len(DIALECT)):
        if low.startswith(a):
            return (b + given[len(a) :]).capitalize()
    return given


def _name_noise(full: str, rng: random.Random, *, given_noise: bool) -> str:
    parts = full.split(" ")
    if given_noise and len(parts) > 2 and rng.random() < 0.03:  # middle name left out
        parts = [parts[0], parts[-1]]
    if given_noise and rng.random() < 0.03:
        parts[-1] = _dialect(parts[-1], rng)
    s = " ".join(parts)
    r = rng.random()
    if r < 0.07:
        s = _strip_marks(s)
    elif r < 0.12:
        s = _tone_error(s, rng)
    elif r < 0.14:
        s = _typo(s, rng)
    return s.upper() if rng.random() < 0.85 else s


def _dob_text(p: Person, rng: random.Random) -> str:
    year_only = 0.3 if p.year < 1950 else 0.03
    r = rng.random()
    if r < 0.01:
        return ""
    if r < 0.01 + year_only:
        return f"00/00/{p.year}"
    day, month, year = p.day, p.month, p.year
    r = rng.random()
    if r < 0.02 and day <= 12:
        day, month = month, day
    elif r < 0.04:
        day = max(1, min(28, day + rng.choice([-10, -1, 1, 10])))
    elif r < 0.05:
        year += rng.choice([-1, 1])
    return f"{day:02d}/{month:02d}/{year}"


def _address_text(address: tuple[int, int, str, str], rng: random.Random) -> str:
    number, alley, street, ward = address
    house = f"Số {number}" + (f" ngõ {alley}" if alley else "")
    if rng.random() < 0.3:
        return f"{house} {street}, P. {ward}, TP. Hà Nội"
    return f"{house} phố {street}, Phường {ward}, Thành phố Hà Nội"


def _dc01_rows(
    people: Iterator[tuple[Person, int]], rng: random.Random
) -> Iterator[dict[str, str]]:
    for p, k in people:
        phone = f"09{rng.randrange(10**8):08d}"
        for _ in range(k):
            address = p.address
            if rng.random() < 0.08:  # moved since
                address = (rng.randint(1, 400), 0, rng.choice(STREETS), rng.choice(WARDS))
            _, place, _ = PROVINCES[p.province]
            pin = p.pin if rng.random() < 0.75 else ""
            if pin and rng.random() < 0.01:
                i = rng.randrange(6, 12)
                pin = pin[:i] + str((int(pin[i]) + 1) % 10) + pin[i + 1 :]
            male = p.male if rng.random() > 0.003 else not p.male
            yield {
                "Họ, chữ đệm và tên khai sinh": _name_noise(p.full_name, rng, given_noise=True),
                "Ngày, tháng, năm sinh": _dob_text(p, rng),
                "Giới tính": "Nam" if male else "Nữ",
                "Số định danh cá nhân": pin,
                "Nơi đăng ký khai sinh": place if rng.random() < 0.9 else "",
                "Quê quán": place if rng.random() < 0.8 else "",
                "Dân tộc": rng.choice(ETHNIC),
                "Tôn giáo": rng.choice(RELIGION),
                "Quốc tịch": "Việt Nam",
                "Nơi thường trú": _address_text(address, rng) if rng.random() < 0.95 else "",
                "Mã xã nơi thường trú": "00004",
                "Họ, chữ đệm và tên cha": (
                    _name_noise(p.father, rng, given_noise=False) if rng.random() < 0.85 else ""
                ),
                "Họ, chữ đệm và tên mẹ": (
                    _name_noise(p.mother, rng, given_noise=False) if rng.random() < 0.85 else ""
                ),
                "Quan hệ với chủ hộ": p.relation,
                "Số điện thoại": phone if rng.random() < 0.6 else "",
                TRUTH: str(p.truth),
            }


FOREIGN_HEADERS = ["rec_id", "given_name", "surname", "date_of_birth", "sex", "street_number",
                   "address_1", "suburb", "postcode", "state", "soc_sec_id"]  # fmt: skip


def _foreign_rows(n_records: int, rng: random.Random) -> Iterator[dict[str, str]]:
    """Western records (FEBRL-like): households, twins, typos, missing values, swapped names."""
    from faker import Faker

    fake = Faker("en_AU")
    fake.seed_instance(rng.randrange(2**31))
    males = sorted({fake.first_name_male() for _ in range(3000)})
    females = sorted({fake.first_name_female() for _ in range(3000)})
    surnames = sorted({fake.last_name() for _ in range(6000)})
    for pool in (males, females, surnames):
        rng.shuffle(pool)
    places = [(fake.city(), fake.postcode(), fake.state_abbr()) for _ in range(2000)]
    streets = sorted({fake.street_name() for _ in range(4000)})
    draw = _Draw(rng)
    truth = itertools.count(1)
    made = 0
    while made < n_records:
        surname = draw.pick(surnames, zipf=0.8)
        suburb, postcode, state = rng.choice(places)
        home = (str(rng.randint(1, 300)), rng.choice(streets), suburb, postcode, state)
        head_year = rng.randint(1935, 2000)
        members = [
            (draw.pick(males, 0.8), "m", date(head_year, rng.randint(1, 12), rng.randint(1, 28)))
        ]
        if rng.random() < 0.7:
            members.append(
                (
                    draw.pick(females, 0.8),
                    "f",
                    date(
                        min(2005, head_year + rng.randint(-3, 6)),
                        rng.randint(1, 12),
                        rng.randint(1, 28),
                    ),
                )
            )
            birth = head_year + rng.randint(20, 30)
            for _ in range(rng.choice([0, 1, 2, 2, 3])):
                if birth > 2024:
                    break
                dob = date(birth, rng.randint(1, 12), rng.randint(1, 28))
                for _ in range(2 if rng.random() < TWIN_BIRTHS else 1):
                    sex = "m" if rng.random() < 0.51 else "f"
                    members.append((draw.pick(males if sex == "m" else females, 0.8), sex, dob))
                birth += rng.randint(1, 5)
        for given, sex, dob in members:
            person = next(truth)
            ssid = f"{rng.randrange(10**7):07d}"
            k = 1 + int(draw.pick(EXTRA_RECORDS))
            made += k
            for _ in range(k):
                g, s = given, surname
                if rng.random() < 0.1:
                    g = _typo(g, rng)
                if rng.random() < 0.1:
                    s = _typo(s, rng)
                if rng.random() < 0.02:
                    g, s = s, g
                d = dob.strftime("%Y%m%d")
                r = rng.random()
                if r < 0.03:
                    d = ""
                elif r < 0.05 and dob.day <= 12:
                    d = f"{dob.year}{dob.day:02d}{dob.month:02d}"
                elif r < 0.09:
                    i = rng.randrange(4, 8)
                    d = d[:i] + str(rng.randrange(10)) + d[i + 1 :]
                number, street, sub, post, st = home
                if rng.random() < 0.08:
                    sub, post, st = rng.choice(places)
                    number, street = str(rng.randint(1, 300)), rng.choice(streets)
                if rng.random() < 0.08:
                    street = _typo(street, rng)
                yield {
                    "given_name": g if rng.random() > 0.03 else "",
                    "surname": s if rng.random() > 0.02 else "",
                    "date_of_birth": d,
                    "sex": sex if rng.random() > 0.02 else "",
                    "street_number": number if rng.random() > 0.05 else "",
                    "address_1": street,
                    "suburb": sub if rng.random() > 0.05 else "",
                    "postcode": post if rng.random() > 0.03 else _typo(post, rng),
                    "state": st,
                    "soc_sec_id": (ssid if rng.random() > 0.03 else _typo(ssid, rng))
                    if rng.random() > 0.2
                    else "",
                    TRUTH: str(person),
                }


def standin_csv(path: Path, records: int, layout: str, seed: int) -> Spec:
    """A stand-in for popdb/synthetic.py: exactly `records` rows, shuffled, with truth_id."""
    rng = random.Random(seed)
    if layout == "dc01":
        rows = list(itertools.islice(_dc01_rows(_population(records, rng), rng), records))
        headers, key, spec = [*HEADERS, TRUTH], "Số phiếu", DC01_SPEC
    else:
        rows = list(itertools.islice(_foreign_rows(records, rng), records))
        headers, key, spec = [*FOREIGN_HEADERS, TRUTH], "rec_id", FOREIGN_SPEC
    rng.shuffle(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=headers, restval="")
        writer.writeheader()
        for i, row in enumerate(rows, 1):
            row[key] = f"DC01-{i:08d}" if layout == "dc01" else f"rec-{i}"
            writer.writerow(row)
    return spec


# --- ours -----------------------------------------------------------------------------------


def run_ours(
    csv_path: Path,
    spec: Spec,
    workdir: Path,
    *,
    timeout_s: float,
    memory_limit_mb: float,
) -> PeerResult:
    """Import, dedup run, export through the product CLI on a fresh database."""
    import sqlalchemy as sa

    from popdb import embedded, migrate, reference
    from tests.bench.peers import _source_keys
    from tests.conftest import TEST_HOME, _fresh_database

    keys = _source_keys(csv_path, spec)
    result = PeerResult("ours", keys, None, 0.0, 0.0)
    server = os.environ.get("POPDB_TEST_DATABASE_URL") or embedded.ensure_running(
        TEST_HOME / "pgdata"
    )
    url = _fresh_database(server, "popdb_bench_dedup")
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    with sa.orm.Session(engine) as session:
        reference.load_reference_data(session)
        session.commit()
    engine.dispose()
    out = workdir / f"ours-{csv_path.stem}"
    out.mkdir(exist_ok=True)
    log = out / "log.txt"
    log.write_text("")
    clusters = out / "clusters.csv"
    importing = ["import", str(csv_path), "--commune", "00004", "--report", str(out / "errors.csv")]
    if spec.layout != "dc01":
        profile = out / "profile.json"
        from popdb.synthetic import FOREIGN_PROFILE

        profile.write_text(json.dumps(FOREIGN_PROFILE))
        importing += ["--mapping", str(profile)]
    env = {**os.environ, "DATABASE_URL": url, "POPDB_HOME": str(out / "home")}
    result.info["load average at start"] = round(os.getloadavg()[0], 1)
    steps = [
        importing,
        ["dedup", "run"],
        ["dedup", "export", "--clusters", str(clusters), "--pairs", str(out / "pairs.csv")],
    ]
    for step in steps:
        before = log.stat().st_size
        m = run_measured(
            [sys.executable, "-m", "popdb", *step],
            log_path=log,
            env=env,
            timeout_s=max(1.0, timeout_s - result.seconds),
            memory_limit_mb=memory_limit_mb,
        )
        result.seconds += m.seconds
        result.cpu_seconds += m.cpu_seconds
        result.peak_mb = max(result.peak_mb, m.peak_mb)
        result.info[" ".join(step[:2]) if step[0] == "dedup" else "import"] = round(m.seconds, 1)
        if m.stopped or m.returncode != 0:
            with log.open(errors="replace") as f:
                f.seek(before)
                lines = [
                    ln for ln in f.read().splitlines() if ln.strip() and not ln.startswith("$")
                ]
            why = m.stopped or (lines[-1][:160] if lines else f"exit {m.returncode}")
            result.error = f"command failed: popdb {' '.join(step[:2])}: {why}"
            return result
    by_key: dict[str, str] = {}
    with clusters.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            by_key[row["source_key"]] = row["person_id"]
    missing = sum(k not in by_key for k in keys)
    if missing:
        result.info["records missing from the export (scored as singletons)"] = missing
    import numpy as np

    result.labels = np.array([by_key.get(k, f"missing:{k}") for k in keys], dtype=object)
    return result


# --- the run --------------------------------------------------------------------------------


@dataclass
class Row:
    engine: str
    records: int
    result: PeerResult
    scores: Scores | None


def _score(result: PeerResult, truth: list[str]) -> Scores | None:
    return pairwise_scores(result.labels, truth) if result.labels is not None else None


def _fmt(row: Row) -> list[str]:
    s, r = row.scores, row.result
    rates = (
        [f"{s.precision:.4f}", f"{s.recall:.4f}", f"{s.f1:.4f}", f"{s.false_merges:,}"]
        if s is not None
        else ["–"] * 4
    )
    return [
        row.engine,
        f"{row.records:,}",
        *rates,
        f"{r.seconds:,.1f}" if r.seconds else "–",
        f"{r.cpu_seconds:,.0f}" if r.cpu_seconds else "–",
        f"{r.peak_mb:,.0f}" if r.peak_mb else "–",
    ]


COLUMNS = ["engine", "records", "precision", "recall", "F1", "false merges", "seconds",
           "CPU s", "peak MB"]  # fmt: skip


def _describe(info: dict[str, Any]) -> str:
    """One line of an engine's side facts; per-rule pair counts shortened to numbers."""
    parts = []
    for key, value in info.items():
        if key == "comparisons_per_blocking_rule":
            value = [rule["row_count"] for rule in value]
        elif isinstance(value, dict):
            continue  # model parameters: in the engine's output folder
        parts.append(f"{key}: {value}")
    return "; ".join(parts)


def _print_table(rows: list[Row]) -> None:
    cells = [COLUMNS] + [_fmt(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(COLUMNS))]
    for c in cells:
        print(
            "  ".join(
                v.rjust(w) if i else v.ljust(w)
                for i, (v, w) in enumerate(zip(c, widths, strict=True))
            )
        )
    for r in rows:
        if r.result.error:
            print(f"  {r.engine}: not available ({r.result.error})")
        if r.result.info:
            print(f"  {r.engine}: {_describe(r.result.info)}")
    sys.stdout.flush()


def _markdown(rows: list[Row], meta: dict[str, Any]) -> str:
    lines = [
        f"Machine: {meta['cpu']}, {meta['cores']} cores, {meta['memory_gb']} GB RAM, "
        f"Python {meta['python']}, PostgreSQL {meta['postgresql']}; layout {meta['layout']}, "
        f"generator {meta['generator']}, seed {meta['seed']}.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(_fmt(r)) + " |" for r in rows]
    notes = [
        f"- {r.engine} at {r.records:,}: not available ({r.result.error})"
        for r in rows
        if r.result.error
    ]
    loads = ", ".join(
        f"{r.engine} {r.records:,}: {r.result.info.get('load average at start', '?')}" for r in rows
    )
    notes.append(f"- Load average (1 min) when each engine started: {loads}.")
    if any(r.engine == "ours" for r in rows):
        notes.append(
            "- ours: seconds and CPU are the three `popdb` commands (import, dedup run, export); "
            "peak MB is the largest client process; the PostgreSQL server's CPU and memory are "
            "not counted."
        )
    return "\n".join(lines + [""] + notes)


def _postgres_version() -> str:
    try:
        import sqlalchemy as sa

        from popdb import embedded
        from tests.conftest import TEST_HOME

        server = os.environ.get("POPDB_TEST_DATABASE_URL") or embedded.ensure_running(
            TEST_HOME / "pgdata"
        )
        engine = sa.create_engine(server)
        with engine.connect() as conn:
            version = str(conn.exec_driver_sql("SHOW server_version").scalar())
        engine.dispose()
        return version
    except Exception as exc:  # the peers still run without a database
        return f"unavailable ({exc.__class__.__name__})"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--records", type=int, action="append", help="repeatable; default 10000")
    parser.add_argument("--layout", choices=["dc01", "foreign"], default="dc01")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--generator",
        choices=["synthetic", "standin"],
        default="synthetic",
        help="popdb/synthetic.py (default) or the earlier stand-in",
    )
    parser.add_argument("--timeout-min", type=float, default=20.0, help="per engine and size")
    parser.add_argument("--memory-gb", type=float, default=8.0, help="per engine")
    parser.add_argument("--workdir", type=Path, help="keep files here (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="use a file already generated in --workdir"
    )
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    sizes = args.records or [10_000]
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="popdb-bench-dedup-"))
    workdir.mkdir(parents=True, exist_ok=True)
    timeout_s, memory_mb = args.timeout_min * 60, args.memory_gb * 1024

    meta: dict[str, Any] = {
        **machine(),
        "layout": args.layout,
        "generator": args.generator,
        "seed": args.seed,
    }
    meta["postgresql"] = _postgres_version() if "ours" in engines else "not used"
    all_rows: list[Row] = []
    for n in sizes:
        path = workdir / f"{args.layout}-{args.generator}-{args.seed}-{n}.csv"
        spec = DC01_SPEC if args.layout == "dc01" else FOREIGN_SPEC
        if not (args.reuse and path.exists()):
            print(f"generating {n:,} labelled {args.layout} records in {path} …", file=sys.stderr)
            spec = labelled_csv(path, n, args.layout, args.seed, args.generator)
        truth = _truth(path, spec)
        rows: list[Row] = []
        for engine in engines:
            print(f"{engine} on {n:,} records …", file=sys.stderr, flush=True)
            if engine == "ours":
                result = run_ours(
                    path, spec, workdir, timeout_s=timeout_s, memory_limit_mb=memory_mb
                )
            else:
                runner = run_splink if engine == "splink" else run_recordlinkage
                result = runner(
                    path, spec, workdir=workdir, timeout_s=timeout_s, memory_limit_mb=memory_mb
                )
            rows.append(Row(engine, n, result, _score(result, truth)))
        print(f"\n== {n:,} records ({args.layout}) ==")
        _print_table(rows)
        all_rows += rows
    print(f"\nmachine: {json.dumps(meta, ensure_ascii=False)}")
    print("\n--- Markdown for docs/benchmarks.md ---\n")
    print(_markdown(all_rows, meta))
    if args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)


def _truth(path: Path, spec: Spec) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        at = next(reader).index(spec.truth)
        return [row[at] for row in reader]


if __name__ == "__main__":
    main()
