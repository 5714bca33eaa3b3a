"""The DC01 collection form ("Phiếu thu thập thông tin dân cư") as spreadsheet headers.

The box-by-box layout of DC01 (Circular 104/2020/TT-BCA) was not obtained; its content is the
items of article 9 of the 2014 Law on Citizen Identification (domain.md 1.1), so
`DC01_COLUMNS` lists those items, in that order, under the Vietnamese names the law uses. Our
template (`importers.template`) writes exactly these headers.

Commune spreadsheets in practice retype the headers ("Họ và tên", "Ngày sinh", "GT",
"Số CCCD", ...). `HEADER_ALIASES` lists the variants seen; headers are compared by
`header_key`: folded (no case, no diacritics, đ -> d) with punctuation removed.
"""

from __future__ import annotations

import re

from importers.mapping import NAME_FIELDS, FieldSpec, MappingProfile
from popdb.core.text import fold

__all__ = [
    "DC01_COLUMNS",
    "HEADER_ALIASES",
    "HOUSEHOLD_HEAD_ID",
    "HOUSEHOLD_HEAD_NAME",
    "HOUSEHOLD_NUMBER_HEADERS",
    "SOURCE_KEY",
    "UNMAPPED_HEADERS",
    "dc01_profile",
    "header_key",
    "unrecognised",
]

#: Pseudo-field of the form number: it identifies the row in the source, it is not citizen data.
SOURCE_KEY = "source_key"
#: Household head's name and number (law item o): template columns kept in the raw row only,
#: since no canonical field holds them.
HOUSEHOLD_HEAD_NAME = "Họ, chữ đệm và tên chủ hộ"
HOUSEHOLD_HEAD_ID = "Số định danh cá nhân của chủ hộ"
#: The household's number in the commune's household book, when a file has one: no
#: canonical field either (it is not a fact about the citizen); the registry groups rows into
#: households by it (`popdb.registry.households`).
HOUSEHOLD_NUMBER_HEADERS: tuple[str, ...] = (
    "Số hộ", "Mã hộ", "Mã số hộ", "Số hộ khẩu", "Số sổ hộ khẩu", "Mã hộ gia đình", "Số hộ gia đình",
)  # fmt: skip

#: (header as the template writes it, canonical field | SOURCE_KEY | None), in form order.
DC01_COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("Số phiếu", SOURCE_KEY),
    ("Họ, chữ đệm và tên khai sinh", "full_name"),
    ("Tên gọi khác", "other_names"),
    ("Ngày, tháng, năm sinh", "dob"),
    ("Giới tính", "sex"),
    ("Số định danh cá nhân", "personal_id_number"),
    ("Số CMND", "other_id_number"),
    ("Nơi đăng ký khai sinh", "birth_registration_place"),
    ("Mã nơi đăng ký khai sinh", "birth_registration_code"),
    ("Quê quán", "hometown"),
    ("Mã quê quán", "hometown_code"),
    ("Dân tộc", "ethnicity"),
    ("Tôn giáo", "religion"),
    ("Quốc tịch", "nationality"),
    ("Tình trạng hôn nhân", "marital_status"),
    ("Nhóm máu", "blood_group"),
    ("Nơi thường trú", "permanent_address"),
    ("Mã xã nơi thường trú", "permanent_commune_code"),
    ("Nơi ở hiện tại", "current_address"),
    ("Mã xã nơi ở hiện tại", "current_commune_code"),
    ("Họ, chữ đệm và tên cha", "father_name"),
    ("Số định danh cá nhân của cha", "father_id_number"),
    ("Họ, chữ đệm và tên mẹ", "mother_name"),
    ("Số định danh cá nhân của mẹ", "mother_id_number"),
    ("Họ, chữ đệm và tên vợ/chồng", "spouse_name"),
    ("Số định danh cá nhân của vợ/chồng", "spouse_id_number"),
    (HOUSEHOLD_HEAD_NAME, None),
    (HOUSEHOLD_HEAD_ID, None),
    ("Quan hệ với chủ hộ", "household_head_relation"),
    ("Số điện thoại", "phone"),
    ("Email", "email"),
)

