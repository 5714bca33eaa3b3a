"""Row validation: a mapped row becomes typed citizen columns, match keys and warnings.

The rule of the registry: a row is rejected only when it identifies nobody (no name at all).
Every other problem is a warning on the row, the field left empty in the typed columns, and
the raw row is kept untouched beside it. Typed values are produced only when they satisfy the
database's check constraints, so one odd cell can never fail a whole batch.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache, partial
from itertools import repeat
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from importers.copytext import NULL, copy_text
from importers.fields import FieldValue, MappedRow
from importers.mapping import CellPlan, FieldCells
from popdb.core import codes, pin
from popdb.core.dates import MIN_YEAR, DateError, parse_date
from popdb.core.text import (
    COMPOUND_SURNAMES,
    canonical,
    clean,
    fold,
    join_name,
    looks_like_legacy_encoding,
    split_name,
)

Severity = Literal["warning", "error"]

#: Typed columns of a record (the CitizenFields columns), in table order.
RECORD_COLUMNS: tuple[str, ...] = (
    "full_name", "family_name", "middle_name", "given_name", "name_key", "name_fold",
    "other_names", "dob_year", "dob_month", "dob_day", "sex", "personal_id_number",
    "other_id_number", "birth_registration_place", "birth_registration_code", "hometown",
    "hometown_code", "permanent_address", "permanent_commune_code", "current_address",
    "current_commune_code", "ethnicity_code", "religion_code", "nationality", "marital_status",
    "blood_group", "father_name", "father_id_number", "mother_name", "mother_id_number",
    "spouse_name", "spouse_id_number", "household_head_relation", "phone", "email",
)  # fmt: skip

#: The typed columns `_names` fills, in this order.
NAME_COLUMNS: tuple[str, ...] = (
    "full_name", "family_name", "middle_name", "given_name", "name_key", "name_fold",
)  # fmt: skip
_PIN = "personal_id_number"

#: Longest text kept without a warning; longer values are kept too, but flagged.
MAX_LENGTH = {"name": 100, "address": 300, "other": 100}
_ADDRESS_FIELDS = ("permanent_address", "current_address", "birth_registration_place", "hometown")
_FREE_TEXT_FIELDS = (*_ADDRESS_FIELDS, "father_name", "mother_name", "spouse_name", "other_names")
_RELATIVE_ID_FIELDS = ("father_id_number", "mother_id_number", "spouse_id_number")
_COMMUNE_FIELDS = ("permanent_commune_code", "current_commune_code")
_PLACE_CODE_FIELDS = ("birth_registration_code", "hometown_code")
#: Distinct cells remembered per batch before the memo starts afresh (bounds memory).
MEMO_SIZE = 200_000
#: The bulk path stops remembering a field's cells once this many of them have been looked
#: up and more than `MEMO_MISS_RATE` of those were new: names, addresses and numbers of a file
#: from outside are mostly distinct, and remembering them only fills the memos (which then
#: start afresh, forgetting the dates and codes that do repeat) and memory.
MEMO_SAMPLE = 20_000
MEMO_MISS_RATE = 0.75
_CODED: dict[str, tuple[str, Callable[[str | None], codes.Coded | None]]] = {
    "sex": ("sex", codes.sex),
    "ethnicity": ("ethnicity_code", codes.ethnicity),
    "religion": ("religion_code", codes.religion),
    "nationality": ("nationality", codes.nationality),
    "marital_status": ("marital_status", codes.marital_status),
    "blood_group": ("blood_group", codes.blood_group),
    "household_head_relation": ("household_head_relation", codes.household_relation),
}
_DIGITS = re.compile(r"[0-9]+")
_PHONE_JUNK = re.compile(r"[\s.\-()]")
#: An international number of another country (E.164: a country code, at most 15 digits).
_FOREIGN_PHONE = re.compile(r"\+(?!84)[1-9][0-9]{6,14}", flags=re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Issue:
    """One problem on one row: what the error report and `source_record.warnings` show."""

    field: str | None
    column: str | None
    value: str | None
    code: str
    message: str
    severity: Severity = "warning"

    def as_json(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "column": self.column,
            "value": self.value,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
        }


class _Entry(NamedTuple):
    """One check's answer for one distinct cell, memoised: its typed columns as values (for
    `check_field`) and as ready COPY text (for the bulk path), its issues, and what the PIN
    cross-check needs of it (`_SIDE`)."""

    text: str
    items: dict[str, Any]
    issues: tuple[Issue, ...]
    side: Any = None


class OldNumber(NamedTuple):
    """The PIN check's side for an old identity card (CMND) number found in the PIN column:
    it is kept as the record's other document number (when the row has none of its own)."""

    number: str


class _NameEntry(NamedTuple):
    text: str
    issues: tuple[Issue, ...]
    rejected: bool


#: The value of a check that the PIN cross-check reads (the PinInfo for the PIN itself).
_SIDE = {"dob": "dob_year", "sex": "sex", "birth_registration_code": "birth_registration_code",
         _PIN: "_pin"}  # fmt: skip


