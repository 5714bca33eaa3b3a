"""Personal identification numbers (số định danh cá nhân) and old ID card numbers (CMND).

Pure functions, no I/O: the registry, importers and the API all validate numbers the same
way. The layout is `PPP G YY RRRRRR` (Decree 137/2015 art. 13, Circular 07/2016 art. 7):

- `PPP`: where the birth was registered: "0" + the **pre-2025** 2-digit province code (63
  values, `PIN_PLACES`), or a 3-digit country code for births registered abroad. A number is
  for life, so `PPP` is read against the 63-province list even after the 2025 merger
  (`024` is Bắc Giang in a PIN although post-2025 province 24 is Bắc Ninh).
- `G`: century and sex: century = 1900 + (G div 2) * 100; even = male, odd = female.
- `YY`: last two digits of the year of birth.
- `RRRRRR`: a random range. There is **no check digit**: any "CCCD checksum" is invented.

A mismatch between the number and the record (year, sex, place) is a *warning*
(`cross_check`), never a rejection: numbers get cancelled and re-issued, and sex can change
on civil-status records. Numbers are text (`CHAR(12)`), never integers: codes 001-096 start
with a zero that spreadsheets drop.
"""

from __future__ import annotations

import random
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType
from typing import Literal

__all__ = [
    "COUNTRY_CODE_RANGE",
    "DUPLICATED_CMND_RANGES",
    "PIN_PLACES",
    "PinError",
    "PinInfo",
    "cross_check",
    "generate_pin",
    "is_duplicated_cmnd",
    "normalize_cmnd",
    "normalize_pin",
    "parse_pin",
]

#: Positions 1-3 of a PIN for births registered in Vietnam: "0" + the pre-2025 GSO province
#: code (Circular 07/2016 appendix 1). Read-only; never replace it by the 34-province list.
PIN_PLACES: Mapping[str, str] = MappingProxyType(
    {
        "001": "Hà Nội",
        "002": "Hà Giang",
        "004": "Cao Bằng",
        "006": "Bắc Kạn",
        "008": "Tuyên Quang",
        "010": "Lào Cai",
        "011": "Điện Biên",
        "012": "Lai Châu",
        "014": "Sơn La",
        "015": "Yên Bái",
        "017": "Hòa Bình",
        "019": "Thái Nguyên",
        "020": "Lạng Sơn",
        "022": "Quảng Ninh",
        "024": "Bắc Giang",
        "025": "Phú Thọ",
        "026": "Vĩnh Phúc",
        "027": "Bắc Ninh",
        "030": "Hải Dương",
        "031": "Hải Phòng",
        "033": "Hưng Yên",
        "034": "Thái Bình",
        "035": "Hà Nam",
        "036": "Nam Định",
        "037": "Ninh Bình",
        "038": "Thanh Hóa",
        "040": "Nghệ An",
        "042": "Hà Tĩnh",
        "044": "Quảng Bình",
        "045": "Quảng Trị",
        "046": "Thừa Thiên Huế",
        "048": "Đà Nẵng",
        "049": "Quảng Nam",
        "051": "Quảng Ngãi",
        "052": "Bình Định",
        "054": "Phú Yên",
        "056": "Khánh Hòa",
        "058": "Ninh Thuận",
        "060": "Bình Thuận",
        "062": "Kon Tum",
        "064": "Gia Lai",
        "066": "Đắk Lắk",
        "067": "Đắk Nông",
        "068": "Lâm Đồng",
        "070": "Bình Phước",
        "072": "Tây Ninh",
        "074": "Bình Dương",
        "075": "Đồng Nai",
        "077": "Bà Rịa-Vũng Tàu",
        "079": "TP Hồ Chí Minh",
        "080": "Long An",
        "082": "Tiền Giang",
        "083": "Bến Tre",
        "084": "Trà Vinh",
        "086": "Vĩnh Long",
        "087": "Đồng Tháp",
        "089": "An Giang",
        "091": "Kiên Giang",
        "092": "Cần Thơ",
        "093": "Hậu Giang",
        "094": "Sóc Trăng",
        "095": "Bạc Liêu",
        "096": "Cà Mau",
    }
)

#: Positions 1-3 for births registered abroad: 3-digit country codes, 101 (Afghanistan) to
#: 295 (Zimbabwe) per one public data set [reported, not checked against the appendix of
#: Circular 07/2016], so such numbers parse with the warning "abroad_code_unverified".
COUNTRY_CODE_RANGE = range(101, 296)

#: 9-digit CMND numbers known to have been issued twice (2007: in both Bà Rịa-Vũng Tàu and
#: Đồng Nai). Every 9-digit CMND is only supporting evidence; these are doubly so.
DUPLICATED_CMND_RANGES: tuple[range, ...] = (range(271450001, 271500001),)

