"""The generator's knobs and record shapes: corruption rates, `SyntheticConfig`, the truth
and record tuples, and the DC01 columns it writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import NamedTuple

from importers.dc01 import DC01_COLUMNS, HOUSEHOLD_HEAD_ID, HOUSEHOLD_HEAD_NAME, SOURCE_KEY

#: The ground-truth column: the id of the person a row describes. Not a DC01 field.
TRUTH_COLUMN = "truth_id"

#: The DC01 form's headers as the importer's template spells them (the one list is
#: `importers.dc01.DC01_COLUMNS`), by the field each holds.
_HEADER_OF = {target: header for header, target in DC01_COLUMNS if target is not None}
H_KEY = _HEADER_OF[SOURCE_KEY]
H_NAME = _HEADER_OF["full_name"]
H_ALIAS = _HEADER_OF["other_names"]
H_DOB = _HEADER_OF["dob"]
H_SEX = _HEADER_OF["sex"]
H_PIN = _HEADER_OF["personal_id_number"]
H_CMND = _HEADER_OF["other_id_number"]
H_BIRTH_PLACE = _HEADER_OF["birth_registration_place"]
H_BIRTH_CODE = _HEADER_OF["birth_registration_code"]
H_HOMETOWN = _HEADER_OF["hometown"]
H_HOMETOWN_CODE = _HEADER_OF["hometown_code"]
H_ETHNICITY = _HEADER_OF["ethnicity"]
H_RELIGION = _HEADER_OF["religion"]
H_NATIONALITY = _HEADER_OF["nationality"]
H_MARITAL = _HEADER_OF["marital_status"]
H_BLOOD = _HEADER_OF["blood_group"]
H_PERMANENT = _HEADER_OF["permanent_address"]
H_PERMANENT_CODE = _HEADER_OF["permanent_commune_code"]
H_CURRENT = _HEADER_OF["current_address"]
H_CURRENT_CODE = _HEADER_OF["current_commune_code"]
H_FATHER = _HEADER_OF["father_name"]
H_FATHER_PIN = _HEADER_OF["father_id_number"]
H_MOTHER = _HEADER_OF["mother_name"]
H_MOTHER_PIN = _HEADER_OF["mother_id_number"]
H_SPOUSE = _HEADER_OF["spouse_name"]
H_SPOUSE_PIN = _HEADER_OF["spouse_id_number"]
H_HEAD = HOUSEHOLD_HEAD_NAME
H_HEAD_PIN = HOUSEHOLD_HEAD_ID
H_RELATION = _HEADER_OF["household_head_relation"]
H_PHONE = _HEADER_OF["phone"]
H_EMAIL = _HEADER_OF["email"]

#: The DC01 template's headers in form order, then `TRUTH_COLUMN`: the columns of `generate`.
DC01_HEADERS: tuple[str, ...] = (*(header for header, _ in DC01_COLUMNS), TRUTH_COLUMN)
TEXT_CELLS = (H_NAME, H_ALIAS, H_BIRTH_PLACE, H_HOMETOWN, H_PERMANENT, H_CURRENT, H_FATHER,
               H_MOTHER, H_SPOUSE, H_HEAD)  # fmt: skip

#: Communes of the 2025-07 list used by `write_demo_files`: a Hà Nội and a Hồ Chí Minh City
#: ward, an Ê Đê area of Đắk Lắk, a Khmer area of Cần Thơ and a mountain commune of Lào Cai.
DEMO_COMMUNES: tuple[str, ...] = ("00004", "26740", "24169", "31528", "04744")

#: Base probability of each corruption on one record (scaled by `SyntheticConfig.error_scale`,
#: and by `first_record_error_scale` on a person's first record; some are further raised or
#: lowered per collecting commune, the clerk's habits). Keys are the names reported in
#: `SyntheticRecord.corruptions`.
DEFAULT_RATES: Mapping[str, float] = MappingProxyType(
    {
        # names
        "name_case": 0.25,  # not in capitals (title case, sometimes lower case)
        "name_tone_style": 0.35,  # new-style tone placement (Hoà, Thuỷ); shows on oa/oe/uy only
        "name_ascii": 0.06,  # every diacritic dropped, đ -> d ("NGUYEN VAN HOA")
        "nfd": 0.05,  # the record's text decomposed (NFD), as UniKey's "tổ hợp" mode types it
        "name_typo": 0.08,  # one transcription error of domain.md 4.3 in the citizen's name
        "middle_omitted": 0.05,
        "middle_changed": 0.02,  # another middle name, or one added where there was none
        "name_order": 0.005,  # given name first (Western order); Ê Đê names "fixed" to family first
        "whitespace": 0.03,  # double space, NBSP, leading/trailing or zero-width space
        "apostrophe": 0.3,  # ’ or ` for ' (only names that have an apostrophe: H'Hen)
        "parent_name_typo": 0.08,  # per parent name present
        "parent_middle_omitted": 0.06,  # per parent name present
        "father_missing": 0.15,  # doubled for people over 50
        "mother_missing": 0.12,  # doubled for people over 50
        # dates of birth
        "dob_format": 0.2,  # another accepted form: 5/3/1985, 1985-03-05, 19850305, 05-03-1985
        "dob_year_only": 0.03,  # 00/00/1985, 1985 or --/--/1985 although the date is known
        "dob_placeholder": 0.02,  # 01/01/yyyy (x10 for people whose date is not known)
        "dob_day_month_swap": 0.03,  # only when both parts are <= 12 and differ
        "dob_typo": 0.02,  # year off by one, last two year digits swapped, day off by 1-3
        "dob_two_digit_year": 0.004,  # 05/03/85: the importer warns and keeps no date
        "dob_missing": 0.01,
        # sex
        "sex_missing": 0.03,
        "sex_wrong": 0.002,
        # numbers
        "pin_typo": 0.01,  # one digit changed or two adjacent digits swapped
        "pin_zero_lost": 0.004,  # 11 digits: a spreadsheet ate the leading zero
        "pin_spaced": 0.03,  # "079 303 000 123" or dotted
        "cmnd_changed": 0.1,  # another 9-digit number (re-issued after a move); duplicates only
        # addresses
        "moved": 0.25,  # another commune (new permanent address); duplicates only
        "current_elsewhere": 0.08,  # lives (and is collected) in another commune
        "address_legacy_text": 0.12,  # a current record worded the pre-2025 way (with the district)
        "address_abbrev": 0.35,  # P., Q., TP., TP.HCM, F15, ...
        "address_ascii": 0.04,
        "address_typo": 0.05,
        "address_missing": 0.03,
    }
)

#: Corruptions of `generate_foreign`, same conventions as `DEFAULT_RATES`.
FOREIGN_RATES: Mapping[str, float] = MappingProxyType(
    {
        "given_typo": 0.08,  # keyboard neighbour, dropped, doubled or swapped letters, phonetic
        "surname_typo": 0.07,
        "nickname": 0.05,  # Robert -> Bob
        "names_swapped": 0.02,  # given name in the surname column and back
        "given_missing": 0.02,
        "surname_missing": 0.01,
        "accents_dropped": 0.3,  # only names that have some: Hélène -> Helene
        "name_case": 0.05,  # upper case
        "dob_day_month_swap": 0.03,
        "dob_typo": 0.02,
        "dob_missing": 0.03,
        "sex_missing": 0.05,
        "ssn_typo": 0.02,
        "ssn_missing": 0.2,
        "moved": 0.15,  # duplicates only
        "street_number_typo": 0.03,
        "address_typo": 0.05,
        "suburb_typo": 0.04,
        "postcode_typo": 0.03,
        "address_missing": 0.03,
    }
)


@dataclass(frozen=True)
class SyntheticConfig:
    """The generator's knobs. Defaults aim at the field's difficulty, not at an easy file.

    - `duplicate_share`: share of persons with more than one record.
    - `extra_records`: relative weights of 1, 2 and 3 extra records for those persons.
    - `twin_rate`: share of births that are twins.
    - `namesake_rate`: share of adults made namesakes of an earlier person (same full name,
      sex and birth year, half of them in the same commune), on top of natural collisions.
    - `legacy_share`: share of records collected before the 2025 reform (2020 campaign, or
      the first half of 2025), with pre-2025 commune codes and four-level addresses.
    - `error_scale`: multiplies every rate; `first_record_error_scale` further multiplies
      the rates on a person's first record (it was typed by a clerk too, usually carefully).
    - `rates`: overrides of `DEFAULT_RATES` (or of `FOREIGN_RATES` for `generate_foreign`);
      a rate of 1 applies to every record, whatever the scales and clerk habits.
    - `pin_share`: chance that an adult's current record carries the personal ID number
      (lower for children and much lower in the 2020 campaign); `cmnd_share` the same for
      an old 9-digit ID number, which people born before 2003 may have.
    - `communes`: how many 2025-07 communes households live in (drawn from the seed), or the
      exact commune codes. Moves and temporary residence stay within these communes.
    - `as_of`: the date the population is observed; current records are collected in the
      60 days before it, ages run from 0 to 100 at it. At least 2025-07-01.
    - `duplicate_delay`: a duplicate is emitted up to this many records after its person's
      first record, so that neighbouring rows do not give the truth away; it bounds memory.
    """

    duplicate_share: float = 0.25
    extra_records: tuple[float, float, float] = (0.72, 0.2, 0.08)
    twin_rate: float = 0.02
    namesake_rate: float = 0.02
    legacy_share: float = 0.15
    error_scale: float = 1.0
    first_record_error_scale: float = 0.3
    rates: Mapping[str, float] = field(default_factory=dict)
    pin_share: float = 0.6
    cmnd_share: float = 0.35
    communes: int | tuple[str, ...] = 64
    as_of: date = date(2025, 10, 1)
    duplicate_delay: int = 20_000

    def __post_init__(self) -> None:
        for name in ("duplicate_share", "twin_rate", "namesake_rate", "legacy_share",
                     "pin_share", "cmnd_share"):  # fmt: skip
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {value!r}")
        if self.error_scale < 0 or self.first_record_error_scale < 0:
            raise ValueError("error scales must not be negative")
        if (
            len(self.extra_records) != 3
            or min(self.extra_records) < 0
            or not any(self.extra_records)
        ):
            raise ValueError("extra_records: three non-negative weights, not all zero")
        if self.as_of < date(2025, 7, 1):
            raise ValueError("as_of must be on or after 2025-07-01 (the 2025-07 commune list)")
        if self.duplicate_delay < 1:
            raise ValueError("duplicate_delay must be at least 1")
        if isinstance(self.communes, int) and self.communes < 1:
            raise ValueError("communes must be at least 1")

    def rate_table(self, defaults: Mapping[str, float]) -> dict[str, float]:
        """`defaults` with `rates` applied; an unknown name is an error, not a silent no-op."""
        unknown = sorted(set(self.rates) - set(defaults))
        if unknown:
            raise ValueError(f"unknown corruption rate(s) {unknown}; known: {sorted(defaults)}")
        table = {**defaults, **self.rates}
        bad = {k: v for k, v in table.items() if not 0.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"rates must be between 0 and 1: {bad}")
        return table


class PersonTruth(NamedTuple):
    """What is true of a person, shared by all their records (for scoring and tests).

    `month`/`day` are always the real date; `date_known` False means the person's records
    only show the year (old people often do not know their date of birth). `commune_code`
    is the household's 2025-07 commune (a person who moved shows another one on some
    records). `twin_group` is the same for twins; `namesake_of` is the id of the person
    whose name and birth year were copied on purpose.
    """

    truth_id: str
    household_id: int
    sex: int  # 1 male, 2 female (QCVN 109)
    family: str
    middle: str
    given: str
    full_name: str
    year: int
    month: int
    day: int
    date_known: bool
    pin: str
    cmnd: str | None
    ethnicity: str
    commune_code: str
    father_name: str | None
    mother_name: str | None
    twin_group: int | None = None
    namesake_of: str | None = None


class SyntheticRecord(NamedTuple):
    """One generated row and what is known about it.

    `collected_by` is the commune (5-digit code valid in `vintage`, which is the list in
    force on `collected_on`) whose batch the row belongs to. `corruptions` names the
    `DEFAULT_RATES` keys applied to this row. (Named tuples: millions are made.)
    """

    row: dict[str, str]
    person: PersonTruth
    collected_by: str
    collected_on: date
    vintage: str
    first: bool
    corruptions: tuple[str, ...]