def _owned(name: str) -> tuple[str, ...]:
    """The typed columns a check fills; each column belongs to exactly one check."""
    if name == "dob":
        return ("dob_year", "dob_month", "dob_day")
    if name in _CODED:
        return (_CODED[name][0],)
    return (name,)


# Cached per distinct *word*, not per name: a file from outside has few distinct words but
# mostly distinct full names (a cache keyed by the whole name misses on nearly every row).
_canonical = lru_cache(maxsize=200_000)(canonical)
_fold = lru_cache(maxsize=200_000)(fold)
_legacy_word = lru_cache(maxsize=200_000)(looks_like_legacy_encoding)
#: Canonical keys of the words of compound surnames: a name with none of them is split at
#: its first (or last) word, whatever `split_name` would otherwise look up.
_COMPOUND_WORDS = frozenset(
    word for name in COMPOUND_SURNAMES for word in (canonical(name) or "").split(" ")
)


def _legacy(text: str) -> bool:
    """`looks_like_legacy_encoding`, word by word (it decides per word of the NFC text, and
    NFC never joins or splits whitespace-separated words); ASCII text never is."""
    return not text.isascii() and any(map(_legacy_word, text.split()))


def _split(full: str, order: str) -> tuple[str | None, str | None, str | None]:
    """`split_name`, with the canonical key of each word from the per-word cache: a name none
    of whose words is part of a compound surname has a one-word family name."""
    tokens = (clean(full) or "").split(" ")
    if len(tokens) > 1 and not any(_canonical(t) in _COMPOUND_WORDS for t in tokens):
        if order == "family_first":
            return tokens[0], " ".join(tokens[1:-1]) or None, tokens[-1]
        return tokens[-1], " ".join(tokens[1:-1]) or None, tokens[0]
    parts = split_name(full, order=order)  # type: ignore[arg-type]
    return parts.family, parts.middle, parts.given


