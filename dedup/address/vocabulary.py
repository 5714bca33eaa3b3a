"""The words of Vietnamese addresses: unit and place types, abbreviations, house-number words,
and the patterns that decide where a component splits."""

from __future__ import annotations

import re

from popdb.core.text import fold

#: Between the components of a key ("12 ngõ 5 phố huế, phường ba đình, hà nội").
SEPARATOR = ", "


PROVINCE_TYPES = frozenset({"tỉnh", "thành phố"})
DISTRICT_TYPES = frozenset({"quận", "huyện", "thị xã", "thành phố"})
COMMUNE_TYPES = frozenset({"phường", "xã", "thị trấn", "đặc khu"})
ADMIN_TYPES = PROVINCE_TYPES | DISTRICT_TYPES | COMMUNE_TYPES
#: Below the commune: residential groups, hamlets, estates, streets and lanes, house numbers.
PLACE_TYPES = frozenset(
    {
        "tổ dân phố", "tổ", "khu phố", "khu đô thị", "khu dân cư", "khu công nghiệp",
        "khu tập thể", "khu", "ấp", "thôn", "xóm", "bản", "buôn", "làng", "khóm", "đội",
        "cụm", "ngõ", "ngách", "hẻm", "kiệt", "đường", "phố", "lô", "chung cư", "tòa nhà",
        "tòa", "số", "số nhà", "nhà số",
    }
)  # fmt: skip
#: Admin unit types typed without diacritics. They are also ordinary syllables ("Phuong Mai"
#: is Phường Phương Mai), so they count as a type only before a number or a 2+ word name.
ASCII_ADMIN = {fold(t) or t: t for t in ADMIN_TYPES}
#: Multi-word type phrases, longest first, as word tuples; ASCII forms are kept as typed.
_PHRASES: tuple[tuple[str, ...], ...] = tuple(
    sorted(
        {tuple(p.split(" ")) for p in (*ADMIN_TYPES, *PLACE_TYPES, *ASCII_ADMIN) if " " in p}
        | {("to", "dan", "pho"), ("khu", "pho"), ("khu", "do", "thi"), ("so", "nha")},
        key=len,
        reverse=True,
    )
)
#: First word -> the phrases it starts, longest first.
PHRASES_BY_FIRST: dict[str, tuple[tuple[str, ...], ...]] = {
    first: tuple(p for p in _PHRASES if p[0] == first) for first in {p[0] for p in _PHRASES}
}
_PHRASE_WORDS = frozenset(w for p in _PHRASES for w in p)
_ASCII_PLACE = frozenset({"to dan pho", "khu pho", "khu do thi", "so nha"})
#: Every word of a type phrase ("thành", "phố", "xã", ...).
TYPE_WORDS = frozenset(w for t in ADMIN_TYPES | PLACE_TYPES for w in t.split(" "))
#: Everything after which a bare number names a unit rather than a house: leading zeros go.
NUMBERED = ADMIN_TYPES | PLACE_TYPES | set(ASCII_ADMIN) | _ASCII_PLACE | {"to", "ap", "thon"}

#: Abbreviations expanded wherever they stand as a word (a dot after them is eaten).
ALWAYS = {
    "tp": "thành phố", "tx": "thị xã", "tt": "thị trấn", "kp": "khu phố",
    "kđt": "khu đô thị", "kdt": "khu đô thị", "tdp": "tổ dân phố", "tđp": "tổ dân phố",
    "kdc": "khu dân cư", "kcn": "khu công nghiệp", "ktt": "khu tập thể",
}  # fmt: skip
#: Words that name a numbered unit only before a number: "ward 15", "phuong 015", "F15".
BEFORE_NUMBER = {
    "f": "phường", "phuong": "phường", "ward": "phường",
    "quan": "quận", "district": "quận", "dist": "quận",
}  # fmt: skip
#: Filler before a house number: "Số 12", "số nhà 12", "SN 12".
HOUSE_NUMBER_WORDS = frozenset({"số", "số nhà", "nhà số", "sn", "so", "so nha"})
HOUSE_NUMBER_STARTS = frozenset(w.split(" ")[0] for w in HOUSE_NUMBER_WORDS)
#: Letters glued to a number that are unit abbreviations: P15, F15, Q11, KP3.
GLUED = re.compile(r"(p|f|q|kp|tdp|tđp|phường|quận|phuong|quan|tổ|ấp)(\d+)")
#: Whether a piece may hold a token for `_split_tokens`: a dash, or letters glued to digits.
MAY_SPLIT = re.compile(r"-|[^\W\d_]\d")
ABBREVIATIONS = frozenset(ALWAYS) | frozenset(BEFORE_NUMBER) | {"p", "q", "h", "x", "đ", "d", "t"}
#: Tokens `_expand` must look at; every other word is copied as it is.
SPECIAL = ABBREVIATIONS | _PHRASE_WORDS | ADMIN_TYPES | {",", ";", "-", "."}
TOKEN = re.compile(r"\d+(?:\.\d+)+|[^\W_]+(?:['/\-][^\W_]+)*|[.,;\-]")
TP_DOTTED = re.compile(r"(?<!\w)t\s*\.\s*p(?!\w)")
BREAKS = frozenset({",", ";", "-"})
#: Before these a single letter is a room, block or plot name, never a unit abbreviation.
ROOM_WORDS = frozenset({"phòng", "tầng", "lô", "căn", "căn hộ", "tòa", "tòa nhà", "block",
                         "nhà", "khu", "dãy", "ô", "ki-ốt", "kiốt", "kios"})  # fmt: skip
#: Words that, glued after a dash, start the next component: "Phường 15-Quận Tân Bình".
DASH_STARTS = frozenset({"phường", "quận", "huyện", "xã", "tỉnh", "thành", "thị", "tp", "tx",
                          "tt", "p", "q", "h", "x", "f"})  # fmt: skip
PUNCTUATION = BREAKS | {"."}
COUNTRY = frozenset({"việt nam", "viet nam", "vietnam", "vn", "cộng hòa xã hội chủ nghĩa việt nam"})

#: Province aliases -> the key form of the province (its name without "tỉnh"/"thành phố").
PROVINCE_ALIASES = {
    "hcm": "hồ chí minh", "tphcm": "hồ chí minh", "hcmc": "hồ chí minh",
    "sài gòn": "hồ chí minh", "saigon": "hồ chí minh", "sg": "hồ chí minh",
    "hn": "hà nội", "hanoi": "hà nội",
    "thừa thiên huế": "huế", "thừa thiên-huế": "huế", "tth": "huế",
    "bà rịa vũng tàu": "bà rịa-vũng tàu", "brvt": "bà rịa-vũng tàu", "br-vt": "bà rịa-vũng tàu",
    "đăk lăk": "đắk lắk", "đắk lăk": "đắk lắk", "đăk lắk": "đắk lắk", "đắc lắc": "đắk lắk",
    "đắc lắk": "đắk lắk", "đăk nông": "đắk nông", "đắc nông": "đắk nông",
}  # fmt: skip
ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5", "vi": "6", "vii": "7",
          "viii": "8", "ix": "9", "x": "10"}  # fmt: skip


def is_number(token: str) -> bool:
    return token.isascii() and token.isdigit()
