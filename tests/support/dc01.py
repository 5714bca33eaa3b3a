"""Synthetic DC01 files for tests and benchmarks: plausible, varied, entirely made up."""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from pathlib import Path

from importers.dc01 import DC01_COLUMNS

HEADERS = [h for h, _ in DC01_COLUMNS]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]  # fmt: skip
MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thanh"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mai"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Hùng", "Hòa", "Khánh", "Long", "Nam", "Phúc", "Quý",
           "Sơn", "Thắng", "Tuấn", "Việt"]  # fmt: skip
GIVEN_F = ["Anh", "Chi", "Hoa", "Hương", "Lan", "Linh", "Mai", "Ngọc", "Phương", "Thảo", "Thủy",
           "Trang", "Vy", "Yến", "Hòa"]  # fmt: skip
ETHNIC = ["Kinh"] * 17 + ["Tày", "Thái", "Mường", "Khmer", "H'Mông"]
RELIGION = ["Không"] * 8 + ["Phật giáo", "Công giáo"]
RELATION = ["Chủ hộ", "Vợ", "Chồng", "Con", "Con", "Mẹ", "Cháu"]
PLACES = [("001", "Hà Nội", "00004", "Phường Ba Đình, Thành phố Hà Nội"),
          ("079", "TP Hồ Chí Minh", "26740", "Phường Sài Gòn, Thành phố Hồ Chí Minh")]  # fmt: skip


def fake_rows(n: int, *, seed: int = 1) -> Iterator[list[str]]:
    """`n` DC01 rows in `HEADERS` order. Personal ID numbers agree with sex and birth year."""
    rng = random.Random(seed)
    for i in range(1, n + 1):
        male = rng.random() < 0.5
        year = rng.randint(1930, 2020)
        place_code, place, commune, address = PLACES[i % 2]
        family = rng.choice(FAMILY)
        name = " ".join(
            (family, rng.choice(MIDDLE_M if male else MIDDLE_F),
             rng.choice(GIVEN_M if male else GIVEN_F))
        ).upper()  # fmt: skip
        century_sex = (year - 1900) // 100 * 2 + (0 if male else 1)
        pin = f"{place_code}{century_sex}{year % 100:02d}{i % 1_000_000:06d}"
        dob = (
            f"00/00/{year}" if rng.random() < 0.05
            else f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{year}"
        )  # fmt: skip
        row = {
            "Số phiếu": f"DC01-{i:08d}",
            "Họ, chữ đệm và tên khai sinh": name,
            "Ngày, tháng, năm sinh": dob,
            "Giới tính": "Nam" if male else "Nữ",
            "Số định danh cá nhân": pin if rng.random() < 0.9 else "",
            "Nơi đăng ký khai sinh": place,
            "Quê quán": place,
            "Dân tộc": rng.choice(ETHNIC),
            "Tôn giáo": rng.choice(RELIGION),
            "Quốc tịch": "Việt Nam",
            "Nơi thường trú": f"Số {rng.randint(1, 300)} phố {rng.choice(GIVEN_M)}, {address}",
            "Mã xã nơi thường trú": commune,
            "Nơi ở hiện tại": address,
            "Mã xã nơi ở hiện tại": commune,
            "Họ, chữ đệm và tên cha": f"{family} Văn {rng.choice(GIVEN_M)}".upper(),
            "Họ, chữ đệm và tên mẹ": f"{rng.choice(FAMILY)} Thị {rng.choice(GIVEN_F)}".upper(),
            "Quan hệ với chủ hộ": rng.choice(RELATION),
            "Số điện thoại": f"09{rng.randint(0, 99_999_999):08d}",
        }
        yield [row.get(h, "") for h in HEADERS]


def write_csv(path: Path, rows: Iterator[list[str]] | list[list[str]], *,
              headers: list[str] | None = None, encoding: str = "utf-8") -> Path:  # fmt: skip
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers or HEADERS)
        writer.writerows(rows)
    return path


def dc01_row(**cells: str) -> list[str]:
    """One DC01 row from a few cells given by canonical field (or "source_key")."""
    by_field = {f: h for h, f in DC01_COLUMNS if f}
    row = dict.fromkeys(HEADERS, "")
    for field, value in cells.items():
        row[by_field[field]] = value
    return [row[h] for h in HEADERS]