class RowValidator:
    """Validates the rows of one batch.

    `communes_in_force`: the 5-digit commune codes of the vintage in force on the batch's
    collection date; `known_codes`: every province, district and commune code of any vintage
    (birth registration and origin happened long before collection); `province_of`: pre-2025
    commune and district code -> pre-2025 province code, to cross-check a personal ID
    number's place digits against the place of birth registration.
    """

    def __init__(
        self,
        *,
        collected_on: dt.date,
        communes_in_force: Collection[str],
        vintage: str,
        known_codes: Collection[str] = frozenset(),
        province_of: Mapping[str, str] | None = None,
        name_order: Literal["family_first", "given_first"] = "family_first",
        name_columns: str | None = None,
        today: dt.date | None = None,
        dob_month_first: bool = False,
        sex_zero_is_female: bool = False,
    ) -> None:
        self.collected_on = collected_on
        self.communes_in_force = communes_in_force
        self.vintage = vintage
        self.known_codes = known_codes
        self.province_of = province_of or {}
        self.name_order = name_order
        self.name_columns = name_columns  # the file's name column(s), for the no-name error
        self.today = today or dt.date.today()
        #: conventions of the file (`importers.pipeline.conventions`): dates of birth written
        #: m/d/yyyy, sex 0 for women
        self.dob_month_first = dob_month_first
        self.sex_zero_is_female = sex_zero_is_female
        # Field checks that depend on the cell alone, each memoised per distinct cell: a
        # commune's rows repeat the same codes, places, dates and names over and over.
        self._bulk_memos: list[dict[Any, Any]] = []  # of BulkValidators, cleared with ours
        self._checks: list[tuple[str, Callable[[FieldValue, dict[str, Any], list[Issue]], None]]]
        self._checks = [("dob", self._dob)]
        self._checks += [(n, partial(self._coded, n, col)) for n, (col, _) in _CODED.items()]
        self._checks += [
            ("personal_id_number", self._pin),
            ("other_id_number", self._other_id),
            *((n, partial(self._text, n)) for n in _FREE_TEXT_FIELDS),
            *((n, partial(self._relative_id, n)) for n in _RELATIVE_ID_FIELDS),
            *((n, partial(self._commune, n)) for n in _COMMUNE_FIELDS),
            *((n, partial(self._place_code, n)) for n in _PLACE_CODE_FIELDS),
            ("phone", self._phone),
            ("email", self._email),
        ]
        self._owned = [_owned(n) for n, _ in self._checks]
        self._owned_sets = [frozenset(o) for o in self._owned]
        self._memo_size = 0  # entries in every memo of this validator together

    @property
    def field_checks(self) -> tuple[str, ...]:
        """The field checks a mapped row goes through after its names, in order (public for
        the row-at-a-time reference in tests/support/reference_validate.py)."""
        return tuple(name for name, _ in self._checks)

    def check_names(self, mapped: MappedRow, record: dict[str, Any], issues: list[Issue]) -> bool:
        """Fill the name columns of `record` from a mapped row; False if it has no name."""
        return self._names(mapped.get, record, issues)

    def check_field(
        self, index: int, fv: FieldValue
    ) -> tuple[dict[str, Any], tuple[Issue, ...], Any]:
        """Field check `index` (of `field_checks`) on one cell, not memoised: its typed
        columns, its issues, and what the PIN cross-check reads of it."""
        entry = self._compute(index, fv)
        return entry.items, entry.issues, entry.side

    def pin_problems(
        self, info: pin.PinInfo, dob_year: int | None, sex: int | None, place: str | None
    ) -> list[tuple[str, str]]:
        """(code, message) of each disagreement between the PIN and the rest of the row."""
        return self._pin_problems(info, dob_year, sex, place)

    def _compute(self, index: int, fv: FieldValue) -> _Entry:
        """Run check `index` on one cell; the caller memoises the result (or not)."""
        name, check = self._checks[index]
        found: dict[str, Any] = {}
        problems: list[Issue] = []
        check(fv, found, problems)
        side = found.pop("_pin", None) if name == _PIN else found.get(_SIDE.get(name, ""))
        owned = self._owned[index]
        assert found.keys() <= self._owned_sets[index], (name, found)
        return _Entry("\t".join([copy_text(found.get(c)) for c in owned]), found,
                      tuple(problems), side)  # fmt: skip

    def _grow(self) -> None:
        """Count one more memo entry; past `MEMO_SIZE` every memo starts afresh."""
        self._memo_size += 1
        if self._memo_size > MEMO_SIZE:
            self._memo_size = 1
            for memo in self._bulk_memos:
                memo.clear()

    def _pin_problems(
        self, info: pin.PinInfo, dob_year: int | None, sex: int | None, place: str | None
    ) -> list[tuple[str, str]]:
        """(code, message) of each disagreement between the PIN and the rest of the row."""
        province = None
        if place is not None:
            province = place if len(place) == 2 else self.province_of.get(place)
        return [
            (code, _PIN_WARNINGS.get(code, code).format(year=info.birth_year))
            for code in pin.cross_check(
                info, birth_year=dob_year, sex=sex, birth_place_code=province
            )
            if code != "birth_place_code_unrecognised"  # reported by _place_code when it matters
        ]

    # --- names ---------------------------------------------------------------------------

    def _names(self, get: Any, record: dict[str, Any], issues: list[Issue]) -> bool:
        full, family, middle, given = (
            get(k) for k in ("full_name", "family_name", "middle_name", "given_name")
        )
        texts = {k: _value(v) for k, v in (("family_name", family), ("middle_name", middle),
                                          ("given_name", given))}  # fmt: skip
        full_text = clean(_value(full))
        if not any(_has_letter(t) for t in (full_text, *texts.values())):
            shown = [fv for fv in (full, family, middle, given) if fv is not None]
            issues.append(
                Issue(
                    "full_name",
                    _columns(shown[0]) if shown else self.name_columns,
                    _value(shown[0]) if shown else None,
                    "no_name",
                    "The row has no name, so it identifies nobody; it was not imported. "
                    "Fill in the full name and upload the row again.",
                    "error",
                )
            )
            return False
        parts = {k: clean(v) for k, v in texts.items()}
        if any(parts.values()):
            f, m, g = parts["family_name"], parts["middle_name"], parts["given_name"]
            if full_text is None:
                full_text = join_name(f, m, g)
        else:
            f, m, g = _split(full_text, self.name_order)  # type: ignore[arg-type]
            if self.name_order == "given_first":
                full_text = join_name(f, m, g)  # registry order: family name first
        assert full_text is not None  # some part has a letter
        record.update(full_name=full_text, family_name=f, middle_name=m, given_name=g)
        record["name_key"] = " ".join(_canonical(t) or "" for t in full_text.split())
        record["name_fold"] = (
            " ".join(f for f in (_fold(t) for t in record["name_key"].split()) if f) or None
        )
        source = full if full is not None and full.value else (given or family or middle)
        if _legacy(_value(source) or ""):
            issues.append(
                Issue(
                    "full_name",
                    _columns(source),
                    _value(source),
                    "legacy_encoding",
                    "The name looks like text typed in an old Vietnamese font (TCVN3/VNI) and "
                    "read as Unicode, e.g. 'NguyÔn' for 'Nguyễn'. Convert the file to Unicode "
                    "and upload it again; this row will not match others until then.",
                )  # fmt: skip
            )
        if len(full_text) > MAX_LENGTH["name"]:
            issues.append(_too_long("full_name", source, MAX_LENGTH["name"]))
        return True

    # --- dates, codes, numbers ---------------------------------------------------------------

    def _dob(self, fv: FieldValue | None, record: dict[str, Any], issues: list[Issue]) -> None:
        text = _value(fv)
        if text is None:
            return
        try:
            date, warnings = parse_date(
                text, fv.format if fv else None, today=self.today,
                month_first=self.dob_month_first,
            )  # fmt: skip
        except DateError as exc:
            issues.append(Issue("dob", _columns(fv), text, exc.code, exc.message))
            return
        except ValueError as exc:  # a bad format in the mapping profile
            issues.append(Issue("dob", _columns(fv), text, "bad_format", str(exc)))
            return
        record.update(dob_year=date.year, dob_month=date.month, dob_day=date.day)
        for code in warnings:
            issues.append(Issue("dob", _columns(fv), text, code, _DATE_WARNINGS.get(code, code)))
        if (date.year, date.month or 1, date.day or 1) > (
            self.collected_on.year,
            self.collected_on.month,
            self.collected_on.day,
        ):
            issues.append(
                Issue(
                    "dob",
                    _columns(fv),
                    text,
                    "born_after_collection",
                    f"The date of birth is after the collection date "
                    f"{self.collected_on.isoformat()}.",
                )  # fmt: skip
            )

    def _coded(
        self,
        name: str,
        column: str,
        fv: FieldValue | None,
        record: dict[str, Any],
        issues: list[Issue],
    ) -> None:
        text = _value(fv)
        if text is None:
            return
        coded = _CODED[name][1](text)
        if coded is None:
            return
        record[column] = coded.code
        if name == "sex" and coded.code == 0 and self.sex_zero_is_female:
            record[column] = 2
        if coded.warning:
            code = "unrecognised_value" if coded.code is None else "loose_value"
            issues.append(Issue(name, _columns(fv), text, code, coded.warning))

    def _pin(self, fv: FieldValue | None, record: dict[str, Any], issues: list[Issue]) -> None:
        text = _value(fv)
        if text is None:
            return
        if _is_cmnd(text):
            # One "Số CMND/CCCD" column holds both documents: a 9-digit value is the old card
            # (CMND), not a PIN with a wrong length. It is not comparable to a 12-digit PIN;
            # it can link through another record's old number (validate() moves it there).
            moved: dict[str, Any] = {}
            self._other_id(fv, moved, issues)
            if moved.get("other_id_number"):
                record["_pin"] = OldNumber(moved["other_id_number"])
                issues.append(Issue("personal_id_number", _columns(fv), text,
                                    "cmnd_in_pin_column", _CMND_IN_PIN))  # fmt: skip
            return
        try:
            info = pin.parse_pin(text, today=self.today, restore_leading_zeros=True)
        except pin.PinError as exc:
            issues.append(Issue("personal_id_number", _columns(fv), text, exc.code, exc.message))
            return
        record["personal_id_number"] = info.number
        record["_pin"] = info
        for code in info.warnings:
            issues.append(
                Issue("personal_id_number", _columns(fv), text, code, _PIN_WARNINGS.get(code, code))
            )

    def _other_id(self, fv: FieldValue | None, record: dict[str, Any], issues: list[Issue]) -> None:
        text = clean(_value(fv))
        if text is None:
            return
        digits = "".join(_DIGITS.findall(text))
        if digits and len(digits) in (8, 9) and not _has_letter(text):
            try:
                number = pin.normalize_cmnd(digits)
            except pin.PinError as exc:
                if exc.code != "leading_zero_lost" or exc.suggestion is None:
                    issues.append(
                        Issue("other_id_number", _columns(fv), text, exc.code, exc.message)
                    )
                    record["other_id_number"] = text
                    return
                number = exc.suggestion  # 8 digits: a spreadsheet dropped the leading zero
                issues.append(_zero_restored("other_id_number", fv, text, number))
            record["other_id_number"] = number
            if pin.is_duplicated_cmnd(number):
                issues.append(
                    Issue(
                        "other_id_number",
                        _columns(fv),
                        text,
                        "cmnd_issued_twice",
                        "This old ID card number lies in a range that was issued twice "
                        "(Bà Rịa-Vũng Tàu and Đồng Nai); it will not be used to link records.",
                    )  # fmt: skip
                )
            return
        record["other_id_number"] = text  # a passport or other document: kept as written

    def _relative_id(
        self, name: str, fv: FieldValue | None, record: dict[str, Any], issues: list[Issue]
    ) -> None:
        text = clean(_value(fv))
        if text is None:
            return
        try:
            record[name] = pin.normalize_cmnd(text)
            return
        except pin.PinError as exc:
            if exc.code == "leading_zero_lost" and exc.suggestion is not None:
                record[name] = exc.suggestion
                issues.append(_zero_restored(name, fv, text, exc.suggestion))
                return
        record[name] = text
        issues.append(
            Issue(
                name,
                _columns(fv),
                text,
                "unrecognised_id_number",
                "This is neither a 12-digit personal identification number nor a 9-digit "
                "identity card number; it is kept as written.",
            )  # fmt: skip
        )

    # --- places --------------------------------------------------------------------------------

    def _code_digits(
        self, name: str, fv: FieldValue | None, widths: tuple[int, ...], issues: list[Issue]
    ) -> str | None:
        text = _value(fv)
        if text is None:
            return None
        code = text.strip().replace(" ", "")
        if code.endswith(".0"):  # a number cell written out by a spreadsheet
            code = code[:-2]
        if not (code.isascii() and code.isdigit()):
            issues.append(
                Issue(
                    name,
                    _columns(fv),
                    text,
                    "bad_code",
                    "An administrative unit code is made of digits only (e.g. 00004).",
                )  # fmt: skip
            )
            return None
        if len(code) not in widths:
            padded = code.zfill(widths[-1])
            if len(code) < widths[-1] and len(padded) == widths[-1]:
                issues.append(
                    Issue(name, _columns(fv), text, "leading_zero_restored",
                          f"The code lost its leading zeros in a spreadsheet; read as {padded}.")
                )  # fmt: skip
                return padded
            issues.append(
                Issue(name, _columns(fv), text, "bad_code",
                      f"An administrative unit code has {' or '.join(map(str, widths))} digits.")
            )  # fmt: skip
            return None
        return code

    def _commune(
        self, name: str, fv: FieldValue | None, record: dict[str, Any], issues: list[Issue]
    ) -> None:
        code = self._code_digits(name, fv, (5,), issues)
        if code is None:
            return
        record[name] = code
        if code not in self.communes_in_force:
            elsewhere = (
                " It exists in another list: check which date the code is from."
                if code in self.known_codes
                else ""
            )
            issues.append(
                Issue(
                    name,
                    _columns(fv),
                    _value(fv),
                    "unknown_commune",
                    f"Commune code {code} is not in the official list in force on "
                    f"{self.collected_on.isoformat()} (list {self.vintage}).{elsewhere}",
                )  # fmt: skip
            )

    def _place_code(
        self, name: str, fv: FieldValue | None, record: dict[str, Any], issues: list[Issue]
    ) -> None:
        code = self._code_digits(name, fv, (2, 3, 5), issues)
        if code is None:
            return
        record[name] = code
        if self.known_codes and code not in self.known_codes:
            issues.append(
                Issue(
                    name,
                    _columns(fv),
                    _value(fv),
                    "unknown_unit",
                    f"Code {code} is not a province, district or commune in any official list "
                    "since 2020.",
                )  # fmt: skip
            )

    # --- free text -------------------------------------------------------------------------------

    def _text(
        self, name: str, fv: FieldValue | None, record: dict[str, Any], issues: list[Issue]
    ) -> None:
        text = clean(_value(fv))
        if text is None:
            return
        record[name] = text
        limit = MAX_LENGTH["address" if name in _ADDRESS_FIELDS else "name"]
        if len(text) > limit:
            issues.append(_too_long(name, fv, limit))

    def _phone(self, fv: FieldValue | None, record: dict[str, Any], issues: list[Issue]) -> None:
        text = clean(_value(fv))
        if text is None:
            return
        number = _PHONE_JUNK.sub("", text)
        if _FOREIGN_PHONE.fullmatch(number):  # another country's number, with its code
            record["phone"] = number
            return
        if number.startswith("+84"):
            number = "0" + number[3:]
        elif number.startswith("84") and len(number) == 11:
            number = "0" + number[2:]
        elif len(number) == 9 and number.isdigit() and number[0] != "0":
            number = "0" + number  # a number cell lost its leading zero
        if not (number.isascii() and number.isdigit() and len(number) == 10):
            issues.append(
                Issue("phone", _columns(fv), text, "unusual_phone",
                      "Not a phone number as written in Vietnam (10 digits, e.g. 0912345678) "
                      "or with a + and a country code (+44 20 7946 0958); kept as written.")
            )  # fmt: skip
            number = text
        record["phone"] = number

    def _email(self, fv: FieldValue | None, record: dict[str, Any], issues: list[Issue]) -> None:
        text = clean(_value(fv))
        if text is None:
            return
        record["email"] = text.lower() if _EMAIL.fullmatch(text) else text
        if not _EMAIL.fullmatch(text):
            issues.append(
                Issue("email", _columns(fv), text, "unusual_email",
                      "This does not look like an e-mail address; kept as written.")
            )  # fmt: skip


