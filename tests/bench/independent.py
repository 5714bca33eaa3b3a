"""A labelled Vietnamese file made without popdb.synthetic's habits (issue 17 item 7).

Written apart from the engine and its generator, from how commune files are said to look:

- households (two parents, one to four children, twins in about one family in twenty: same
  birth date, same parents, different given names), a household's records sharing its
  address, written in several ways ("P.", "Phường", no diacritics, a house number or not);
- one "Số CMND/CCCD" column (`--variant one_column`, the default) holding, record by record,
  the 12-digit personal ID number (CCCD), the 9-digit old card (CMND) or nothing; or the DC01
  pair of columns (`--variant two_columns`), the old card sometimes in the wrong one;
- people born before 2000 have both documents, later ones the 12-digit number only;
- duplicates with a clerk's slips: diacritics dropped, a letter doubled or dropped, a day and
  month swapped, a year-only date, a digit of the number mistyped, the given name and family
  name in another order, upper case.

Each record carries `truth_id` (its person). Use from the dedup benchmark:
`scripts/bench dedup --generator independent --records 15000`.
"""

from __future__ import annotations

import csv
import random
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from tests.support.dc01 import HEADERS

FAMILY = {"Nguyễn": 31, "Trần": 11, "Lê": 9, "Phạm": 7, "Hoàng": 5, "Huỳnh": 4, "Phan": 4,
          "Vũ": 3, "Võ": 3, "Đặng": 2, "Bùi": 2, "Đỗ": 2, "Hồ": 1.5, "Ngô": 1.5, "Dương": 1,
          "Lý": 1, "Trịnh": 0.8, "Đinh": 0.8, "Lâm": 0.6, "Mai": 0.6, "Tô": 0.4, "Hà": 0.5,
          "Lương": 0.4, "Kiều": 0.2, "Thái": 0.3, "Quách": 0.2, "Âu": 0.1, "Cao": 0.5}  # fmt: skip
MIDDLE = {
    True: ["Văn", "Đức", "Minh", "Quốc", "Hữu", "Gia", "Thành", "Xuân", "Công", "Bá"],
    False: ["Thị", "Ngọc", "Thu", "Kim", "Thùy", "Bảo", "Mỹ", "Diệu", "Thanh", "Hồng"],
}
GIVEN = {True: ["Tùng", "Khoa", "Lộc", "Nghĩa", "Trí", "Hiếu", "Đạt", "Thịnh", "Phong", "Tài",
                "Kiên", "Duy", "Hải", "Vinh", "Toàn", "Thuận", "Luân", "Quyết", "Bảo", "Nhân",
                "Hưng", "Tín", "Khải", "Sang", "Hậu", "Định", "Phát", "Lực", "Thiện", "Tâm"],
         False: ["Nhung", "Duyên", "Hạnh", "Oanh", "Tuyết", "Diễm", "Quyên", "Trâm", "Nga",
                 "Hằng", "Hà", "Giang", "My", "Nhi", "Uyên", "Loan", "Thoa", "Xuân", "Hiền",
                 "Nguyệt", "Thư", "Ánh", "Tiên", "Vân", "Phượng", "Hậu", "Tâm", "Bích", "Dung",
                 "Liên"]}  # fmt: skip
STREETS = [
    "Lạc Long Quân",
    "Nguyễn Trãi",
    "Hai Bà Trưng",
    "Trần Hưng Đạo",
    "Lê Lợi",
    "Điện Biên Phủ",
    "Cách Mạng Tháng Tám",
    "Phan Đình Phùng",
    "Võ Thị Sáu",
    "Bạch Đằng",
]
# (commune code, ward, district, province, province code of birth registrations)
PLACES = [("00004", "Phúc Xá", "Ba Đình", "Hà Nội", "001"),
          ("00667", "Láng Thượng", "Đống Đa", "Hà Nội", "001"),
          ("26740", "Bến Nghé", "Quận 1", "TP. Hồ Chí Minh", "079"),
          ("27127", "Tân Định", "Quận 1", "TP. Hồ Chí Minh", "079"),
          ("20194", "Thạch Thang", "Hải Châu", "Đà Nẵng", "048")]  # fmt: skip


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
    pin: str
    cmnd: str | None
    place: tuple[str, str, str, str, str]
    house: int
    street: str
    father: str | None
    mother: str | None