#: Header variants seen in commune spreadsheets, per target (canonical field or SOURCE_KEY).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    SOURCE_KEY: ("Mã phiếu", "Số hiệu phiếu"),
    "full_name": (
        "Họ và tên",
        "Họ tên",
        "Họ, tên",
        "HỌ VÀ TÊN",
        "Họ và tên khai sinh",
        "Họ, chữ đệm và tên",
        "Họ tên khai sinh",
    ),
    "other_names": ("Tên khác", "Bí danh"),
    "dob": ("Ngày sinh", "Ngày tháng năm sinh", "Ngày/tháng/năm sinh", "NS", "Năm sinh"),
    "sex": ("GT", "Phái", "Giới"),
    "personal_id_number": (
        "Số ĐDCN",
        "Số định danh",
        "Số CCCD",
        "CCCD",
        "Số căn cước",
        "Số căn cước công dân",
        "ĐDCN",
    ),
    "other_id_number": (
        "CMND",
        "Số CMND 9 số",
        "Số CMND 09 số",
        "Số chứng minh nhân dân",
        "Số CMND cũ",
        "CMND cũ",
    ),
    "birth_registration_place": ("Nơi ĐKKS", "Nơi đăng ký khai sinh"),
    "hometown": ("Nguyên quán",),
    "marital_status": ("Hôn nhân", "TTHN"),
    "permanent_address": (
        "Thường trú",
        "Địa chỉ thường trú",
        "HKTT",
        "Hộ khẩu thường trú",
        "Nơi ĐKTT",
        "Địa chỉ",
    ),
    "current_address": (
        "Chỗ ở hiện nay",
        "Nơi ở hiện nay",
        "Chỗ ở hiện tại",
        "Địa chỉ hiện tại",
        "Nơi ở",
        "Chỗ ở",
    ),
    "father_name": ("Họ tên cha", "Họ tên bố", "Tên cha", "Họ và tên cha", "Tên bố"),
    "mother_name": ("Họ tên mẹ", "Tên mẹ", "Họ và tên mẹ"),
    "spouse_name": ("Họ tên vợ/chồng", "Họ tên vợ, chồng", "Tên vợ/chồng"),
    "household_head_relation": (
        "QH với CH",
        "Quan hệ",
        "Quan hệ với CH",
        "QHCH",
        "QH chủ hộ",
        "Quan hệ chủ hộ",
    ),
    "phone": ("SĐT", "Điện thoại", "Số ĐT", "Di động"),
    "email": ("E-mail", "Thư điện tử"),
}

#: Headers recognised on purpose as *not* a field: "STT" is a row counter, not a key; temporary
#: residence (tạm trú) is not the current residence. They stay in the raw row.
UNMAPPED_HEADERS: tuple[str, ...] = ("STT", "Số TT", "Tạm trú", "Nơi tạm trú")

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def header_key(header: str | None) -> str:
    """How DC01 headers are compared: `fold` (case, diacritics, đ), punctuation and spacing
    dropped, so "Họ, chữ đệm và tên" == "HO CHU DEM VA TEN" and "vợ/chồng" == "vợ chồng"."""
    return " ".join(_NOT_ALNUM.split(fold(header) or "")).strip()


def _lookup() -> tuple[dict[str, str | None], dict[str, str | None]]:
    """header_key -> target, and the same without spaces (for headers run together:
    "HOTEN", "NGAYSINH"), where a key two targets would share is left out. The official
    headers win over aliases, and an alias may not be claimed by two targets (checked here
    so a bad edit fails at import, not in a commune)."""
    table: dict[str, str | None] = {}
    entries: list[tuple[str, str | None]] = [*DC01_COLUMNS]
    entries += [(h, None) for h in (*UNMAPPED_HEADERS, *HOUSEHOLD_NUMBER_HEADERS)]
    entries += [(alias, field) for field, aliases in HEADER_ALIASES.items() for alias in aliases]
    for header, target in entries:
        key = header_key(header)
        if key in table and table[key] != target:
            raise AssertionError(f"DC01 header {header!r} claimed by {table[key]} and {target}")
        table.setdefault(key, target)
    joined: dict[str, str | None] = {}
    shared: set[str] = set()
    for key, target in table.items():
        compact = key.replace(" ", "")
        if compact in joined and joined[compact] != target:
            shared.add(compact)
        joined.setdefault(compact, target)
    return table, {k: v for k, v in joined.items() if k not in shared}


_LOOKUP, _LOOKUP_JOINED = _lookup()


def dc01_field(header: str) -> str | None:
    """The canonical field (or SOURCE_KEY) a DC01-style header stands for, else None."""
    key = header_key(header)
    if key in _LOOKUP:
        return _LOOKUP[key]
    return _LOOKUP_JOINED.get(key.replace(" ", ""))


def unrecognised(header: list[str]) -> list[str]:
    """Headers neither a field nor one of `UNMAPPED_HEADERS`: columns a clerk may think were
    read when they were only kept in the raw row."""
    return [h for h in header if h.strip() and header_key(h) not in _LOOKUP
            and header_key(h).replace(" ", "") not in _LOOKUP_JOINED]  # fmt: skip


def dc01_profile(header: list[str]) -> MappingProfile | None:
    """A profile for the DC01 headers (official or alias) present in this file, or None when
    no name column is recognised (then it is not a DC01 file).

    When two columns stand for the same field ("Họ tên" and "HỌ VÀ TÊN"), the first one wins
    and the second stays unmapped, kept in the raw row. Full names are family-first.
    """
    fields: dict[str, FieldSpec] = {}
    source_key: tuple[str, ...] | None = None
    for h in header:
        target = dc01_field(h)
        if target is None:
            continue
        if target == SOURCE_KEY:
            source_key = source_key or (h,)
        elif target not in fields:
            fields[target] = FieldSpec((h,))
    if not any(f in fields for f in NAME_FIELDS):
        return None
    return MappingProfile(
        fields=fields, source_key=source_key, name="dc01", name_order="family_first"
    )