_DATE_WARNINGS = {
    "placeholder_jan_1": "1 January is often written when only the year of birth is known; "
    "it is kept, but matched as a low-confidence date.",
}
_CMND_IN_PIN = (
    "A 9-digit old identity card (CMND) number in the personal ID number column: kept as "
    "the record's old card number, not compared with 12-digit numbers."
)


def _is_cmnd(text: str) -> bool:
    """A cell of 8 or 9 digits (separators allowed, no letters): an old card number (CMND;
    8 when a spreadsheet dropped its leading zero), never a 12-digit PIN."""
    digits = "".join(_DIGITS.findall(text))
    return len(digits) in (8, 9) and not _has_letter(text)


_PIN_WARNINGS = {
    "leading_zero_restored": "The number lost its leading zero(s) in a spreadsheet; restored.",
    "abroad_code_unverified": "The first three digits are a code for a birth registered abroad; "
    "the country table is not verified.",
    "pin_birth_year_mismatch": "The personal ID number says the holder was born in {year}, "
    "which differs from the date of birth.",
    "pin_sex_mismatch": "The personal ID number's sex digit differs from the sex on the row.",
    "pin_place_mismatch": "The personal ID number's place code differs from the province of "
    "birth registration.",
}


def _zero_restored(field: str, fv: FieldValue | None, text: str, number: str) -> Issue:
    message = f"The number lost its leading zero in a spreadsheet; restored as {number}."
    return Issue(field, _columns(fv), text, "leading_zero_restored", message)


