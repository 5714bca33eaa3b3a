"""Coded fields of the citizen record: free text in, a QCVN 109 code (or a slug) out.

Pure functions, no I/O (domain.md 0.1, 1.2, 1.5, 1.6, A.1, A.2). Forms and spreadsheets carry
the same value in many spellings ("Khơ-me", "Khmer", "KHO ME"; "Thiên chúa giáo" for Công
giáo; "Mỹ" for Hoa Kỳ), so each field has an alias table. The raw text is always kept by the
caller; a code is only given when the text names exactly one value:

1. text with diacritics is matched on its canonical key (`popdb.core.text.canonical`), with
   spaces, hyphens, apostrophes, dots and brackets ignored ("Ê-đê" = "Ê Đê" = "Êđê");
2. ASCII text ("Muong", "Phat giao") is matched on the folded key (`popdb.core.text.fold`);
   text with diacritics that only matches there is taken with a warning (a wrong tone);
3. when a folded key belongs to two different values ("Ba" = Ba, father, or Bà,
   grandmother) it decides nothing: no code, and a warning naming the candidates.

Each function returns None for a missing value, else a `Coded`: a code, or None with a
warning sentence quoting the raw value, so a clerk sees why nothing was coded.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from popdb.core.text import canonical, clean, fold

__all__ = [
    "ALPHA3_TO_ALPHA2",
    "BLOOD_GROUPS",
    "ETHNICITIES",
    "HOUSEHOLD_RELATIONS",
    "ISO_ALPHA2",
    "MARITAL_STATUSES",
    "RELIGIONS",
    "SEXES",
    "Coded",
    "blood_group",
    "code_name",
    "ethnicity",
    "household_relation",
    "marital_status",
    "nationality",
    "religion",
    "sex",
    "sex_claim",
]


@dataclass(frozen=True)
class Coded:
    """A coded value: `code` is None when the text was not recognised (or is ambiguous);
    `warning` is a sentence naming the raw value whenever the result needs a human look."""

    code: str | int | None
    warning: str | None = None


# --- the alias machinery ------------------------------------------------------------------

C = TypeVar("C", str, int)

#: Characters whose presence or absence does not change a coded value: "Khơ-me" / "Khơ me"
#: / "Khơme", "H'Mông" / "HMông", "Kinh (Việt)".
_IGNORED = re.compile(r"[\s'\-.()]+")


def _exact_key(s: str) -> str:
    return _IGNORED.sub("", canonical(s) or "")


def _folded_key(s: str) -> str:
    return _IGNORED.sub("", fold(s) or "")


@dataclass(frozen=True)
class _Found(Generic[C]):
    """What an alias table says about a text: no code, one code, or several (ambiguous);
    `loose` when the diacritics of the text disagree with the alias that matched."""

    codes: tuple[C, ...]
    loose: bool = False


class _Aliases(Generic[C]):
    """An alias table: canonical keys (must name one code each) and folded keys (may name
    several, which then decide nothing)."""

    def __init__(self, entries: Mapping[C, Iterable[str]], *, prefixes: Iterable[str] = ()) -> None:
        self._exact: dict[str, C] = {}
        self._folded: dict[str, set[C]] = {}
        for code, aliases in entries.items():
            for alias in aliases:
                key = _exact_key(alias)
                other = self._exact.setdefault(key, code)
                if other != code:  # a data error in this module, not in the input
                    raise ValueError(f"alias {alias!r} names both {other!r} and {code!r}")
                self._folded.setdefault(_folded_key(alias), set()).add(code)
        self._prefixes = tuple((canonical(p) or "").split(" ") for p in prefixes)
        self._folded_prefixes = tuple((fold(p) or "").split(" ") for p in prefixes)

    def ambiguous_folded_keys(self) -> dict[str, set[C]]:
        """Folded keys shared by different codes: the ones that must not decide."""
        return {k: v for k, v in self._folded.items() if len(v) > 1}

    def _find_one(self, text: str) -> _Found[C]:
        ascii_only = text.isascii()
        if not ascii_only and (code := self._exact.get(_exact_key(text))) is not None:
            return _Found((code,))
        codes = self._folded.get(_folded_key(text))
        if not codes:
            return _Found(())
        return _Found(tuple(sorted(codes, key=str)), loose=not ascii_only)

    def find(self, text: str) -> _Found[C]:
        """Look `text` (cleaned) up; failing that, without a leading generic word such as
        "dân tộc" or "đạo" ("Dân tộc Kinh", "Đạo Cao Đài")."""
        found = self._find_one(text)
        if found.codes:
            return found
        words = text.split(" ")
        keys = (canonical(text) or "").split(" ")
        folded = (fold(text) or "").split(" ")
        for prefix, folded_prefix in zip(self._prefixes, self._folded_prefixes, strict=True):
            n = len(prefix)
            if len(words) > n and (keys[:n] == prefix or folded[:n] == folded_prefix):
                found = self._find_one(" ".join(words[n:]))
                if found.codes:
                    return found
        return found


def _resolve(
    table: _Aliases[C], raw: str, field: str, describe: Callable[[C], str]
) -> tuple[_Found[C], Coded]:
    """The Coded value for `raw` (cleaned) with the standard warnings."""
    found = table.find(raw)
    if len(found.codes) == 1:
        code = found.codes[0]
        warning = None
        if found.loose:
            warning = (
                f'{field} "{raw}" was read as {describe(code)} although its accents differ; '
                "please check the spelling."
            )
        return found, Coded(code, warning)
    if found.codes:
        options = " or ".join(describe(c) for c in found.codes)
        return found, Coded(
            None,
            f'{field} "{raw}" is ambiguous without its accents: it could be {options}. '
            "It is kept as text without a code.",
        )
    return found, Coded(
        None, f'{field} "{raw}" is not recognised; it is kept as text without a code.'
    )


def _small_int(text: str) -> int | None:
    """The value of a bare 1-2 digit number, else None."""
    return int(text) if re.fullmatch(r"[0-9]{1,2}", text, flags=re.ASCII) else None


# --- sex (QCVN 109: 0 no information, 1 male, 2 female) ----------------------------------------

SEXES: tuple[tuple[int, str], ...] = ((1, "Nam"), (2, "Nữ"), (0, "Không rõ"))

_SEX = _Aliases[int](
    {
        1: ("Nam", "M", "Male", "Man", "Trai", "Con trai", "Đàn ông", "Giới tính nam"),
        2: ("Nữ", "F", "Female", "Woman", "Gái", "Con gái", "Đàn bà", "Giới tính nữ"),
        0: ("Không rõ", "Chưa rõ", "Không xác định", "Unknown"),
    }
)


def sex(text: str | None) -> Coded | None:
    """Sex as its QCVN 109 code (int): 1 Nam, 2 Nữ, 0 no information."""
    raw = clean(text)
    if raw is None:
        return None
    if (n := _small_int(raw)) is not None:
        if n in dict(SEXES):
            return Coded(n)
        return Coded(None, f'Sex "{raw}" is not a code (0 unknown, 1 male, 2 female).')
    return _resolve(_SEX, raw, "Sex", lambda c: f"{dict(SEXES)[c]} ({c})")[1]


def sex_claim(value: object) -> int:
    """Sex as a caller states it in a request (identity claims): the code 0, 1 or 2 (a number
    or its digit), or a word `sex` reads without doubt, "Nam"/"Nữ" in any case, "nu" without
    accents, "male"/"female". ValueError otherwise: a claim is never guessed, so a word whose
    accents disagree with every reading ("Nứ") is refused rather than read loosely. Pure, for
    every parser of identity input (marshmallow or not)."""
    if isinstance(value, bool):
        raise ValueError("sex is 0, 1, 2, or Nam / Nữ")
    if isinstance(value, int):
        if value in dict(SEXES):
            return value
        raise ValueError("sex is 0 (unknown), 1 (Nam, male) or 2 (Nữ, female)")
    if not isinstance(value, str):
        raise ValueError("sex is 0, 1, 2, or Nam / Nữ")
    coded = sex(value)
    if coded is None or coded.code is None or coded.warning is not None:
        raise ValueError("sex is 0 (unknown), 1 (Nam, male) or 2 (Nữ, female)")
    return int(coded.code)


# --- marital status (QCVN 109: 0..3) --------------------------------------------------------

MARITAL_STATUSES: tuple[tuple[int, str], ...] = (
    (1, "Chưa kết hôn"),
    (2, "Đã kết hôn"),
    (3, "Ly hôn hoặc góa"),
    (0, "Không rõ"),
)

_MARITAL = _Aliases[int](
    {
        1: (
            "Chưa kết hôn",
            "Độc thân",
            "Chưa có vợ",
            "Chưa có chồng",
            "Chưa vợ",
            "Chưa chồng",
            "Single",
            "Never married",
        ),
        2: (
            "Đã kết hôn",
            "Kết hôn",
            "Có vợ",
            "Có chồng",
            "Đã có vợ",
            "Đã có chồng",
            "Married",
        ),
        3: (
            "Ly hôn",
            "Đã ly hôn",
            "Ly dị",
            "Đã ly dị",
            "Góa",
            "Góa vợ",
            "Góa chồng",
            "Ly hôn hoặc góa",
            "Divorced",
            "Widowed",
            "Widow",
            "Widower",
        ),
        0: ("Không rõ", "Chưa rõ", "Không xác định", "Unknown"),
    }
)


def marital_status(text: str | None) -> Coded | None:
    """Marital status as its QCVN 109 code (int): 0 no information, 1 never married,
    2 married, 3 divorced or widowed."""
    raw = clean(text)
    if raw is None:
        return None
    if (n := _small_int(raw)) is not None:
        if n in dict(MARITAL_STATUSES):
            return Coded(n)
        return Coded(None, f'Marital status "{raw}" is not a code (0 to 3).')
    return _resolve(
        _MARITAL, raw, "Marital status", lambda c: f"{dict(MARITAL_STATUSES)[c]} ({c})"
    )[1]


# --- ethnicity (QĐ 1019/QĐ-TCTK 2008 = QCVN 109 annex E; domain.md A.1) -----------------------

#: The 54 groups with their 2008 codes (not the 1979 ones of QĐ 121, which differ from 04 on).
ETHNICITIES: tuple[tuple[str, str], ...] = (
    ("01", "Kinh"),
    ("02", "Tày"),
    ("03", "Thái"),
    ("04", "Mường"),
    ("05", "Khơ me"),
    ("06", "Hoa"),
    ("07", "Nùng"),
    ("08", "Mông"),
    ("09", "Dao"),
    ("10", "Gia Rai"),
    ("11", "Ê Đê"),
    ("12", "Ba Na"),
    ("13", "Sán Chay"),
    ("14", "Chăm"),
    ("15", "Cơ Ho"),
    ("16", "Xơ Đăng"),
    ("17", "Sán Dìu"),
    ("18", "Hrê"),
    ("19", "Ra Glai"),
    ("20", "Mnông"),
    ("21", "Thổ"),
    ("22", "Xtiêng"),
    ("23", "Khơ Mú"),
    ("24", "Bru - Vân Kiều"),
    ("25", "Cơ Tu"),
    ("26", "Giáy"),
    ("27", "Tà Ôi"),
    ("28", "Mạ"),
    ("29", "Giẻ - Triêng"),
    ("30", "Co"),
    ("31", "Chơ Ro"),
    ("32", "Xinh Mun"),
    ("33", "Hà Nhì"),
    ("34", "Chu Ru"),
    ("35", "Lào"),
    ("36", "La Chí"),
    ("37", "Kháng"),
    ("38", "Phù Lá"),
    ("39", "La Hủ"),
    ("40", "La Ha"),
    ("41", "Pà Thẻn"),
    ("42", "Lự"),
    ("43", "Ngái"),
    ("44", "Chứt"),
    ("45", "Lô Lô"),
    ("46", "Mảng"),
    ("47", "Cơ Lao"),
    ("48", "Bố Y"),
    ("49", "Cống"),
    ("50", "Si La"),
    ("51", "Pu Péo"),
    ("52", "Rơ Măm"),
    ("53", "Brâu"),
    ("54", "Ơ Đu"),
)

#: System extensions beside the 54 groups (domain.md 1.2 row 9, A.1).
ETHNICITY_FOREIGNER, ETHNICITY_UNKNOWN = "55", "00"

#: Other names and spellings per group: the "tên gọi khác" of the official list, English
#: names, and the variants seen on forms (A.1). Left out on purpose: names shared by several
#: groups ("Thổ" for Tày and Khơ me besides group 21, "Xá", "Trại", "Lao" for La Hủ), which
#: would make an alias decide what only the context can.
# fmt: off
_ETHNICITY_ALIASES: dict[str, tuple[str, ...]] = {
    "01": ("Kinh (Việt)", "Việt", "Người Việt", "Viet", "Vietnamese"),
    "02": ("Ngạn", "Phén", "Thu Lao", "Pa Dí", "Tay"),
    "03": ("Tày Khao", "Tày Đăm", "Tày Mười", "Tày Thanh", "Hàng Tổng", "Pu Thay", "Thai"),
    "04": ("Mol", "Mual", "Muong"),
    "05": ("Khơ me (Khmer)", "Khmer", "Khơ-me", "Khơme", "Khmer Krom", "Khơ me Krôm", "Cur"),
    "06": ("Hoa (Hán)", "Hán", "Người Hoa", "Triều Châu", "Phúc Kiến", "Quảng Đông", "Xạ Phạng"),
    "07": ("Xuồng", "Nùng An", "Phàn Sinh", "Nùng Cháo", "Nùng Lòi", "Khèn Lài", "Nung"),
    "08": ("H'Mông (Mông)", "H'Mông", "HMông", "Hmong", "Mèo", "Mẹo", "Na Miẻo"),
    "09": ("Mán", "Động", "Dìu Miền", "Kim Miền", "Lù Gang", "Làn Tẻn", "Đại Bản", "Tiểu Bản",
           "Cóc Ngáng", "Cóc Mùn", "Sơn Đầu", "Yao"),
    "10": ("Gia-rai", "Giarai", "Jarai", "Jơ Rai", "Hđrung", "Chor"),
    "11": ("Ê-đê", "Êđê", "Ede", "Rhade", "Ra Đê", "Kpạ", "A Đham"),
    "12": ("Ba-na", "Bahnar", "Gơ Lar", "Tơ Lô", "Giơ Lâng", "Rơ Ngao", "Krem", "Roh",
           "Con Kde", "A La Công", "Kpăng Công", "Bơ Nâm"),
    "13": ("Cao Lan", "Sán Chỉ", "Cao Lan - Sán Chỉ", "Hờn Bận", "San Chay"),
    "14": ("Chàm", "Cham", "Chăm Hroi", "Hroi"),
    "15": ("Cơ-ho", "Koho", "K'Ho", "Xrê", "Nốp", "Cơ Don", "Lát", "Tơ Ring"),
    "16": ("Xơ-đăng", "Sedang", "Xơ Teng", "Tơ Đra", "Mơ Nâm", "Ha Lăng", "Ca Dong", "Kmrâng",
           "Bri La"),
    "17": ("Sán Déo", "Trại Đất", "Mán Quần Cộc", "San Diu"),
    "18": ("H're", "Chăm Rê", "Krẹ Lũy", "Hre"),
    "19": ("Ra-glai", "Raglai", "Roglai", "Ra Clây", "La Oang"),
    "20": ("M'Nông", "Mnong", "Pnông", "Bu Đăng", "Biat"),
    "21": ("Kẹo", "Cuối", "Đan Lai", "Ly Hà", "Tày Pọng", "Tho"),
    "22": ("Stiêng", "X'Tiêng", "S'tiêng", "Xa Điêng", "Stieng"),
    "23": ("Khơ-mú", "Khmu", "Kmhmu", "Xá Cẩu", "Mứn Xen", "Pu Thênh", "Tày Hay"),
    "24": ("Bru-Vân Kiều", "Bru Vân Kiều", "Vân Kiều", "Bru", "Măng Coong", "Khùa"),
    "25": ("Cơ-tu", "Katu", "Ka Tu", "Ca Tu"),
    "26": ("Nhắng", "Dẩng", "Pầu Thìn Nu Nà", "Cùi Chu", "Giay"),
    "27": ("Ta-ôi", "Tà-ôi", "Ta Oi", "Pa Cô", "Pa Hi", "Tôi Ôi"),
    "28": ("Châu Mạ", "Mạ Ngăn", "Mạ Xóp", "Mạ Tô", "Mạ Krung"),
    "29": ("Gié - Triêng", "Giẻ Triêng", "Gié Triêng", "Đgiéh", "Ta Reh", "Ve", "La Ve",
           "Bnoong", "Gie Trieng"),
    "30": ("Cor", "Col", "Cùa", "Trầu"),
    "31": ("Chơ-ro", "Chơro", "Dơ Ro", "Châu Ro", "Cho Ro"),
    "32": ("Xinh-mun", "Xinh Mul", "Puộc", "Pụa"),
    "33": ("U Ni", "Xá U Ni", "Hani", "Hà Nhì Già"),
    "34": ("Chu-ru", "Churu", "Chơ Ru"),
    "35": ("Lào Bốc", "Lào Nọi", "Lao"),
    "36": ("Cù Tê", "La Quả"),
    "37": ("Xá Súa", "Xá Dón", "Xá Dẩng", "Xá Hốc", "Xá Bung", "Quảng Lâm"),
    "38": ("Bồ Khô Pạ", "Mú Di", "Pạ Xá", "Va Xơ"),
    "39": ("Lahu", "Pu Đang", "Khù Xung", "Cò Xung", "Khả Quy"),
    "40": ("Khlá Phlạo",),
    "41": ("Pà Hưng", "Pa Then"),
    "42": ("Lừ", "Nhuồn", "Duồn"),
    "43": ("Khách Gia", "Sán Ngải", "Xín", "Ngai"),
    "44": ("Rục", "Sách", "Mày", "Mã Liềng", "Arem"),
    "45": ("Lolo", "Mun Di"),
    "46": ("Mảng Ư", "Mang"),
    "47": ("Cờ Lao", "Co Lao", "Gelao"),
    "48": ("Chủng Chá", "Trọng Gia", "Tu Dí", "Tu Din", "Bouyei"),
    "49": ("Xắm Khống", "Mấng Nhé", "Xá Xeng", "Cong"),
    "50": ("Cù Dề Xừ", "Khả Pẻ"),
    "51": ("Ka Pèo", "Pen Ti Lô Lô", "Pu Peo"),
    "52": ("Rơ-măm", "Romam", "Ro Mam"),
    "53": ("Brao", "Brau"),
    "54": ("Tày Hạt", "O Du"),
    ETHNICITY_FOREIGNER: ("Người nước ngoài", "Nước ngoài", "Ngoại kiều", "Foreigner", "Foreign"),
    ETHNICITY_UNKNOWN: ("Không rõ", "Chưa rõ", "Không xác định", "Unknown"),
}
# fmt: on

_ETHNICITY_NAMES = {
    **dict(ETHNICITIES),
    ETHNICITY_FOREIGNER: "Người nước ngoài",
    ETHNICITY_UNKNOWN: "Không rõ",
}
_ETHNICITY = _Aliases[str](
    {code: (name, *_ETHNICITY_ALIASES.get(code, ())) for code, name in _ETHNICITY_NAMES.items()},
    prefixes=("dân tộc", "DT", "người"),
)


def ethnicity(text: str | None) -> Coded | None:
    """Ethnicity as its 2-digit code of the 2008 list (QCVN 109 annex E), "55" for a
    foreigner, "00" for unknown. A bare number ("04", "4") is read as a 2008 code: files
    exported with 1979 codes must be mapped by their importer, not guessed here."""
    raw = clean(text)
    if raw is None:
        return None
    if (n := _small_int(raw)) is not None:
        code = f"{n:02d}"
        if code in _ETHNICITY_NAMES:
            return Coded(code)
        return Coded(None, f'Ethnicity "{raw}" is not a code of the 2008 list (01 to 54).')
    return _resolve(_ETHNICITY, raw, "Ethnicity", lambda c: f"{_ETHNICITY_NAMES[c]} ({c})")[1]


# --- religion (QCVN 109 annex G; domain.md 1.6, A.2) -----------------------------------------

RELIGIONS: tuple[tuple[str, str], ...] = (
    ("00", "Không"),
    ("01", "Phật giáo"),
    ("02", "Công giáo"),
    ("03", "Phật giáo Hòa Hảo"),
    ("04", "Hồi giáo"),
    ("05", "Cao Đài"),
    ("06", "Minh Sư đạo"),
    ("07", "Minh Lý đạo"),
    ("08", "Tin Lành"),
    ("09", "Tịnh độ cư sĩ Phật hội Việt Nam"),
    ("10", "Đạo Tứ Ấn hiếu nghĩa"),
    ("11", "Bửu Sơn Kỳ Hương"),
    ("12", "Đạo Ba Ha'i"),
    ("13", "Bà La Môn"),
    ("14", "Mặc Môn"),
)

#: Internal keys (never returned) for values that are recognised but have no code: religions
#: recognised after the 14-code list was made (A.2), and "other"/"unknown".
_UNCODED_RELIGIONS = {
    "?adventist": "Cơ đốc Phục lâm",
    "?ta_lon": "Phật giáo Hiếu Nghĩa Tà Lơn",
    "?other": "Khác",
    "?unknown": "Không rõ",
}

# fmt: off
_RELIGION = _Aliases[str](
    {
        "00": ("Không", "Không có", "Không tôn giáo", "Không theo tôn giáo", "Không theo đạo",
               "Không đạo", "Không TG", "KTG", "None", "No religion", "Atheist"),
        "01": ("Phật giáo", "Đạo Phật", "Phật", "Buddhism", "Buddhist"),
        "02": ("Công giáo", "Thiên Chúa giáo", "Đạo Thiên Chúa", "Thiên Chúa", "Đạo Công giáo",
               "Công giáo La Mã", "Catholic", "Catholicism", "Roman Catholic"),
        "03": ("Phật giáo Hòa Hảo", "Hòa Hảo", "Đạo Hòa Hảo", "PGHH", "Hoa Hao Buddhism"),
        "04": ("Hồi giáo", "Đạo Hồi", "Hồi", "Islam", "Muslim"),
        "05": ("Cao Đài", "Đạo Cao Đài", "Cao Đài giáo", "Caodaism"),
        "06": ("Minh Sư đạo", "Minh Su Dao"),
        "07": ("Minh Lý đạo", "Minh Lý Đạo - Tam Tông Miếu", "Tam Tông Miếu", "Minh Ly Dao"),
        "08": ("Tin Lành", "Đạo Tin Lành", "Protestant", "Protestantism", "Evangelical"),
        "09": ("Tịnh độ cư sĩ Phật hội Việt Nam", "Tịnh độ cư sĩ Phật hội", "Tịnh độ cư sĩ"),
        "10": ("Đạo Tứ Ấn hiếu nghĩa", "Tứ Ấn hiếu nghĩa", "Tứ Ân Hiếu Nghĩa",
               "Đạo Tứ Ân Hiếu Nghĩa"),
        "11": ("Bửu Sơn Kỳ Hương", "Đạo Bửu Sơn Kỳ Hương"),
        "12": ("Đạo Ba Ha'i", "Ba Ha'i", "Baha'i", "Bahá'í", "Bahai", "Đạo Baha'i"),
        "13": ("Bà La Môn", "Bà-la-môn", "Bà La Môn giáo", "Chăm Bà La Môn", "Brahmanism"),
        "14": ("Mặc Môn", "Mormon", "Giáo hội các Thánh hữu Ngày sau của Chúa Giê-su Ky-tô",
               "Các Thánh hữu Ngày sau", "Latter-day Saints", "LDS"),
        "?adventist": ("Cơ đốc Phục lâm", "Phục lâm", "Cơ đốc Phục lâm An thất nhật",
                       "Adventist", "Seventh-day Adventist"),
        "?ta_lon": ("Phật giáo Hiếu Nghĩa Tà Lơn", "Hiếu Nghĩa Tà Lơn"),
        "?other": ("Khác", "Tôn giáo khác", "Other"),
        "?unknown": ("Không rõ", "Chưa rõ", "Không xác định", "Unknown"),
    },
    prefixes=("tôn giáo", "TG", "đạo"),
)
# fmt: on
_RELIGION_NAMES = {**dict(RELIGIONS), **_UNCODED_RELIGIONS}


def religion(text: str | None) -> Coded | None:
    """Religion as its code: "00" none ("Không", the majority answer), "01".."14" as in A.2.
    A recognised religion without a code, "other" and "unknown" get no code and a warning
    saying the text is kept: the 14-code list predates several recognised religions."""
    raw = clean(text)
    if raw is None:
        return None
    if (n := _small_int(raw)) is not None:
        code = f"{n:02d}"
        if code in dict(RELIGIONS):
            return Coded(code)
        return Coded(None, f'Religion "{raw}" is not a code of the list (00 to 14); kept as text.')
    _, coded = _resolve(_RELIGION, raw, "Religion", lambda c: f"{_RELIGION_NAMES[c]} ({c})")
    if coded.code == "?other":
        why = "names no particular religion"
    elif coded.code == "?unknown":
        why = "says the religion is unknown"
    elif isinstance(coded.code, str) and coded.code.startswith("?"):
        name = _UNCODED_RELIGIONS[coded.code]
        why = "is a recognised religion that has no code in the QCVN 109 list"
        if _exact_key(name) != _exact_key(raw):
            why = f"({name}) {why}"
    else:
        return coded
    return Coded(None, f'Religion "{raw}" {why}; it is kept as text without a code.')


# --- blood group (QCVN 109: 00 no information, 01 A, 02 B, 03 AB, 04 O) -----------------------

BLOOD_GROUPS: tuple[tuple[str, str], ...] = (
    ("01", "A"),
    ("02", "B"),
    ("03", "AB"),
    ("04", "O"),
    ("00", "Không rõ"),
)

_BLOOD_LETTERS = {"a": "01", "b": "02", "ab": "03", "o": "04"}
_BLOOD_UNKNOWN = _Aliases[str](
    {"00": ("Không rõ", "Chưa rõ", "Chưa xác định", "Không xác định", "Unknown")}
)
_BLOOD = re.compile(
    r"(?:(?:nhóm máu|nhom mau|nhóm|nhom|máu|mau|blood group|blood type|group|type)\s*)?"
    r"(ab|a|b|o|0)"
    r"\s*(?P<rh>(?:rh\s*d?\s*)?(?:\+|-|\(\+\)|\(-\)|dương tính|duong tinh|âm tính|am tinh|"
    r"dương|duong|âm|am|positive|negative|pos|neg)|rh\s*d?)?",
)


def blood_group(text: str | None) -> Coded | None:
    """Blood group as its QCVN 109 code. A bare "00".."04" is the code itself. An Rh factor
    ("A+", "O Rh-") keeps the group with a warning: QCVN 109 has no field for it. A lone
    digit "0" is refused: it could be group O or the code for "no information"."""
    raw = clean(text)
    if raw is None:
        return None
    codes = dict(BLOOD_GROUPS)
    if re.fullmatch(r"[0-9]{2}", raw, flags=re.ASCII):
        if raw in codes:
            return Coded(raw)
        return Coded(None, f'Blood group "{raw}" is not a code (00 to 04); kept as text.')
    if raw == "0":
        return Coded(
            None,
            f'Blood group "{raw}" is ambiguous: it could be group O or the code 0 for '
            '"no information". Write the letter O for group O.',
        )
    key = canonical(raw) or ""
    m = _BLOOD.fullmatch(key)
    if m is None:
        return _resolve(_BLOOD_UNKNOWN, raw, "Blood group", lambda c: f"{codes[c]} ({c})")[1]
    letters = m.group(1)
    if letters == "0" and not m.group("rh"):
        return Coded(
            None,
            f'Blood group "{raw}" has the digit 0 where the letter O is expected; it is kept '
            "as text without a code.",
        )
    code = _BLOOD_LETTERS["o" if letters == "0" else letters]
    if m.group("rh"):
        return Coded(
            code,
            f'Blood group "{raw}" was recorded as {codes[code]}; the Rh factor is not '
            "recorded (QCVN 109 has no field for it).",
        )
    return Coded(code)


# --- nationality (ISO 3166-1 alpha-2, QCVN 109 annex H) ---------------------------------------

_ALPHA2_TABLE = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ
    BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ
    DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET
    FI FJ FK FM FO FR
    GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY
    HK HM HN HR HT HU
    ID IE IL IM IN IO IQ IR IS IT
    JE JM JO JP
    KE KG KH KI KM KN KP KR KW KY KZ
    LA LB LC LI LK LR LS LT LU LV LY
    MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ
    NA NC NE NF NG NI NL NO NP NR NU NZ
    OM
    PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA
    RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ
    TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ
    UA UG UM US UY UZ
    VA VC VE VG VI VN VU
    WF WS
    YE YT
    ZA ZM ZW
"""
#: All 249 officially assigned ISO 3166-1 alpha-2 codes.
ISO_ALPHA2: frozenset[str] = frozenset(_ALPHA2_TABLE.split())

