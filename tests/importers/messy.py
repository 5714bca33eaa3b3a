"""DC01 rows with the oddities real files have, to compare the bulk import path with the
row-at-a-time reference: bad dates, lost zeros, legacy fonts, repeated keys, missing names,
escapes, multi-line cells, extra and missing cells, blank rows."""

from __future__ import annotations

import random
from collections.abc import Iterator

from tests.support.dc01 import HEADERS, fake_rows

ODD: dict[str, list[str]] = {
    "Số phiếu": ["", "  ", "DC01-00000001", "DC01-00000002", "K\t1", "K\\2", "dup", "dup",
                 "=HYPERLINK(1)"],
    "Họ, chữ đệm và tên khai sinh": ["", "   ", "123", "nguyễn văn a", "NguyÔn V¨n A",
                                     "A" * 120, "Trần  Thị\u00a0Bé", "Lê\tVăn Tám",
                                     "Đỗ\nHoa", "Nguyê\u0303n Văn Bình", "O'Brien Ʉ", "\\x"],
    "Tên gọi khác": ["Tí", "B" * 150, "a\\b"],
    "Ngày, tháng, năm sinh": ["31/02/1990", "00/00/1985", "1985", "19850315", "15/13/1985",
                              "2030-01-01", "45000", "01/01/1990", "5/3/85", "00/07/1970",
                              "2026-12-31", "abc"],
    "Giới tính": ["Nam", "Nữ", "nam ", "M", "X", "nữ"],
    "Số định danh cá nhân": ["001085012345", "1085012345", "079303000123", "999999999999",
                             "12345", "001 085 012 345", "１２３", "1.23457E+11",
                             "101290000001", "001985000001", "0019xx", "001185012345",
                             "001099012345", "031399012345", "024567891", "24567891", "271460000",
                             "024 567 891"],
    "Số CMND": ["123456789", "12345678", "AB123456", "271000001", "0123"],
    "Mã nơi đăng ký khai sinh": ["01", "79", "001", "1", "99", "00667", "x"],
    "Mã quê quán": ["01", "7", "00004"],
    "Dân tộc": ["Kinh", "kinh", "Mường", "XYZ", "H'Mông", "H’Mông"],
    "Tôn giáo": ["Không", "Phật giáo", "??"],
    "Quốc tịch": ["Việt Nam", "VN", "Lào", "??"],
    "Tình trạng hôn nhân": ["Đã kết hôn", "độc thân", "?"],
    "Nhóm máu": ["O", "AB+", "Z"],
    "Nơi thường trú": ["Số 5, \"ngõ\" 3", "x" * 310, "a\r\nb", "back\\slash"],
    "Mã xã nơi thường trú": ["00004", "4", "99999", "0000A", "26740.0", "00667", " 00004 "],
    "Mã xã nơi ở hiện tại": ["00004", "004", ""],
    "Số định danh cá nhân của cha": ["001085012345", "123456789", "abc"],
    "Quan hệ với chủ hộ": ["Chủ hộ", "con", "???"],
    "Số điện thoại": ["0912345678", "912345678", "+84912345678", "84912345678", "abc",
                      "09 1234 5678", "0912345678 ", "1234567890"],
    "Email": ["a@b.vn", "A@B.VN", "nope", "x@y"],
}  # fmt: skip


def messy_rows(n: int, *, seed: int = 7) -> Iterator[list[str]]:
    """`n` DC01 rows, one in three with a few odd cells, some blank, short or too long."""
    rng = random.Random(seed)
    index = {h: i for i, h in enumerate(HEADERS)}
    for row in fake_rows(n, seed=seed):
        roll = rng.random()
        if roll < 0.33:
            for heading in rng.sample(sorted(ODD), rng.randint(1, 4)):
                row[index[heading]] = rng.choice(ODD[heading])
        elif roll < 0.34:
            row = [""] * len(HEADERS)  # a blank row
        elif roll < 0.35:
            row = row[: rng.randint(2, len(HEADERS) - 1)]  # short
        elif roll < 0.36:
            row = [*row, "", rng.choice(["extra", "", "x\ty"])]  # cells beyond the heading
        yield row
