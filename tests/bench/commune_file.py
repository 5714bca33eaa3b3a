"""A commune's own spreadsheet layout, for measuring the importer on a file we did not design.

    python -m tests.bench.commune_file OUT.csv [--rows 300000] [--seed 7]

Written independently of `popdb.synthetic` and `tests/support/dc01.py` (no shared name lists,
places or layout), to look like what a commune police station exports from its own tool:
its own column names and order (mapped by the profile `PROFILE`, written beside the file as
OUT.json), names in ASCII without diacritics in mixed case, dates of birth in several formats
in one column, one column holding either a 9-digit CMND or a 12-digit CCCD number, addresses
with the abbreviations clerks type ("P.", "Q.", "TP.", "TX.", "H.", "X.", "TT.", "KP", "ngõ"),
parents' names, phone numbers written several ways, columns nobody maps (job, notes), and
many more distinct values per column than our own generator has: most names, addresses and
ID numbers occur once.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from collections.abc import Iterator
from pathlib import Path

HEADER = [
    "STT", "Ma ho", "Ho ten", "Ngay/thang/nam sinh", "GT", "CMND/CCCD", "Dan toc",
    "Ton giao", "Thuong tru", "Cho o hien tai", "Que quan", "Ho ten bo", "Ho ten me",
    "Quan he chu ho", "SDT", "Nghe nghiep", "Ghi chu",
]  # fmt: skip

PROFILE = {
    "source_key": ["STT"],
    "name_order": "family_first",
    "fields": {
        "full_name": "Ho ten",
        "dob": {"column": "Ngay/thang/nam sinh",
                "format": ["%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%Y"]},
        "sex": "GT",
        "personal_id_number": "CMND/CCCD",
        "ethnicity": "Dan toc",
        "religion": "Ton giao",
        "permanent_address": "Thuong tru",
        "current_address": "Cho o hien tai",
        "hometown": "Que quan",
        "father_name": "Ho ten bo",
        "mother_name": "Ho ten me",
        "household_head_relation": "Quan he chu ho",
        "phone": "SDT",
    },
}  # fmt: skip

# ASCII, as typed on a keyboard without a Vietnamese input method; more of them than a
# handful, so that full names are mostly distinct.
_HO = [
    "Nguyen",
    "Tran",
    "Le",
    "Pham",
    "Hoang",
    "Huynh",
    "Phan",
    "Vu",
    "Vo",
    "Dang",
    "Bui",
    "Do",
    "Ho",
    "Ngo",
    "Duong",
    "Ly",
    "Dao",
    "Doan",
    "Lam",
    "Luong",
    "Mai",
    "Trinh",
    "Trieu",
    "Ta",
    "Quach",
    "Luu",
    "Cao",
    "Chu",
    "Dinh",
    "Kieu",
    "Khuc",
    "Kim",
    "Lai",
    "Lo",
    "Mac",
    "Nong",
    "Thach",
    "Tong",
    "Vuong",
    "Ha",
    "Giap",
    "Khong",
    "Ung",
    "Van",
    "Tang",
    "Thai",
    "Au",
    "La",
    "Bach",
]
_DEM = [
    "Van",
    "Thi",
    "Duc",
    "Minh",
    "Quang",
    "Huu",
    "Cong",
    "Thanh",
    "Ngoc",
    "Thu",
    "Kim",
    "Mai",
    "Xuan",
    "Hong",
    "Dinh",
    "Bao",
    "Gia",
    "Khanh",
    "Anh",
    "Tuan",
    "Hoai",
    "Phuong",
    "Nhu",
    "Thuy",
    "Dieu",
    "Kha",
    "Tien",
    "Trung",
    "Quoc",
    "Manh",
    "Viet",
    "Hai",
    "Tan",
]
_TEN = [
    "An",
    "Anh",
    "Bac",
    "Binh",
    "Cuong",
    "Chau",
    "Chi",
    "Cong",
    "Dat",
    "Diep",
    "Dung",
    "Duy",
    "Duong",
    "Giang",
    "Ha",
    "Hai",
    "Han",
    "Hanh",
    "Hao",
    "Hau",
    "Hieu",
    "Hien",
    "Hoa",
    "Hoan",
    "Hong",
    "Hue",
    "Hung",
    "Huong",
    "Huy",
    "Khai",
    "Khang",
    "Khoa",
    "Khoi",
    "Kien",
    "Lam",
    "Lan",
    "Lien",
    "Linh",
    "Loan",
    "Loc",
    "Loi",
    "Long",
    "Luan",
    "Ly",
    "Mai",
    "Minh",
    "My",
    "Nam",
    "Nga",
    "Nghia",
    "Ngoc",
    "Nguyet",
    "Nhan",
    "Nhi",
    "Nhung",
    "Oanh",
    "Phat",
    "Phong",
    "Phu",
    "Phuc",
    "Phuong",
    "Quan",
    "Quang",
    "Que",
    "Quy",
    "Quynh",
    "Sang",
    "Sinh",
    "Son",
    "Tai",
    "Tam",
    "Tan",
    "Thang",
    "Thanh",
    "Thao",
    "Thinh",
    "Tho",
    "Thu",
    "Thuan",
    "Thuy",
    "Tien",
    "Tin",
    "Toan",
    "Trang",
    "Tri",
    "Trinh",
    "Trong",
    "Truc",
    "Trung",
    "Tu",
    "Tuan",
    "Tung",
    "Tuyen",
    "Tuyet",
    "Uyen",
    "Van",
    "Vi",
    "Viet",
    "Vinh",
    "Vu",
    "Vy",
    "Xuan",
    "Yen",
]
_STREETS = [
    "Kim Ma",
    "Doi Can",
    "Lieu Giai",
    "Nguyen Trai",
    "Tran Phu",
    "Le Loi",
    "Hai Ba Trung",
    "Ly Thuong Kiet",
    "Ton Duc Thang",
    "Hoang Hoa Tham",
    "Giai Phong",
    "Truong Chinh",
    "Lang",
    "Cau Giay",
    "Xuan Thuy",
    "Pham Van Dong",
    "Nguyen Van Cu",
    "Ngo Quyen",
    "Quang Trung",
    "Bach Dang",
]
_WARDS = [
    "Kim Ma",
    "Cong Vi",
    "Ngoc Khanh",
    "Thanh Cong",
    "Dich Vong",
    "Mai Dich",
    "Thinh Quang",
    "O Cho Dua",
    "Ben Nghe",
    "Da Kao",
    "Tan Dinh",
    "Ben Thanh",
    "Phu Hoa",
    "Hiep Phu",
    "Tan Phong",
]
_DISTRICTS = [
    "Ba Dinh",
    "Dong Da",
    "Cau Giay",
    "Hoang Mai",
    "Long Bien",
    "Tan Binh",
    "Binh Thanh",
    "Go Vap",
    "Thu Duc",
    "Hai Chau",
    "Ngo Quyen",
]
_RURAL = [
    "Tan Lap",
    "Dong Xuan",
    "Phu Cat",
    "Yen Bai",
    "Thach That",
    "Quoc Oai",
    "Dan Phuong",
    "Phuc Tho",
    "Gia Lam",
    "Soc Son",
    "Me Linh",
    "Ba Vi",
    "Chuong My",
]
_CITIES = (
    "TP. Ha Noi",
    "TP Ha Noi",
    "Ha Noi",
    "TP.HCM",
    "TP. Ho Chi Minh",
    "Tp Da Nang",
    "TP. Hai Phong",
    "Tinh Nam Dinh",
    "T. Thanh Hoa",
    "Nghe An",
    "Thai Binh",
)
_PROVINCES = (
    "Nam Dinh",
    "Thai Binh",
    "Thanh Hoa",
    "Nghe An",
    "Ha Tinh",
    "Hai Duong",
    "Hung Yen",
    "Bac Ninh",
    "Quang Nam",
    "Hue",
    "Ha Noi",
    "Ninh Binh",
    "Phu Tho",
)
_ETHNIC = ("Kinh",) * 20 + ("kinh", "Tay", "Thai", "Muong", "Nung", "Hoa", "Kh'mer", "Dao")
_RELIGION = ("Khong",) * 10 + ("khong", "", "Phat giao", "Thien chua", "Cong giao", "Tin lanh")
_RELATION = ("Chu ho", "CH", "Vo", "Chong", "Con", "Con", "Con", "Me", "Bo", "Chau", "Con dau",
             "Con re", "Anh", "Em")  # fmt: skip
_MALE, _FEMALE = ("Nam", "nam", "NAM", "1"), ("Nu", "nu", "NU", "Nữ", "0")
_JOBS = ("Lam ruong", "Cong nhan", "Hoc sinh", "Sinh vien", "Kinh doanh", "Huu tri", "Noi tro",
         "CBCNV", "Tu do", "")  # fmt: skip


def _name(rng: random.Random) -> str:
    parts = [rng.choice(_HO), rng.choice(_DEM)]
    if rng.random() < 0.3:
        parts.append(rng.choice(_DEM))
    parts.append(rng.choice(_TEN))
    name = " ".join(parts)
    r = rng.random()
    return name.upper() if r < 0.4 else name.lower() if r < 0.45 else name


def _address(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        house = f"So {rng.randint(1, 400)}" if rng.random() < 0.5 else f"{rng.randint(1, 400)}"
        lane = (f" ngo {rng.randint(1, 200)}" if rng.random() < 0.4 else
                f"/{rng.randint(1, 90)}" if rng.random() < 0.3 else "")  # fmt: skip
        return (f"{house}{lane} {rng.choice(_STREETS)}, P. {rng.choice(_WARDS)}, "
                f"Q. {rng.choice(_DISTRICTS)}, {rng.choice(_CITIES)}")  # fmt: skip
    if r < 0.7:
        return (f"To {rng.randint(1, 40)}, KP {rng.randint(1, 12)}, P.{rng.randint(1, 15)}, "
                f"Q.{rng.randint(1, 12)}, TP.HCM")  # fmt: skip
    if r < 0.9:
        return (f"Thon {rng.randint(1, 20)}, X. {rng.choice(_RURAL)}, H. {rng.choice(_RURAL)}, "
                f"{rng.choice(_CITIES)}")  # fmt: skip
    return (f"Xom {rng.randint(1, 15)}, TT. {rng.choice(_RURAL)}, TX. {rng.choice(_RURAL)}, "
            f"{rng.choice(_PROVINCES)}")  # fmt: skip


def _dob(rng: random.Random, year: int) -> str:
    d, m = rng.randint(1, 28), rng.randint(1, 12)
    r = rng.random()
    if r < 0.55:
        return f"{d:02d}/{m:02d}/{year}"
    if r < 0.7:
        return f"{d}/{m}/{year}"
    if r < 0.8:
        return f"{year}-{m:02d}-{d:02d}"
    if r < 0.88:
        return f"{d:02d}-{m:02d}-{year}"
    if r < 0.95:
        return f"{d:02d}.{m:02d}.{year}"
    return str(year)


def _id_number(rng: random.Random, year: int, male: bool) -> str:
    r = rng.random()
    if r < 0.1:
        return ""
    if r < 0.4 or year < 1960:  # an old 9-digit identity card (CMND)
        return f"{rng.randint(1, 38):02d}{rng.randint(0, 9_999_999):07d}"
    century_sex = (year - 1900) // 100 * 2 + (0 if male else 1)
    return (
        f"0{rng.choice((1, 26, 27, 30, 33, 36, 38, 40, 79)):02d}{century_sex}{year % 100:02d}"
        f"{rng.randint(0, 999_999):06d}"
    )


def _phone(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.35:
        return ""
    digits = f"0{rng.choice((3, 5, 7, 8, 9))}{rng.randint(0, 99_999_999):08d}"
    if r < 0.65:
        return digits
    if r < 0.8:
        return f"{digits[:4]}.{digits[4:7]}.{digits[7:]}"
    if r < 0.9:
        return f"+84 {digits[1:4]} {digits[4:7]} {digits[7:]}"
    return digits[1:]  # a number cell that lost its leading zero


def rows(n: int, *, seed: int = 7) -> Iterator[list[str]]:
    """`n` rows in `HEADER` order, in households of 1 to 6 people."""
    rng = random.Random(seed)
    i = 0
    household = 0
    while i < n:
        household += 1
        home = _address(rng)
        family = rng.choice(_HO)
        for _ in range(min(rng.randint(1, 6), n - i)):
            i += 1
            male = rng.random() < 0.5
            year = rng.randint(1935, 2022)
            name = _name(rng)
            if rng.random() < 0.7:  # most of a household shares the head's family name
                name = (
                    family.upper() + name[name.index(" ") :]
                    if name.isupper()
                    else family + name[name.index(" ") :]
                )
            yield [
                str(i), f"HK{household:07d}", name, _dob(rng, year), rng.choice(_MALE if male
                else _FEMALE), _id_number(rng, year, male), rng.choice(_ETHNIC),
                rng.choice(_RELIGION), home, home if rng.random() < 0.8 else _address(rng),
                f"{rng.choice(_RURAL)}, {rng.choice(_PROVINCES)}", _name(rng) if rng.random()
                < 0.7 else "", _name(rng) if rng.random() < 0.7 else "", rng.choice(_RELATION),
                _phone(rng), rng.choice(_JOBS), "" if rng.random() < 0.9 else "chuyen den",
            ]  # fmt: skip


def write(path: Path, n: int, *, seed: int = 7) -> Path:
    """Write the CSV (UTF-8, comma) and its mapping profile (`path` with .json); the profile."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows(n, seed=seed))
    profile = path.with_suffix(".json")
    profile.write_text(json.dumps(PROFILE, ensure_ascii=False, indent=1), encoding="utf-8")
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(write(args.out, args.rows, seed=args.seed))


if __name__ == "__main__":
    main()