#: Alpha-3 codes of the countries most often met in Vietnamese records and all of ASEAN.
#: NGA (Nigeria) is left out on purpose: "NGA" on a Vietnamese form means Nga, Russia.
ALPHA3_TO_ALPHA2: Mapping[str, str] = {
    # ASEAN
    "VNM": "VN", "LAO": "LA", "KHM": "KH", "THA": "TH", "MMR": "MM", "MYS": "MY",
    "SGP": "SG", "IDN": "ID", "PHL": "PH", "BRN": "BN", "TLS": "TL",
    # East Asia
    "CHN": "CN", "TWN": "TW", "HKG": "HK", "MAC": "MO", "KOR": "KR", "PRK": "KP",
    "JPN": "JP", "MNG": "MN",
    # South and Central Asia, Middle East
    "IND": "IN", "PAK": "PK", "BGD": "BD", "NPL": "NP", "LKA": "LK", "KAZ": "KZ",
    "TUR": "TR", "ISR": "IL", "SAU": "SA", "ARE": "AE", "QAT": "QA", "KWT": "KW",
    # Europe
    "GBR": "GB", "FRA": "FR", "DEU": "DE", "ITA": "IT", "ESP": "ES", "PRT": "PT",
    "NLD": "NL", "BEL": "BE", "CHE": "CH", "AUT": "AT", "SWE": "SE", "NOR": "NO",
    "DNK": "DK", "FIN": "FI", "IRL": "IE", "POL": "PL", "CZE": "CZ", "SVK": "SK",
    "HUN": "HU", "ROU": "RO", "BGR": "BG", "GRC": "GR", "RUS": "RU", "UKR": "UA",
    "BLR": "BY",
    # Americas, Oceania, Africa
    "USA": "US", "CAN": "CA", "MEX": "MX", "CUB": "CU", "BRA": "BR", "ARG": "AR",
    "CHL": "CL", "AUS": "AU", "NZL": "NZ", "ZAF": "ZA", "EGY": "EG",
}  # fmt: skip