def _value(fv: FieldValue | None) -> str | None:
    if fv is None or fv.value is None:
        return None
    v = fv.value.strip()
    return v or None


def _columns(fv: FieldValue | None) -> str | None:
    return " + ".join(fv.columns) if fv is not None and fv.columns else None


def _has_letter(text: str | None) -> bool:
    return bool(text) and any(ch.isalpha() for ch in text)  # type: ignore[union-attr]


def _too_long(name: str, fv: FieldValue | None, limit: int) -> Issue:
    return Issue(
        name, _columns(fv), _value(fv), "too_long",
        f"Longer than {limit} characters; kept, but check that columns were not run together.",
    )  # fmt: skip


def repeated_key(key: str, first_row: int) -> Issue:
    """The warning on a row whose source key an earlier row of the same file already used."""
    return Issue(
        "source_key", None, key, "repeated_source_key",
        f"Row {first_row} of this file has the same source key.",
    )  # fmt: skip


@dataclass
class BulkResult:
    """A chunk of rows validated: per row, the COPY text of its typed columns (in
    `BulkValidator.columns` order); the issues of the rows that have any (names, then
    each field check's, then the PIN cross-check's) and the rows rejected, by index in the chunk."""

    typed: list[str]
    issues: dict[int, list[Issue]]
    rejected: list[int]