PIN_LENGTH = 12
CMND_LENGTH = 9
#: Oldest and newest years a PIN can encode (G = 0 ... 9).
FIRST_YEAR = 1900
LAST_YEAR = 2399

# Separators people type or paste between digit groups; dropping them cannot change a number.
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_ASCII_DIGITS = frozenset("0123456789")
# A spreadsheet's numeric cell exported in scientific notation: "1.23457E+11", "1,23457e+11".
_SCIENTIFIC = re.compile(r"[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")
#: A number column's cell written out as a float ("1174371825.0"): the fraction is not a digit.
_FLOAT_ZERO = re.compile(r"([0-9]+)\.0+")


class PinError(ValueError):
    """A number that cannot be a PIN/CMND; `code` is stable for clients, `message` is for
    the clerk at the counter, `suggestion` (if any) is the number they probably meant."""

    def __init__(self, code: str, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.suggestion = suggestion

    def __repr__(self) -> str:
        return f"PinError(code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple[object, ...]:
        # Survive pickling (worker processes of bulk imports) despite the keyword argument.
        return (_rebuild_pin_error, (self.code, self.message, self.suggestion))


def _rebuild_pin_error(code: str, message: str, suggestion: str | None) -> PinError:
    return PinError(code, message, suggestion=suggestion)


@dataclass(frozen=True)
class PinInfo:
    """What a structurally valid PIN says about its holder (not proof: see `cross_check`)."""

    number: str
    """The canonical 12 ASCII digits."""
    place_code: str
    """Positions 1-3: a key of `PIN_PLACES`, or a country code when `abroad`."""
    place_name: str | None
    """Pre-2025 province name; None for births registered abroad."""
    abroad: bool
    sex: Literal[1, 2]
    """QCVN 109 sex code: 1 male, 2 female."""
    birth_year: int
    warnings: tuple[str, ...] = ()
    """Codes such as "leading_zero_restored" and "abroad_code_unverified"."""


def _is_separator(ch: str) -> bool:
    """Whitespace, dots, dashes, invisible characters: what people type between digit groups."""
    return ch.isspace() or ch == "." or ch in _DASHES or ch in _INVISIBLE


def _digits(raw: str, what: str) -> str:
    """Separators removed; PinError unless only ASCII digits remain."""
    if not isinstance(raw, str):
        raise PinError("not_digits", f"The {what} must be typed as text, not as a number.")
    if _SCIENTIFIC.fullmatch(raw.strip()):
        raise PinError(
            "scientific_notation",
            f"The {what} was turned into a rounded number by a spreadsheet (like 1.23457E+11); "
            "its digits are lost. Format the column as text and enter the number again.",
        )
    if m := _FLOAT_ZERO.fullmatch(raw.strip()):
        raw = m.group(1)
    # Positions count every character as typed, so the clerk can find the bad one.
    for position, ch in enumerate(raw, start=1):
        if ch in _ASCII_DIGITS or _is_separator(ch):
            continue
        if ch.isdigit():
            raise PinError(
                "non_ascii_digit",
                f"Character {position} of the {what} is a full-width or non-Latin digit; "
                "type the number again with the ordinary digits 0-9.",
            )
        raise PinError(
            "not_digits",
            f"The {what} may contain only digits; character {position} ({ch!r}) is not a digit.",
        )
    digits = "".join(ch for ch in raw if ch in _ASCII_DIGITS)
    if not digits:
        raise PinError("empty", f"No {what} was entered.")
    return digits


def _from_int(raw: int, what: str) -> str:
    """A spreadsheet cell read as an integer: its decimal digits (leading zeros already lost)."""
    if isinstance(raw, bool) or raw < 0:
        raise PinError("not_digits", f"The {what} must be a sequence of digits.")
    return str(raw)


def normalize_pin(raw: str) -> str:
    """Remove the separators people type ("079 303 000 123" -> "079303000123") and refuse
    anything that is not an ASCII digit, so that one number has one spelling.

    Checks characters only, not length or structure: use `parse_pin` before storing.
    Full-width digits ("５") are rejected (code "non_ascii_digit") rather than folded, since
    they mean the value was not typed on the counter's keyboard and deserves a second look.
    """
    return _digits(raw, "personal identification number")


def _padded_if_zero_lost(digits: str) -> str | None:
    """The 12-digit number a 10- or 11-digit one probably was, if zeros were dropped.

    Only province codes start with 0 (and at most two zeros: "001"), so padding is plausible
    only when it yields a province code.
    """
    if len(digits) not in (PIN_LENGTH - 2, PIN_LENGTH - 1):
        return None
    padded = digits.zfill(PIN_LENGTH)
    return padded if padded[:3] in PIN_PLACES else None


def _century_and_sex(g: int) -> tuple[int, Literal[1, 2]]:
    """Digit 4: century = 1900 + (G div 2) * 100; even = male (1), odd = female (2)."""
    sex: Literal[1, 2] = 1 if g % 2 == 0 else 2
    return FIRST_YEAR + (g // 2) * 100, sex


def parse_pin(
    raw: str | int,
    *,
    today: date | None = None,
    restore_leading_zeros: bool = False,
) -> PinInfo:
    """Validate a 12-digit personal identification number and say what it encodes.

    Structural checks only (there is no check digit): 12 ASCII digits, a known place code
    (63 provinces; country codes 101-295 accepted with the warning "abroad_code_unverified"),
    and a year of birth not after `today` (default: `date.today()`).

    A 10- or 11-digit value whose padding gives a province code lost its leading zeros in a
    spreadsheet: PinError "leading_zero_lost" with the padded number as `suggestion`, or,
    with `restore_leading_zeros=True` (bulk imports), the padded number with the warning
    "leading_zero_restored". An `int` is read as its decimal digits, i.e. zeros already lost.

    Raises PinError only (codes: empty, not_digits, non_ascii_digit, scientific_notation,
    wrong_length, leading_zero_lost, unknown_place, bad_century, future_year).
    """
    what = "personal identification number"
    digits = _from_int(raw, what) if isinstance(raw, int) else _digits(raw, what)
    warnings: list[str] = []

    padded = _padded_if_zero_lost(digits)
    if padded is not None:
        if not restore_leading_zeros:
            raise PinError(
                "leading_zero_lost",
                f"This number has {len(digits)} digits instead of 12: the leading zeros were "
                f"probably dropped by a spreadsheet. Did you mean {padded}?",
                suggestion=padded,
            )
        digits = padded
        warnings.append("leading_zero_restored")

    if len(digits) != PIN_LENGTH:
        hint = (
            " A 9-digit number is an old identity card (CMND) number; enter it as such."
            if len(digits) == CMND_LENGTH
            else ""
        )
        raise PinError(
            "wrong_length",
            f"A personal identification number has 12 digits; this one has {len(digits)}.{hint}",
        )

    place, place_name, abroad = _place_of(digits)
    if abroad:
        warnings.append("abroad_code_unverified")

    sex, birth_year = _sex_and_birth_year(digits, today or date.today())

    return PinInfo(
        number=digits,
        place_code=place,
        place_name=place_name,
        abroad=abroad,
        sex=sex,
        birth_year=birth_year,
        warnings=tuple(warnings),
    )


def _place_of(digits: str) -> tuple[str, str | None, bool]:
    """(place code, province name or None, a country code of birth abroad)."""
    place = digits[:3]
    place_name = PIN_PLACES.get(place)
    abroad = place_name is None and int(place) in COUNTRY_CODE_RANGE
    if place_name is None and not abroad:
        raise PinError(
            "unknown_place",
            f"The first three digits ({place}) are neither a province code nor a country code "
            "of birth registration. Check the number against the card.",
        )
    return place, place_name, abroad


def _sex_and_birth_year(digits: str, today: date) -> tuple[int, int]:
    """What the fourth to sixth digits say, refused when it lies in the future."""
    century, sex = _century_and_sex(int(digits[3]))
    birth_year = century + int(digits[4:6])
    if century > today.year:
        raise PinError(
            "bad_century",
            f"The fourth digit ({digits[3]}) stands for a birth in the {century}s, which have "
            "not begun. Check the number against the card.",
        )
    if birth_year > today.year:
        raise PinError(
            "future_year",
            f"This number gives {birth_year} as the year of birth, which is in the future. "
            "Check the number against the card.",
        )
    return sex, birth_year


def cross_check(
    info: PinInfo,
    *,
    birth_year: int | None = None,
    sex: int | None = None,
    birth_place_code: str | None = None,
) -> list[str]:
    """Compare what the PIN encodes with the record; return warning codes, never raise.

    Mismatches are warnings because numbers are re-issued when year, sex or place was wrong
    (Decree 70/2024) and because OCR misreads ("027139..." read as born 1994). Codes:
    "pin_birth_year_mismatch", "pin_sex_mismatch" (only for sex 1/2; 0 = unknown is not
    compared), "pin_place_mismatch", and "birth_place_code_unrecognised" when
    `birth_place_code` is neither a pre-2025 2-digit province code ("79") nor a 3-digit PIN
    place code ("079"). Pass the province **at the date of birth registration**, never a
    post-2025 code.
    """
    warnings: list[str] = []
    if birth_year is not None and birth_year != info.birth_year:
        warnings.append("pin_birth_year_mismatch")
    if sex in (1, 2) and sex != info.sex:
        warnings.append("pin_sex_mismatch")
    if birth_place_code is not None:
        code = birth_place_code.strip()
        if len(code) == 2 and code.isascii() and code.isdigit():
            code = "0" + code
        known = code in PIN_PLACES or (
            len(code) == 3 and code.isascii() and code.isdigit() and int(code) in COUNTRY_CODE_RANGE
        )
        if not known:
            warnings.append("birth_place_code_unrecognised")
        elif code != info.place_code:
            warnings.append("pin_place_mismatch")
    return warnings


def generate_pin(
    *,
    place_code: str,
    sex: int,
    birth_year: int,
    rng: random.Random | None = None,
) -> str:
    """A new PIN: the 6-digit prefix from place, century/sex and year, then a random tail.

    The tail is drawn from `secrets.SystemRandom()` unless `rng` is given (tests, synthetic
    data), never counted up, so a number reveals nothing about when or in what order it was
    issued. Two draws can collide (one in a million per pair, so often among thousands of
    people of the same place, sex and year): **uniqueness is the caller's job**: insert under
    the database's unique constraint and draw again on a violation.

    `place_code` is a 3-digit key of `PIN_PLACES`; country codes of births abroad are refused
    because their table is unverified. `sex` is 1 (male) or 2 (female); `birth_year` is
    1900-2399. The caller checks that the year of birth is not in the future.
    """
    if place_code not in PIN_PLACES:
        if (
            isinstance(place_code, str)
            and place_code.isdigit()
            and len(place_code) == 3
            and (int(place_code) in COUNTRY_CODE_RANGE)
        ):
            raise ValueError(
                f"place code {place_code} is a country code of birth registration abroad; "
                "their table is unverified, so no number is generated for it"
            )
        raise ValueError(f"unknown place code {place_code!r}: expected a key of PIN_PLACES")
    if isinstance(sex, bool) or sex not in (1, 2):
        raise ValueError(f"sex must be 1 (male) or 2 (female), not {sex!r}")
    if isinstance(birth_year, bool) or not isinstance(birth_year, int):
        raise ValueError(f"birth_year must be an int, not {birth_year!r}")
    if not FIRST_YEAR <= birth_year <= LAST_YEAR:
        raise ValueError(f"birth_year {birth_year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    tail = (rng if rng is not None else secrets.SystemRandom()).randrange(1_000_000)
    return f"{pin_prefix(place_code, sex, birth_year)}{tail:06d}"


def pin_prefix(place_code: str, sex: int, birth_year: int) -> str:
    """The first six digits of a PIN: place, century and sex, year (no checks: callers
    validate as `generate_pin` does). Shared with the set-wise drawing of numbers
    (`popdb.registry.clusters`), which adds random six-digit tails in bulk."""
    g = (birth_year - FIRST_YEAR) // 100 * 2 + (sex - 1)
    return f"{place_code}{g}{birth_year % 100:02d}"


def normalize_cmnd(raw: str | int) -> str:
    """The canonical digits of an old identity card (CMND) number.

    Accepts the 9-digit CMND (before 2016) and the 12-digit CMND (2012-2016), which already
    follows the PIN layout and is validated as a PIN. A 9-digit number identifies the card,
    not the person: its prefix is the place of *issue*, it changed when the holder moved
    province, and numbers were issued twice (271450001-271500000 in both Bà Rịa-Vũng Tàu and
    Đồng Nai, see `DUPLICATED_CMND_RANGES`). Never use it as a key or link records on it
    alone: it is supporting evidence, scoped by issuing province and issue date.

    Raises PinError like `parse_pin`; an 8-digit value (an int, or a spreadsheet) gets
    "leading_zero_lost" with the 9-digit suggestion.
    """
    what = "identity card (CMND) number"
    digits = _from_int(raw, what) if isinstance(raw, int) else _digits(raw, what)
    if len(digits) == CMND_LENGTH:
        return digits
    if len(digits) == CMND_LENGTH - 1:
        padded = digits.zfill(CMND_LENGTH)
        raise PinError(
            "leading_zero_lost",
            f"This number has 8 digits instead of 9: the leading zero was probably dropped "
            f"by a spreadsheet. Did you mean {padded}?",
            suggestion=padded,
        )
    if len(digits) == PIN_LENGTH or _padded_if_zero_lost(digits) is not None:
        return parse_pin(digits).number
    raise PinError(
        "wrong_length",
        f"An identity card (CMND) number has 9 or 12 digits; this one has {len(digits)}.",
    )


def is_duplicated_cmnd(raw: str | int) -> bool:
    """Whether a 9-digit CMND lies in a range known to have been issued to two people.

    Matching code can then weigh it as nothing at all. False for 12-digit numbers.
    """
    digits = normalize_cmnd(raw)
    return len(digits) == CMND_LENGTH and any(int(digits) in r for r in DUPLICATED_CMND_RANGES)