def _pick(rng: random.Random, table: dict[str, float]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _fold(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


class _Maker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.truth = 0
        self.serial = rng.randrange(10**5)
        self.cmnds: set[str] = set()

    def pin(self, province: str, male: bool, year: int) -> str:
        self.serial += self.rng.randint(1, 50)
        century = (year - 1900) // 100 * 2 + (0 if male else 1)
        return f"{province}{century}{year % 100:02d}{self.serial % 10**6:06d}"

    def cmnd(self) -> str:
        while True:
            number = f"{self.rng.choice(['0', '1', '2', '3'])}{self.rng.randrange(10**8):08d}"
            if number not in self.cmnds and not 271450001 <= int(number) < 271500001:
                self.cmnds.add(number)
                return number

    def person(self, family: str, male: bool, year: int, place: tuple, house: int,
               street: str, father: str | None, mother: str | None, *,
               month: int | None = None, day: int | None = None,
               given: str | None = None) -> Person:  # fmt: skip
        rng = self.rng
        self.truth += 1
        return Person(
            self.truth, family, rng.choice(MIDDLE[male]), given or rng.choice(GIVEN[male]),
            male, year, month or rng.randint(1, 12), day or rng.randint(1, 28),
            self.pin(place[4], male, year), self.cmnd() if year < 2000 else None, place,
            house, street, father, mother,
        )  # fmt: skip

    def household(self) -> list[Person]:
        rng = self.rng
        place = rng.choice(PLACES)
        house, street = rng.randint(1, 400), rng.choice(STREETS)
        family = _pick(rng, FAMILY)
        y = rng.randint(1945, 1995)
        father = self.person(family, True, y, place, house, street, None, None)
        mother = self.person(_pick(rng, FAMILY), False, y + rng.randint(-4, 4), place,
                             house, street, None, None)  # fmt: skip
        people = [father, mother]
        names = (
            f"{father.family} {father.middle} {father.given}",
            f"{mother.family} {mother.middle} {mother.given}",
        )
        for _ in range(rng.choice([0, 1, 1, 2, 2, 2, 3, 4])):
            year = min(2024, y + rng.randint(20, 38))
            male = rng.random() < 0.5
            child = self.person(family, male, year, place, house, street, *names)
            people.append(child)
            if rng.random() < 0.05:  # a twin: same day, same parents, another given name
                other = rng.random() < 0.5
                twin_given = rng.choice([g for g in GIVEN[other] if g != child.given])
                people.append(self.person(family, other, year, place, house, street, *names,
                                          month=child.month, day=child.day,
                                          given=twin_given))  # fmt: skip
        return people


def _slip(text: str, rng: random.Random) -> str:
    """A letter dropped, doubled or replaced by its neighbour."""
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text))
    kind = rng.random()
    if kind < 0.4:
        return text[:i] + text[i + 1 :]
    if kind < 0.7:
        return text[:i] + text[i] + text[i:]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def _digit_slip(number: str, rng: random.Random) -> str:
    i = rng.randrange(len(number))
    return number[:i] + str((int(number[i]) + rng.randint(1, 9)) % 10) + number[i + 1 :]


def _address(p: Person, rng: random.Random, plain: bool) -> str:
    code, ward, district, province, _ = p.place
    ward_word = rng.choice(["Phường", "P.", "phường"])
    district_word = "" if district.startswith("Quận") else rng.choice(["Quận ", "Q. ", ""])
    parts = [f"{ward_word} {ward}", f"{district_word}{district}", province]
    if rng.random() < 0.8:
        parts.insert(0, f"{rng.choice(['Số ', 'số ', ''])}{p.house} {p.street}")
    text = ", ".join(parts) if rng.random() < 0.7 else " - ".join(parts)
    return _fold(text) if plain else text


def _record(p: Person, rng: random.Random, variant: str, *, first: bool) -> dict[str, str]:
    noisy = not first
    plain = noisy and rng.random() < 0.2  # a file typed without diacritics
    family, middle, given = p.family, p.middle, p.given
    if noisy and rng.random() < 0.08:
        given = _slip(given, rng)
    if noisy and rng.random() < 0.05:
        family = _slip(family, rng)
    order = [family, middle, given]
    if noisy and rng.random() < 0.03:
        order = [given, family, middle]  # written in the western order
    name = " ".join(order)
    name = _fold(name) if plain else name
    name = name.upper() if rng.random() < 0.5 else name
    day, month, year = p.day, p.month, p.year
    dob = f"{day:02d}/{month:02d}/{year}"
    roll = rng.random() if noisy else 1.0
    if roll < 0.03 and day <= 12:
        dob = f"{month:02d}/{day:02d}/{year}"
    elif roll < 0.07:
        dob = str(year)
    elif roll < 0.09:
        dob = f"{min(28, day + 1):02d}/{month:02d}/{year}"
    # which document this record carries: the clerk copies what the citizen shows
    choice = rng.random()
    pin, old = "", ""
    if p.cmnd is not None and choice < 0.3:
        old = p.cmnd
    elif choice < 0.75:
        pin = p.pin
    if noisy and rng.random() < 0.03:
        pin = _digit_slip(pin, rng) if pin else pin
        old = _digit_slip(old, rng) if old else old
    row = {h: "" for h in HEADERS}
    row["Họ, chữ đệm và tên khai sinh"] = name
    row["Ngày, tháng, năm sinh"] = dob
    row["Giới tính"] = ("Nam" if p.male else "Nữ") if rng.random() < 0.95 else ""
    if variant == "one_column":
        row["Số định danh cá nhân"] = pin or old
    else:  # two columns; now and then the old card typed in the PIN column
        row["Số định danh cá nhân"] = pin or (old if rng.random() < 0.3 else "")
        row["Số CMND"] = "" if row["Số định danh cá nhân"] == old else old
    row["Nơi thường trú"] = _address(p, rng, plain)
    row["Mã xã nơi thường trú"] = p.place[0] if rng.random() < 0.85 else ""
    if p.father and rng.random() < 0.6:
        row["Họ, chữ đệm và tên cha"] = _fold(p.father) if plain else p.father
    if p.mother and rng.random() < 0.6:
        row["Họ, chữ đệm và tên mẹ"] = _fold(p.mother) if plain else p.mother
    return row


def write(path: Path, records: int, *, seed: int = 17, variant: str = "one_column") -> Path:
    """Exactly `records` labelled rows (one to three records per person), shuffled."""
    rng = random.Random(seed)
    maker = _Maker(rng)
    rows: list[dict[str, str]] = []
    while len(rows) < records:
        for p in maker.household():
            copies = rng.choices([1, 2, 3], weights=[55, 33, 12])[0]
            for k in range(copies):
                rows.append({**_record(p, rng, variant, first=k == 0), "truth_id": str(p.truth)})
    rows = rows[:records]
    rng.shuffle(rows)
    headers = [h for h in HEADERS if variant == "two_columns" or h != "Số CMND"]
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*headers, "truth_id"], extrasaction="ignore")
        writer.writeheader()
        for i, row in enumerate(rows, 1):
            row["Số phiếu"] = f"IN-{i:07d}"
            writer.writerow(row)
    return path