#: Vietnamese names first (the first one is used in messages), then English ones.
# fmt: off
_COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    "VN": ("Việt Nam", "Viet Nam", "Vietnam", "Vietnamese", "Cộng hòa xã hội chủ nghĩa Việt Nam",
           "CHXHCN Việt Nam", "Socialist Republic of Viet Nam"),
    "LA": ("Lào", "Cộng hòa Dân chủ Nhân dân Lào", "Laos", "Lao PDR", "Laotian"),
    "KH": ("Campuchia", "Cam-pu-chia", "Căm-pu-chia", "Cao Miên", "Cambodia", "Cambodian",
           "Kampuchea"),
    "TH": ("Thái Lan", "Thailand", "Thai"),
    "MM": ("Myanmar", "Mi-an-ma", "Miến Điện", "Burma"),
    "MY": ("Malaysia", "Ma-lai-xi-a", "Mã Lai", "Malaysian"),
    "SG": ("Singapore", "Xin-ga-po", "Tân Gia Ba", "Singaporean"),
    "ID": ("Indonesia", "In-đô-nê-xi-a", "Nam Dương", "Indonesian"),
    "PH": ("Philippines", "Phi-líp-pin", "Philippin", "Filipino"),
    "BN": ("Brunei", "Bru-nây", "Brunei Darussalam"),
    "TL": ("Đông Timor", "Timor-Leste", "Ti-mo Lét-xtê", "East Timor"),
    "CN": ("Trung Quốc", "Trung Hoa", "China", "Chinese", "People's Republic of China"),
    "TW": ("Đài Loan", "Taiwan", "Taiwanese"),
    "HK": ("Hồng Kông", "Hương Cảng", "Hong Kong"),
    "MO": ("Ma Cao", "Macau", "Macao"),
    "KR": ("Hàn Quốc", "Đại Hàn", "Nam Hàn", "South Korea", "Republic of Korea", "Korean"),
    "KP": ("Triều Tiên", "Bắc Triều Tiên", "Bắc Hàn", "North Korea"),
    "JP": ("Nhật Bản", "Nhật", "Japan", "Japanese"),
    "MN": ("Mông Cổ", "Mongolia"),
    "IN": ("Ấn Độ", "India", "Indian"),
    "PK": ("Pakistan", "Pa-ki-xtan"),
    "BD": ("Bangladesh", "Băng-la-đét"),
    "NP": ("Nepal", "Nê-pan"),
    "LK": ("Sri Lanka", "Xri Lan-ca"),
    "KZ": ("Kazakhstan", "Ca-dắc-xtan"),
    "TR": ("Thổ Nhĩ Kỳ", "Turkey", "Türkiye"),
    "IL": ("Israel", "I-xra-en"),
    "SA": ("Ả Rập Xê Út", "Saudi Arabia"),
    "AE": ("Các Tiểu vương quốc Ả Rập Thống nhất", "United Arab Emirates", "UAE"),
    "QA": ("Qatar", "Ca-ta"),
    "KW": ("Kuwait", "Cô-oét"),
    "GB": ("Anh", "Vương quốc Anh", "Liên hiệp Anh", "United Kingdom", "UK", "Great Britain",
           "England", "British"),
    "FR": ("Pháp", "France", "French"),
    "DE": ("Đức", "Germany", "German"),
    "IT": ("Ý", "I-ta-li-a", "Italia", "Italy", "Italian"),
    "ES": ("Tây Ban Nha", "Spain", "Spanish"),
    "PT": ("Bồ Đào Nha", "Portugal"),
    "NL": ("Hà Lan", "Netherlands", "Holland", "Dutch"),
    "BE": ("Bỉ", "Belgium"),
    "CH": ("Thụy Sĩ", "Switzerland"),
    "AT": ("Áo", "Austria"),
    "SE": ("Thụy Điển", "Sweden"),
    "NO": ("Na Uy", "Norway"),
    "DK": ("Đan Mạch", "Denmark"),
    "FI": ("Phần Lan", "Finland"),
    "IE": ("Ai-len", "Ireland"),
    "PL": ("Ba Lan", "Poland"),
    "CZ": ("Séc", "Cộng hòa Séc", "Czech Republic", "Czechia"),
    "SK": ("Slovakia", "Xlô-va-ki-a"),
    "HU": ("Hungary", "Hung-ga-ri"),
    "RO": ("Romania", "Ru-ma-ni"),
    "BG": ("Bulgaria", "Bun-ga-ri"),
    "GR": ("Hy Lạp", "Greece"),
    "RU": ("Nga", "Liên bang Nga", "Russia", "Russian Federation", "Russian"),
    "UA": ("Ukraina", "U-crai-na", "Ukraine"),
    "BY": ("Belarus", "Bê-la-rút"),
    "US": ("Hoa Kỳ", "Mỹ", "Hợp chủng quốc Hoa Kỳ", "USA", "United States",
           "United States of America", "America", "American"),
    "CA": ("Canada", "Ca-na-đa", "Canadian"),
    "MX": ("Mexico", "Mê-hi-cô"),
    "CU": ("Cuba", "Cu Ba"),
    "BR": ("Brazil", "Bra-xin"),
    "AR": ("Argentina", "Ác-hen-ti-na"),
    "CL": ("Chile", "Chi-lê"),
    "AU": ("Úc", "Ô-xtrây-li-a", "Australia", "Australian"),
    "NZ": ("New Zealand", "Niu Di-lân"),
    "ZA": ("Nam Phi", "South Africa"),
    "EG": ("Ai Cập", "Egypt"),
    "?stateless": ("Không quốc tịch", "Stateless"),
}
# fmt: on