class BulkValidator:
    """Validates the rows of one batch a chunk at a time, column by column.

    Each field's cells are looked up in a memo per field, in one list comprehension per
    column, and each row's typed columns are joined from the memo entries' ready COPY text:
    far less work per row than a dict, a record and formatted values for each. Cells that
    are mostly unique per row skip the memo: personal ID numbers that are 12 plain digits
    (their check depends only on the first six, memoised as a prefix), phone numbers of 10
    plain digits (both kept as they are). A field whose cells prove mostly distinct stops
    being remembered (`MEMO_SAMPLE`): files from outside have distinct names, addresses and
    old ID numbers on nearly every row, where our own files repeat a few thousand; free text
    of such a field (addresses, parents' names) that `clean` leaves as it is, and not too
    long, is then kept as it is without a lookup. The result is the row-at-a-time reference's
    (tests/support/reference_validate.py; tested byte for byte).
    """

    def __init__(self, validator: RowValidator, plan: CellPlan) -> None:
        self.validator = v = validator
        self._names_cells = [plan.fields[f] for f in _NAME_FIELDS if f in plan.fields]
        self._names_memo: dict[Any, _NameEntry] = {}
        pins = plan.fields.get(_PIN)
        self._pin_column = " + ".join(pins.columns) if pins is not None and pins.columns else None
        self._present: list[tuple[int, str, FieldCells, dict[Any, _Entry]]] = []
        absent: list[str] = []
        columns: list[str] = list(NAME_COLUMNS)
        for i, (name, _) in enumerate(v._checks):
            if name in plan.fields:
                self._present.append((i, name, plan.fields[name], {}))
                columns += v._owned[i]
            else:
                absent += v._owned[i]
        # An old card number in the PIN column becomes the row's other document number:
        # that column is then always written by the checks' part, never by the absent part.
        self._old_id_at: int | None = None
        if _PIN in plan.fields:
            if "other_id_number" in absent:
                absent.remove("other_id_number")
                columns.append("other_id_number")
            self._old_id_at = columns.index("other_id_number") - len(NAME_COLUMNS)
        #: The typed columns, in the order of `BulkResult.typed`.
        self.columns: tuple[str, ...] = (*columns, *absent)
        self._absent_text = "\t".join([NULL] * len(absent))
        self._rejected_text = "\t".join([NULL] * len(self.columns))
        #: per check index (-1: the names): [cells looked up, cells not found], and whether
        #: new cells are still remembered (see MEMO_SAMPLE)
        self._tried: dict[int, list[int]] = {i: [0, 0] for i, *_ in self._present}
        self._tried[-1] = [0, 0]
        self._storing: dict[int, bool] = dict.fromkeys(self._tried, True)
        #: Checks whose memo is never given up: dates of birth come from a small domain
        #: (about 36,500 days a century per way of writing them), so their memo stays
        #: bounded however many are new at first, and it pays later (on a 300,000-row file
        #: from outside, 7 dates in 10 had been seen before; parsing each was a tenth of
        #: the work).
        self._bounded = frozenset(i for i, name, *_ in self._present if name in _BOUNDED)
        self._pin_prefixes: dict[str, Any] = {}  # 6 digits -> PinInfo, or None: not clean
        self._dob_at = next((i for i, name, *_ in self._present if name == "dob"), -1)
        self._cross: dict[tuple[Any, ...], list[tuple[str, str]]] = {}
        v._bulk_memos += [self._names_memo, self._pin_prefixes, self._cross]
        v._bulk_memos += [memo for *_, memo in self._present]

    def validate(self, rows: list[list[str | None]]) -> BulkResult:
        """Rows as lists of cells in heading order (None or "" for an empty cell)."""
        names = self._names(rows)
        issues: dict[int, list[Issue]] = {
            i: list(e.issues) for i, e in enumerate(names) if e.issues
        }
        rejected = [i for i, e in enumerate(names) if e.rejected]
        texts: list[Any] = [[e.text for e in names]]
        sides: dict[str, list[Any]] = {}
        pin_texts: list[str] = []
        for index, name, cells, memo in self._present:
            values = cells.values(rows)
            if name == _PIN:
                entries = self._pins(index, cells, memo, values)
            else:
                get, miss = memo.get, partial(self._miss, index, cells, memo)
                if name in _FREE_TEXT_FIELDS and not self._storing[index]:
                    # mostly distinct: text `clean` leaves as it is, short enough, is kept
                    limit = MAX_LENGTH["address" if name in _ADDRESS_FIELDS else "name"]
                    entries = [
                        (copy_text(v), None, ()) if v and len(v) <= limit and clean(v) == v
                        else get(v) or miss(v)
                        for v in values
                    ]  # fmt: skip
                elif name == "phone":
                    entries = [
                        (v, None, ()) if v and len(v) == 10 and v.isascii() and v.isdigit()
                        else get(v) or miss(v)
                        for v in values
                    ]  # fmt: skip
                else:
                    entries = [get(v) or miss(v) for v in values]
            # cells looked up in the memo: those not taken as they are (no typed items), and
            # not empty (an empty cell is one entry that every row may repeat)
            self._tried[index][0] += (
                len(entries) - list(map(_ITEMS, entries)).count(None)
                - values.count(None) - values.count("")
            )  # fmt: skip
            column = list(map(_TEXT, entries))
            texts.append(column)
            if name == _PIN:
                pin_texts = column
            for i in [i for i, e in enumerate(entries) if e[2]]:
                issues.setdefault(i, []).extend(entries[i][2])
            if name in _SIDE:
                sides[name] = list(map(_SIDE_OF, entries))
            self._review(index, memo)
        if _PIN in sides:
            self._cross_check(sides, pin_texts, issues)
            self._old_numbers(sides[_PIN], texts)
        if self._absent_text:
            texts.append(repeat(self._absent_text))
        typed = list(map("\t".join, zip(*texts, strict=False)))  # repeat() is endless
        for i in rejected:  # a row without a name gets no typed columns and no other issue
            typed[i] = self._rejected_text
            issues[i] = list(names[i].issues)
        return BulkResult(typed, issues, rejected)

    def _names(self, rows: list[list[str | None]]) -> list[_NameEntry]:
        cells = self._names_cells
        if len(cells) == 1:
            keys: list[Any] = cells[0].values(rows)
        else:
            keys = list(zip(*(c.values(rows) for c in cells), strict=True))
        get, miss = self._names_memo.get, self._name_miss
        self._tried[-1][0] += len(keys)
        found = [get(k) or miss(k) for k in keys]
        self._review(-1, self._names_memo)
        return found

    def _review(self, index: int, memo: dict[Any, Any]) -> None:
        """Stop remembering new cells of a field that has proved mostly distinct (and forget
        those it holds): looking them up costs little, keeping them is what costs."""
        looked_up, missed = self._tried[index]
        mostly_new = missed > MEMO_MISS_RATE * looked_up
        if self._storing[index] and looked_up >= MEMO_SAMPLE and mostly_new:
            if index in self._bounded:
                return
            self._storing[index] = False
            memo.clear()

    def _name_miss(self, key: Any) -> _NameEntry:
        self._tried[-1][1] += 1
        values = (key,) if len(self._names_cells) == 1 else key
        mapped = {}
        for cells, value in zip(self._names_cells, values, strict=True):
            fv = cells.field_value(value)
            if fv is not None:
                mapped[cells.field] = fv
        record: dict[str, Any] = {}
        issues: list[Issue] = []
        named = self.validator._names(mapped.get, record, issues)
        text = "\t".join([copy_text(record.get(c)) for c in NAME_COLUMNS])
        entry = _NameEntry(text, tuple(issues), not named)
        if self._storing[-1]:
            self.validator._grow()
            self._names_memo[key] = entry
        return entry

    def _miss(self, index: int, cells: FieldCells, memo: dict[Any, _Entry], value: Any) -> _Entry:
        self._tried[index][1] += bool(value)
        fv = cells.field_value(value)
        if fv is None:
            entry = _Entry("\t".join([NULL] * len(self.validator._owned[index])), {}, ())
        elif index != self._dob_at or (entry := self._plain_date(fv)) is None:  # type: ignore[assignment]
            entry = self.validator._compute(index, fv)
        if self._storing[index] or fv is None:
            self.validator._grow()
            memo[value] = entry
        return entry

    def _plain_date(self, fv: FieldValue) -> _Entry | None:
        """The date check's entry for a d/m/yyyy cell (digits, one kind of separator) that
        is a real, whole date with nothing to say about it, without `parse_date`'s cascade
        of patterns; None for any other cell (the check itself then runs). Such a cell takes
        `parse_date`'s day-first form (every form tried before it starts with a 4-digit
        year) and passes every check of `_build` and `_dob`: a known day and month, a real
        day of that month, a year from MIN_YEAR, not 1 January (the placeholder warning),
        not after today nor after the collection date. New dates of birth are the cells
        that miss the memo most on every file (a third to seven tenths of the first 100,000
        rows), at 10–14 µs each through the check."""
        if fv.format is not None or not (
            parts := _DAY_MONTH_YEAR.fullmatch(fv.value.strip())  # type: ignore[union-attr]
        ):
            return None
        day, month, year = int(parts[1]), int(parts[3]), int(parts[4])
        if self.validator.dob_month_first:
            day, month = month, day
        if not (1 <= month <= 12 and day >= 1 and year >= MIN_YEAR) or (month, day) == (1, 1):
            return None
        if day > calendar.monthrange(year, month)[1]:
            return None
        if dt.date(year, month, day) > min(self.validator.today, self.validator.collected_on):
            return None
        items = {"dob_year": year, "dob_month": month, "dob_day": day}
        return _Entry(f"{year}\t{month}\t{day}", items, (), year)

    def _pins(
        self, index: int, cells: FieldCells, memo: dict[Any, _Entry], values: list[str | None]
    ) -> list[Any]:
        """PIN entries; a PIN of 12 plain digits is all digits after its first six, which
        alone decide the check (place, century and sex, year), so those six are memoised."""
        get, miss = memo.get, partial(self._miss, index, cells, memo)
        prefixes = self._pin_prefixes
        entries: list[Any] = []
        for v in values:
            if v and len(v) == 12 and v.isascii() and v.isdigit():
                info = prefixes.get(v[:6], False)
                if info is False:
                    self.validator._grow()
                    entry = self.validator._compute(index, cells.field_value(v))  # type: ignore[arg-type]
                    info = prefixes[v[:6]] = None if entry.issues else entry.side
                if info is not None:
                    entries.append((v, None, (), info))
                    continue
            entries.append(get(v) or miss(v))
        return entries

    def _old_numbers(self, pins: list[Any], texts: list[Any]) -> None:
        """Rows whose PIN cell held an old card number (`OldNumber`) and that have no other
        document number of their own get it as that number (as the row-at-a-time reference,
        tests/support/reference_validate.py, does).
        `texts`: the names' texts, then one list of texts per present check."""
        if self._old_id_at is None:
            return
        check, offset = 0, self._old_id_at
        widths = [len(self.validator._owned[i]) for i, *_ in self._present]
        while check < len(widths) and offset >= widths[check]:
            offset, check = offset - widths[check], check + 1
        if check == len(widths):  # other_id_number not mapped: a column of its own
            texts.append([NULL] * len(pins))
        column = texts[1 + check]
        for i, side in enumerate(pins):
            if isinstance(side, OldNumber) and column[i] == NULL:
                column[i] = copy_text(side.number)

    def _cross_check(
        self, sides: dict[str, list[Any]], pins: list[str], issues: dict[int, list[Issue]]
    ) -> None:
        n = len(pins)
        cross, problems = self._cross, self.validator._pin_problems
        column = self._pin_column
        for i, info, year, sex, place in zip(
            range(n), sides[_PIN], sides.get("dob") or repeat(None, n),
            sides.get("sex") or repeat(None, n),
            sides.get("birth_registration_code") or repeat(None, n), strict=True,
        ):  # fmt: skip
            if info is None or isinstance(info, OldNumber):
                continue
            key = (info.birth_year, info.sex, info.place_code, year, sex, place)
            found = cross.get(key)
            if found is None:
                self.validator._grow()
                found = cross[key] = problems(info, year, sex, place)
            if found:
                issues.setdefault(i, []).extend(
                    Issue(_PIN, column, pins[i], code, message) for code, message in found
                )


_NAME_FIELDS = ("full_name", "family_name", "middle_name", "given_name")
#: A date written day/month/year in digits with one kind of separator (`parse_date`'s `_DMY`
#: form, digits only; see `BulkValidator._plain_date`).
_DAY_MONTH_YEAR = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]{4})", flags=re.ASCII)
#: Fields whose distinct cells are few however long the file (see `BulkValidator._bounded`).
_BOUNDED = frozenset({"dob"})
_TEXT, _ITEMS, _SIDE_OF = itemgetter(0), itemgetter(1), itemgetter(3)
