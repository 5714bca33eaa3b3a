"""A third kind of file for the import benchmark, made another way again than `commune_file`
and `popdb.synthetic`: a ward's register exported by a different tool.

    python -m tests.bench.ward_file OUT.csv [--rows 300000] [--seed 11]

Semicolon-separated UTF-8 with a byte order mark (Excel's "CSV UTF-8" in a Vietnamese
locale); the name in three columns (Họ / Tên đệm / Tên) with diacritics, a tenth of them
typed with combining accents (NFD, as some Mac and web tools give them); one resident in
twenty a foreigner (Korean, Chinese, Japanese, Western names, with their nationality and a
passport number); dates of birth as dd/mm/yy (two-digit years: ambiguous, warned) or as
Excel serial numbers (a date cell formatted as a number) beside dd/mm/yyyy; sex as "Nam",
"Nữ", "M", "F"; CCCD numbers with spaces; addresses with the abbreviations "P.", "Q.", "TP.",
"Tổ", "KP."; e-mail addresses, marital status, and columns nobody maps. Its mapping profile
is written beside it (OUT.json). No list here is shared with the other generators.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import unicodedata
from collections.abc import Iterator
from pathlib import Path

HEADER = [
    "TT", "Số hộ khẩu", "Họ", "Tên đệm", "Tên", "Ngày sinh", "Giới", "Số CCCD",
    "Hộ chiếu", "Quốc tịch", "Dân tộc", "Tình trạng hôn nhân", "Địa chỉ thường trú",
    "Nơi ở hiện nay", "Email", "Điện thoại", "Quan hệ với chủ hộ", "Trình độ", "Ghi chú",
]  # fmt: skip

PROFILE = {
    "source_key": ["TT"],
    "name_order": "family_first",
    "fields": {
        "family_name": "Họ",
        "middle_name": "Tên đệm",
        "given_name": "Tên",
        "dob": {"column": "Ngày sinh", "format": "%d/%m/%Y"},  # %y is refused: which century?
        "sex": "Giới",
        "personal_id_number": "Số CCCD",
        "other_id_number": "Hộ chiếu",
        "nationality": "Quốc tịch",
        "ethnicity": "Dân tộc",
        "marital_status": "Tình trạng hôn nhân",
        "permanent_address": "Địa chỉ thường trú",
        "current_address": "Nơi ở hiện nay",
        "email": "Email",
        "phone": "Điện thoại",
        "household_head_relation": "Quan hệ với chủ hộ",
    },
}  # fmt: skip

_HO = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
       "Dương", "Lý", "Trịnh", "Đinh", "Lâm", "Phùng", "Mai", "Tô", "Hà", "Lưu", "Quách",
       "Chu", "Kiều", "Thái", "Tạ", "Âu Dương", "Tôn Thất", "Khúc")  # fmt: skip
_DEM = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Gia", "Xuân", "Thu",
        "Bảo", "Kim", "Phương", "Hồng", "Khánh", "Trọng", "Tuấn", "Diệu", "Hoài", "")  # fmt: skip
_TEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hạnh", "Hiếu", "Huyền", "Khôi", "Lan", "Long",
        "Mỹ", "Nam", "Nga", "Nhung", "Phúc", "Quân", "Sơn", "Tâm", "Thảo", "Thắng", "Trang",
        "Uyên", "Vân", "Vy", "Yến", "Đạt", "Ánh", "Hưng", "Lộc", "Nghĩa", "Oanh", "Quyên",
        "Sang", "Tùng", "Việt", "Xuyến", "Ý", "Hậu", "Linh")  # fmt: skip
_FOREIGN = (
    ("Kim", "Min", "Jun", "Hàn Quốc"), ("Park", "Ji", "Woo", "Hàn Quốc"),
    ("Lee", "Seo", "Yeon", "Hàn Quốc"), ("Wang", "", "Xiaoming", "Trung Quốc"),
    ("Zhang", "", "Wei", "Trung Quốc"), ("Tanaka", "", "Hiroshi", "Nhật Bản"),
    ("Suzuki", "", "Yuki", "Nhật Bản"), ("Smith", "John", "Michael", "Hoa Kỳ"),
    ("Müller", "", "Anna", "Đức"), ("O'Brien", "", "Siobhán", "Ireland"),
    ("Dupont", "Marie", "Claire", "Pháp"), ("Somchai", "", "Keo", "Lào"),
)  # fmt: skip
_STREETS = ("Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Điện Biên Phủ",
            "Cách Mạng Tháng Tám", "Võ Văn Tần", "Pasteur", "Lý Thường Kiệt", "Phan Đình Phùng",
            "Nguyễn Thị Minh Khai", "Bạch Đằng")  # fmt: skip
_WARDS = ("Bến Nghé", "Bến Thành", "Đa Kao", "Tân Định", "Cầu Kho", "Phạm Ngũ Lão", "Võ Thị Sáu",
          "Thảo Điền", "An Phú", "Bình An", "Tân Phong", "Phước Long")  # fmt: skip
_DISTRICTS = ("1", "3", "5", "7", "10", "Bình Thạnh", "Phú Nhuận", "Gò Vấp", "Tân Bình")
_ETHNIC = ("Kinh",) * 12 + ("Hoa", "Khmer", "Chăm", "Tày", "")
_MARITAL = ("Độc thân", "Đã kết hôn", "Đã kết hôn", "Ly hôn", "Góa", "")
_RELATION = ("Chủ hộ", "Vợ", "Chồng", "Con", "Con", "Con", "Cháu", "Mẹ", "Bố", "Người thuê nhà")
_SCHOOL = ("12/12", "9/12", "Đại học", "Cao đẳng", "Thạc sĩ", "")


def _address(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return (f"{rng.randint(1, 500)}/{rng.randint(1, 60)} {rng.choice(_STREETS)}, "
                f"P. {rng.choice(_WARDS)}, Q. {rng.choice(_DISTRICTS)}, "
                "TP. Hồ Chí Minh")  # fmt: skip
    return (f"Tổ {rng.randint(1, 30)}, KP. {rng.randint(1, 9)}, P.{rng.choice(_WARDS)}, "
            f"Q.{rng.choice(_DISTRICTS)}, TP.HCM")  # fmt: skip


def _dob(rng: random.Random, year: int) -> str:
    d, m = rng.randint(1, 28), rng.randint(1, 12)
    r = rng.random()
    if r < 0.6:
        return f"{d:02d}/{m:02d}/{year}"
    if r < 0.8:
        return f"{d:02d}/{m:02d}/{year % 100:02d}"  # two-digit year: which century?
    return str((dt.date(year, m, d) - dt.date(1899, 12, 30)).days)  # an Excel serial


def _nfd(text: str, rng: random.Random) -> str:
    return unicodedata.normalize("NFD", text) if rng.random() < 0.1 else text


def rows(n: int, *, seed: int = 11) -> Iterator[list[str]]:
    """`n` rows in `HEADER` order, in households of 1 to 5 people."""
    rng = random.Random(seed)
    i = household = 0
    while i < n:
        household += 1
        home = _address(rng)
        family = rng.choice(_HO)
        for _ in range(min(rng.randint(1, 5), n - i)):
            i += 1
            year = rng.randint(1940, 2023)
            male = rng.random() < 0.5
            if rng.random() < 0.05:
                ho, dem, ten, nation = rng.choice(_FOREIGN)
                pin, passport = "", f"{rng.choice('BCMNPS')}{rng.randint(0, 99_999_999):08d}"
            else:
                ho = family if rng.random() < 0.7 else rng.choice(_HO)
                dem, ten, nation = rng.choice(_DEM), rng.choice(_TEN), "Việt Nam"
                digits = (f"0{rng.choice((1, 31, 48, 79, 92)):02d}"
                          f"{(year - 1900) // 100 * 2 + (0 if male else 1)}{year % 100:02d}"
                          f"{rng.randint(0, 999_999):06d}")  # fmt: skip
                pin = (f"{digits[:3]} {digits[3:6]} {digits[6:]}" if rng.random() < 0.3
                       else digits if rng.random() < 0.95 else "")  # fmt: skip
                passport = ""
            host = rng.choice(("gmail.com", "yahoo.com.vn"))
            email = f"{ten.lower()}.{rng.randint(1, 9999)}@{host}" if rng.random() < 0.3 else ""
            phone = f"09{rng.randint(0, 99_999_999):08d}" if rng.random() < 0.6 else ""
            yield [
                str(i), f"SHK-{household:06d}", _nfd(ho, rng), _nfd(dem, rng), _nfd(ten, rng),
                _dob(rng, year), rng.choice(("Nam", "M") if male else ("Nữ", "F")), pin,
                passport, nation, rng.choice(_ETHNIC) if nation == "Việt Nam" else "",
                rng.choice(_MARITAL) if year < 2004 else "Độc thân", _nfd(home, rng),
                home if rng.random() < 0.85 else _address(rng), email, phone,
                rng.choice(_RELATION), rng.choice(_SCHOOL),
                "" if rng.random() < 0.95 else "tạm vắng",
            ]  # fmt: skip


def write(path: Path, n: int, *, seed: int = 11) -> Path:
    """Write the CSV (UTF-8 with BOM, semicolons) and its mapping profile beside it."""
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(HEADER)
        writer.writerows(rows(n, seed=seed))
    profile = path.with_suffix(".json")
    profile.write_text(json.dumps(PROFILE, ensure_ascii=False, indent=1), encoding="utf-8")
    return profile


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    print(write(args.out, args.rows, seed=args.seed))


if __name__ == "__main__":
    main()