_NATIONALITY = _Aliases[str](_COUNTRY_NAMES, prefixes=("quốc tịch", "nước"))


def _country(code: str) -> str:
    names = _COUNTRY_NAMES.get(code)
    return f"{names[0]} ({code})" if names else f"the country with ISO code {code}"


def nationality(text: str | None) -> Coded | None:
    """Nationality as an ISO 3166-1 alpha-2 code (upper case). Accepts the code itself, the
    alpha-3 codes of ALPHA3_TO_ALPHA2, and Vietnamese or English names. Two or three letters
    in upper case are read as a code ("MY" = Malaysia); in lower or mixed case they are not
    trusted when they are also a country name without accents ("my": Mỹ or Malaysia?)."""
    raw = clean(text)
    if raw is None:
        return None
    by_code: str | None = None
    if re.fullmatch(r"[A-Za-z]{2,3}", raw):
        upper = raw.upper()
        by_code = upper if upper in ISO_ALPHA2 else ALPHA3_TO_ALPHA2.get(upper)
    found, coded = _resolve(_NATIONALITY, raw, "Nationality", _country)
    if by_code is not None:
        if raw.isupper() or not found.codes or found.codes == (by_code,):
            return Coded(by_code)
        options = " or ".join(_country(c) for c in sorted({by_code, *found.codes}))
        return Coded(
            None,
            f'Nationality "{raw}" is ambiguous: it could be {options}. It is kept as text '
            "without a code.",
        )
    if coded.code == "?stateless":
        return Coded(
            None, f'Nationality "{raw}" means stateless, which has no country code; kept as text.'
        )
    return coded


