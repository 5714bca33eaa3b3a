"""Coded fields of the citizen record: free text in, a QCVN 109 code (or a slug) out.

Pure functions; the lists are read once, at import (domain.md 0.1, 1.2, 1.5, 1.6, A.1, A.2).
Forms and spreadsheets carry the same value in many spellings ("Khơ-me", "Khmer", "KHO ME";
"Thiên chúa giáo" for Công giáo; "Mỹ" for Hoa Kỳ), so each field has an alias table, kept as
package data in `popdb/data/codes/` (one JSON file per list, each saying where its codes
come from). The raw text is always kept by
the caller; a code is only given when the text names exactly one value:

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

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
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


def _list(name: str) -> dict[str, Any]:
    """One code list of `popdb/data/codes/`."""
    text = (files("popdb") / "data" / "codes" / f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


def _pairs(rows: list[list[Any]]) -> tuple[tuple[Any, str], ...]:
    return tuple((code, label) for code, label in rows)


def _aliases(data: dict[str, Any], key: Callable[[str], C]) -> _Aliases[C]:
    entries = {key(code): tuple(names) for code, names in data["aliases"].items()}
    return _Aliases[C](entries, prefixes=data.get("prefixes", ()))


# --- sex (QCVN 109: 0 no information, 1 male, 2 female) ----------------------------------------

_SEX_LIST = _list("sex")
SEXES: tuple[tuple[int, str], ...] = _pairs(_SEX_LIST["codes"])
_SEX = _aliases(_SEX_LIST, int)


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

_MARITAL_LIST = _list("marital_status")
MARITAL_STATUSES: tuple[tuple[int, str], ...] = _pairs(_MARITAL_LIST["codes"])
_MARITAL = _aliases(_MARITAL_LIST, int)


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

_ETHNICITY_LIST = _list("ethnicity")
#: The 54 groups with their 2008 codes (not the 1979 ones of QĐ 121, which differ from 04 on).
ETHNICITIES: tuple[tuple[str, str], ...] = _pairs(_ETHNICITY_LIST["codes"])
#: System extensions beside the 54 groups (domain.md 1.2 row 9, A.1).
ETHNICITY_FOREIGNER, ETHNICITY_UNKNOWN = "55", "00"
_ETHNICITY_NAMES = {**dict(ETHNICITIES), **_ETHNICITY_LIST["extensions"]}
_ETHNICITY = _Aliases[str](
    {
        code: (name, *_ETHNICITY_LIST["aliases"].get(code, ()))
        for code, name in _ETHNICITY_NAMES.items()
    },
    prefixes=_ETHNICITY_LIST["prefixes"],
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

_RELIGION_LIST = _list("religion")
RELIGIONS: tuple[tuple[str, str], ...] = _pairs(_RELIGION_LIST["codes"])
#: Internal keys (never returned) for values that are recognised but have no code: religions
#: recognised after the 14-code list was made (A.2), and "other"/"unknown".
_UNCODED_RELIGIONS: dict[str, str] = _RELIGION_LIST["uncoded"]
_RELIGION = _aliases(_RELIGION_LIST, str)
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

_BLOOD_LIST = _list("blood_group")
BLOOD_GROUPS: tuple[tuple[str, str], ...] = _pairs(_BLOOD_LIST["codes"])
_BLOOD_LETTERS: dict[str, str] = _BLOOD_LIST["letters"]
_BLOOD_UNKNOWN = _Aliases[str]({"00": tuple(_BLOOD_LIST["unknown_aliases"])})
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

_NATIONALITY_LIST = _list("nationality")
#: All 249 officially assigned ISO 3166-1 alpha-2 codes.
ISO_ALPHA2: frozenset[str] = frozenset(_NATIONALITY_LIST["iso_alpha2"])
#: Alpha-3 codes of the countries most often met in Vietnamese records and all of ASEAN.
#: NGA (Nigeria) is left out on purpose: "NGA" on a Vietnamese form means Nga, Russia.
ALPHA3_TO_ALPHA2: Mapping[str, str] = _NATIONALITY_LIST["alpha3_to_alpha2"]
#: Vietnamese names first (the first one is used in messages), then English ones.
_COUNTRY_NAMES: dict[str, tuple[str, ...]] = {
    code: tuple(names) for code, names in _NATIONALITY_LIST["names"].items()
}
_NATIONALITY = _Aliases[str](_COUNTRY_NAMES, prefixes=_NATIONALITY_LIST["prefixes"])


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

_HOUSEHOLD_LIST = _list("household_relation")
HOUSEHOLD_RELATIONS: tuple[tuple[str, str], ...] = _pairs(_HOUSEHOLD_LIST["codes"])
_HOUSEHOLD = _aliases(_HOUSEHOLD_LIST, str)
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