# --- relationship to the household head (no official list; domain.md 1.2 row 22) -------------

HOUSEHOLD_RELATIONS: tuple[tuple[str, str], ...] = (
    ("head", "Chủ hộ"),
    ("wife", "Vợ"),
    ("husband", "Chồng"),
    ("child", "Con"),
    ("adopted_child", "Con nuôi"),
    ("stepchild", "Con riêng"),
    ("daughter_in_law", "Con dâu"),
    ("son_in_law", "Con rể"),
    ("father", "Cha"),
    ("mother", "Mẹ"),
    ("parent_in_law", "Bố mẹ vợ/chồng"),
    ("grandfather", "Ông"),
    ("grandmother", "Bà"),
    ("grandchild", "Cháu nội/ngoại"),
    ("nephew_niece", "Cháu ruột"),
    ("grandchild_or_nephew_niece", "Cháu"),
    ("sibling", "Anh/Chị/Em"),
    ("sibling_in_law", "Anh/Chị/Em dâu, rể"),
    ("uncle_aunt", "Cô/Dì/Chú/Bác/Cậu/Mợ/Thím"),
    ("lodger", "Người ở nhờ"),
    ("domestic_worker", "Người giúp việc"),
    ("other", "Khác"),
)

# fmt: off
_HOUSEHOLD = _Aliases[str](
    {
        "head": ("Chủ hộ", "Chủ hộ gia đình", "Là chủ hộ", "CH", "Head", "Household head"),
        "wife": ("Vợ", "Wife"),
        "husband": ("Chồng", "Husband"),
        "child": ("Con", "Con đẻ", "Con ruột", "Con trai", "Con gái", "Child", "Son", "Daughter"),
        "adopted_child": ("Con nuôi", "Adopted child"),
        "stepchild": ("Con riêng", "Con riêng của vợ", "Con riêng của chồng", "Con chồng",
                      "Con vợ", "Stepchild"),
        "daughter_in_law": ("Con dâu", "Daughter-in-law"),
        "son_in_law": ("Con rể", "Son-in-law"),
        "father": ("Cha", "Bố", "Ba", "Tía", "Cha đẻ", "Bố đẻ", "Cha ruột", "Bố ruột", "Father"),
        "mother": ("Mẹ", "Má", "Mẹ đẻ", "Mẹ ruột", "Mother"),
        "parent_in_law": ("Bố mẹ vợ/chồng", "Bố vợ", "Bố chồng", "Cha vợ", "Cha chồng", "Mẹ vợ",
                          "Mẹ chồng", "Father-in-law", "Mother-in-law"),
        "grandfather": ("Ông", "Ông nội", "Ông ngoại", "Grandfather"),
        "grandmother": ("Bà", "Bà nội", "Bà ngoại", "Grandmother"),
        "grandchild": ("Cháu nội/ngoại", "Cháu nội", "Cháu ngoại", "Grandchild", "Grandson",
                       "Granddaughter"),
        "nephew_niece": ("Cháu ruột", "Nephew", "Niece"),
        "grandchild_or_nephew_niece": ("Cháu",),
        "sibling": ("Anh/Chị/Em", "Anh", "Chị", "Em", "Anh ruột", "Chị ruột", "Em ruột",
                    "Anh trai", "Chị gái", "Em trai", "Em gái", "Sibling", "Brother", "Sister"),
        "sibling_in_law": ("Anh/Chị/Em dâu, rể", "Anh rể", "Chị dâu", "Em dâu", "Em rể",
                           "Brother-in-law", "Sister-in-law"),
        "uncle_aunt": ("Cô/Dì/Chú/Bác/Cậu/Mợ/Thím", "Cô", "Dì", "Chú", "Bác", "Cậu", "Mợ",
                       "Thím", "Dượng", "Uncle", "Aunt"),
        "lodger": ("Người ở nhờ", "Ở nhờ", "Người ở cùng", "Lodger"),
        "domestic_worker": ("Người giúp việc", "Giúp việc", "Người làm", "Domestic worker"),
        "other": ("Khác", "Quan hệ khác", "Other"),
    }
)
# fmt: on
_HOUSEHOLD_LABELS = dict(HOUSEHOLD_RELATIONS)


def household_relation(text: str | None) -> Coded | None:
    """Relationship to the household head as a slug of HOUSEHOLD_RELATIONS. There is no
    official code list (domain.md 1.2 row 22), so the slug is popdb's own normalisation and
    the raw text stays the record."""
    raw = clean(text)
    if raw is None:
        return None
    return _resolve(
        _HOUSEHOLD,
        raw,
        "Relationship to the household head",
        lambda c: f"{_HOUSEHOLD_LABELS[c]} ({c})",
    )[1]


# --- names of stored codes, for people to read ----------------------------------------------

_NAMES: dict[str, dict[Any, str]] = {
    "sex": dict(SEXES),
    "marital_status": dict(MARITAL_STATUSES),
    "ethnicity_code": _ETHNICITY_NAMES,
    "religion_code": dict(RELIGIONS),
    "blood_group": dict(BLOOD_GROUPS),
}


def code_name(field: str, code: object) -> str | None:
    """The Vietnamese name of a stored code ("04" of `ethnicity_code` -> "Mường", 2 of `sex`
    -> "Nữ"); None when the field has no code table or the code is not in it."""
    table = _NAMES.get(field)
    if table is None or code is None:
        return None
    return table.get(code)

