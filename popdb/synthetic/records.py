"""One clerk's row of a person: the fields written as a commune's clerk types them, each
corruption drawn independently."""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from typing import NamedTuple

from popdb.core import admin_units
from popdb.synthetic.addresses import _abbreviate, hamlet, street_line
from popdb.synthetic.config import (
    DC01_HEADERS,
    H_ALIAS,
    H_BIRTH_CODE,
    H_BIRTH_PLACE,
    H_BLOOD,
    H_CMND,
    H_CURRENT,
    H_CURRENT_CODE,
    H_DOB,
    H_EMAIL,
    H_ETHNICITY,
    H_FATHER,
    H_FATHER_PIN,
    H_HEAD,
    H_HEAD_PIN,
    H_HOMETOWN,
    H_HOMETOWN_CODE,
    H_MARITAL,
    H_MOTHER,
    H_MOTHER_PIN,
    H_NAME,
    H_NATIONALITY,
    H_PERMANENT,
    H_PERMANENT_CODE,
    H_PHONE,
    H_PIN,
    H_RELATION,
    H_RELIGION,
    H_SEX,
    H_SPOUSE,
    H_SPOUSE_PIN,
    TEXT_CELLS,
    TRUTH_COLUMN,
    SyntheticRecord,
)
from popdb.synthetic.names import _era
from popdb.synthetic.places import Commune, OldCommune
from popdb.synthetic.population import Person, Population, _mix
from popdb.synthetic.randomness import Weighted
from popdb.synthetic.tables import RELIGION_SPELLINGS, SPELLINGS
from popdb.synthetic.variants import _ascii, _new_style, _whitespace, vn_typo


def _clerk_habits(seed: int, commune: str) -> dict[str, float]:
    """Multipliers of some rates for the clerk(s) of one collecting commune, about 1 on
    average: one commune types with UniKey's NFD mode or the new tone style, another in
    ASCII, so batches differ the way real ones do."""
    rng = random.Random(f"clerk:{seed}:{commune}")
    return {
        "nfd": 5.5 if rng.random() < 0.1 else 0.5,
        "name_tone_style": 2.05 if rng.random() < 0.4 else 0.3,
        "name_case": rng.choice((0.4, 1.6)),
        "name_ascii": 3.0 if rng.random() < 0.2 else 0.5,
        "dob_format": 1.75 if rng.random() < 0.4 else 0.5,
        "address_abbrev": rng.choice((0.5, 1.5)),
    }


class _Where(NamedTuple):
    """Where and when a record was collected, and what that made of its address."""

    era: str  # "current" or "legacy" (before the 2025 reform)
    commune: Commune
    old: OldCommune
    line: str
    moved: bool
    current_commune: Commune
    collected_by: str
    collected_on: date
    vintage: str


class _Draft:
    """The typist's habits on one record, drawn once and shared by every name on it, and
    the corruptions applied so far."""

    def __init__(self, rng: random.Random, chance: dict[str, float], applied: list[str]) -> None:
        self.rnd = rng.random
        self.chance = chance
        self.applied = applied
        self.case_kind = "upper"
        if self.hit("name_case"):
            self.case_kind = "title" if self.rnd() < 0.85 else "lower"
        # Drawn here, reported only if some name on the record has an oa/oe/uy syllable.
        self.new_style = self.rnd() < chance["name_tone_style"]
        self.restyled = False
        self.ascii_names = self.hit("name_ascii")

    def hit(self, kind: str, factor: float = 1.0) -> bool:
        """Draw corruption `kind` (its chance times `factor`); noted when it applies."""
        if self.rnd() < self.chance[kind] * factor:
            self.applied.append(kind)
            return True
        return False

    def style(self, words: list[str]) -> str:
        """A name as this typist writes it: tone style, diacritics, case."""
        if self.new_style:
            styled = [_new_style(w) for w in words]
            if styled != words:
                self.restyled = True
            words = styled
        text = " ".join(words)
        if self.ascii_names:
            text = _ascii(text)
        if self.case_kind == "upper":
            return text.upper()
        return text.lower() if self.case_kind == "lower" else text


class Writer:
    """Turns persons into records: the clerk at work, field by field."""

    def __init__(self, population: Population, rates: dict[str, float]) -> None:
        self.pop = population
        self.rng = population.rng
        self.config = population.config
        self.seed = population.seed
        self.rates = rates
        self.clerks: dict[tuple[str, bool], dict[str, float]] = {}
        self.vintages: dict[date, str] = {}
        self.dates: dict[tuple[str, str], date] = {}
        self.marital = population.marital
        self.spellings = {k: Weighted(v) for k, v in SPELLINGS.items()}
        self.religion_spellings = {k: Weighted(v) for k, v in RELIGION_SPELLINGS.items()}

    # --- collection dates and batches ---

    def collection_date(self, code: str, era: str, unit: OldCommune | None) -> date:
        """One date per (commune, era): a batch is one commune's collection on one day."""
        key = (code, era)
        found = self.dates.get(key)
        if found is None:
            h = _mix("collected", self.seed, code, era)
            if era == "current":
                start = max(date(2025, 7, 1), self.config.as_of - timedelta(days=60))
                span = (self.config.as_of - start).days + 1
                found = start + timedelta(days=h % span)
            elif unit is not None and unit.in_2020:
                found = date(2020, 3, 1) + timedelta(days=h % 270)
            else:
                found = date(2025, 1, 10) + timedelta(days=h % 160)
            self.dates[key] = found
        return found

    def thresholds(self, code: str, first: bool) -> dict[str, float]:
        """Each corruption's probability on a record of this commune's batch: the rate, the
        error scale (and the first-record scale), and the clerk's habits."""
        found = self.clerks.get((code, first))
        if found is None:
            factors = _clerk_habits(self.seed, code)
            config = self.config
            scale = config.error_scale * (config.first_record_error_scale if first else 1.0)
            found = {  # a rate of 1 stays 1: every record
                k: v if v >= 1.0 else v * scale * factors.get(k, 1.0) for k, v in self.rates.items()
            }
            self.clerks[code, first] = found
        return found

    def vintage(self, on: date) -> str:
        found = self.vintages.get(on)
        if found is None:
            found = self.vintages[on] = admin_units.vintage_in_force(on).key
        return found

    # --- one person's records ---

    def records(self, person: Person) -> list[SyntheticRecord]:
        config = self.config
        rnd = self.rng.random
        n = 1
        if rnd() < config.duplicate_share:
            n += 1 + bisect_right(
                _cumulative(config.extra_records), rnd() * sum(config.extra_records)
            )
        out = [self.record(person, first=True)]
        out += [self.record(person, first=False) for _ in range(n - 1)]
        return out

    def record(self, p: Person, *, first: bool) -> SyntheticRecord:
        """One row of `p`, written in the order a clerk fills the form; every draw from the
        generator's random stream happens in that order, so a seed gives the same file."""
        applied: list[str] = []
        where = self._where_and_when(p, first, applied)
        draft = _Draft(self.rng, self.thresholds(where.collected_by, first), applied)
        row: dict[str, str] = dict.fromkeys(DC01_HEADERS, "")
        row[TRUTH_COLUMN] = p.truth.truth_id
        age = self.config.as_of.year - p.year
        self._write_name(row, p, draft)
        self._write_relatives(row, p, draft, age, moved=where.moved)
        self._write_dob_and_sex(row, p, draft, where.collected_on)
        self._write_numbers(row, p, draft, where, age, first=first)
        self._write_places(row, p, draft, where)
        self._write_coded(row, p)
        if draft.hit("nfd"):
            for column in TEXT_CELLS:
                if row[column]:
                    row[column] = unicodedata.normalize("NFD", row[column])
        if draft.restyled:
            applied.append("name_tone_style")
        return SyntheticRecord(
            row=row,
            person=p.truth,
            collected_by=where.collected_by,
            collected_on=where.collected_on,
            vintage=where.vintage,
            first=first,
            corruptions=tuple(applied),
        )

    def _where_and_when(self, p: Person, first: bool, applied: list[str]) -> _Where:
        """Where and when: the era decides the unit list, the commune decides the batch."""
        rng, rnd, config, rates = self.rng, self.rng.random, self.config, self.rates
        geo = self.pop.geo
        h = p.household
        scale = config.error_scale * (config.first_record_error_scale if first else 1.0)
        era = "current"
        commune: Commune = h.commune
        old = h.old
        line = h.line
        moved = not first and rnd() < rates["moved"] * config.error_scale
        if moved:
            applied.append("moved")
            commune = rng.choice(self.pop.pool)
            old = geo.old[rng.choice(commune.predecessors)]
            line = (
                street_line(commune.province_code, geo.streets, rng)
                if commune.urban
                else hamlet(commune.province_code, rng)
            )
        if rnd() < config.legacy_share:
            legacy_date = self.collection_date(old.code, "legacy", old)
            if date(p.year, p.month, p.day) < legacy_date:
                era = "legacy"
        current_commune = commune
        if (
            era == "current"
            and len(self.pop.pool) > 1
            and rnd() < rates["current_elsewhere"] * scale
        ):
            applied.append("current_elsewhere")
            current_commune = rng.choice(self.pop.pool)
        if era == "current":
            collected_by = current_commune.code
            collected_on = self.collection_date(collected_by, "current", None)
        else:
            collected_by = old.code
            collected_on = self.collection_date(old.code, "legacy", old)
        return _Where(era, commune, old, line, moved, current_commune, collected_by,
                      collected_on, self.vintage(collected_on))  # fmt: skip

    def _write_name(self, row: dict[str, str], p: Person, draft: _Draft) -> None:
        """The citizen's name: middle name dropped or changed, order, typo, apostrophe."""
        rng, rnd, hit = self.rng, self.rng.random, draft.hit
        middle = p.middle
        if middle and hit("middle_omitted"):
            middle = ""
        elif rnd() < draft.chance["middle_changed"] and (pool := self._middle_pool(p)) is not None:
            other = pool.pick(rnd)
            if other == middle:
                other = "" if middle else pool.pick(rnd)
            if other != middle:
                middle = other
                draft.applied.append("middle_changed")
        given_first = p.given_first
        if hit("name_order", 5.0 if given_first else 1.0):
            given_first = not given_first
        if given_first:
            words = [*middle.split(), *p.given.split(), *p.family.split()]
        else:
            words = [*p.family.split(), *middle.split(), *p.given.split()]
        if hit("name_typo"):
            i = len(words) - 1 if rnd() < 0.5 else rng.randrange(len(words))
            words[i] = vn_typo(words[i], rng)
        name = draft.style(words)
        if "'" in name and hit("apostrophe"):
            name = name.replace("'", rng.choice(("\u2019", "`", "\u2018")))
        if hit("whitespace"):
            name = _whitespace(name, rng)
        row[H_NAME] = name
        if p.alias and rnd() < 0.5:
            row[H_ALIAS] = p.alias

    def _write_relatives(
        self, row: dict[str, str], p: Person, draft: _Draft, age: int, *, moved: bool
    ) -> None:
        """Other people's names and numbers: parents, spouse, household head."""
        rnd, hit, style = self.rng.random, draft.hit, draft.style
        old_person = 2.0 if age > 50 else 1.0
        if p.father_name and not hit("father_missing", old_person):
            row[H_FATHER] = self._other_name(p.father_name, hit, style)
            if p.father_pin and rnd() < 0.25:
                row[H_FATHER_PIN] = p.father_pin
        if p.mother_name and not hit("mother_missing", old_person):
            row[H_MOTHER] = self._other_name(p.mother_name, hit, style)
            if p.mother_pin and rnd() < 0.25:
                row[H_MOTHER_PIN] = p.mother_pin
        if p.spouse is not None and rnd() < 0.7:
            row[H_SPOUSE] = style(p.spouse.full_name.split())
            if rnd() < 0.2:
                row[H_SPOUSE_PIN] = p.spouse.pin
        head = p.household.head
        if head is not None and not moved:
            if rnd() < 0.8:
                row[H_HEAD] = row[H_NAME] if head is p else style(head.full_name.split())
                if rnd() < 0.4:
                    row[H_HEAD_PIN] = head.pin
            if rnd() < 0.9:
                row[H_RELATION] = p.relation
        elif moved and rnd() < 0.7:
            row[H_RELATION] = "Chủ hộ" if age >= 18 else "Con"

    def _write_dob_and_sex(
        self, row: dict[str, str], p: Person, draft: _Draft, collected_on: date
    ) -> None:
        row[H_DOB] = self._dob(p, draft.hit, collected_on)
        if not draft.hit("sex_missing"):
            sex = p.sex
            if draft.hit("sex_wrong"):
                sex = 3 - sex
            text = "Nam" if sex == 1 else "Nữ"
            row[H_SEX] = text.upper() if self.rng.random() < 0.05 else text

    def _write_numbers(
        self, row: dict[str, str], p: Person, draft: _Draft, where: _Where, age: int, *,
        first: bool,
    ) -> None:  # fmt: skip
        """The personal ID number and the old 9-digit one, as often as people carry them."""
        rnd, config, legacy = self.rng.random, self.config, where.era == "legacy"
        pin_share = config.pin_share * (0.7 if age < 14 else 1.0) * (0.3 if legacy else 1.0)
        if rnd() < pin_share:
            row[H_PIN] = self._pin_cell(p.pin, draft.hit)
        if p.cmnd is not None:
            share = config.cmnd_share * (2.0 if legacy else 1.0) * (1.5 if age >= 50 else 1.0)
            if rnd() < share:
                cmnd = p.cmnd
                if not first and draft.hit("cmnd_changed"):
                    cmnd = self.pop._cmnd(where.old.province_code)
                row[H_CMND] = cmnd
        elif rnd() < 0.01 and age >= 14:
            row[H_CMND] = p.pin  # a 12-digit CMND (2012-2016) is the PIN already

    def _write_places(self, row: dict[str, str], p: Person, draft: _Draft, where: _Where) -> None:
        """Birth registration, hometown, permanent and current address, abbreviated or not."""
        rng, rnd, hit = self.rng, self.rng.random, draft.hit
        abbreviate = hit("address_abbrev")
        ascii_places = hit("address_ascii")

        def place(text: str) -> str:
            if abbreviate:
                text = _abbreviate(text, rng)
            if ascii_places:
                text = _ascii(text)
            return text

        birth_reg = p.birth_reg
        if rnd() < 0.85:
            row[H_BIRTH_PLACE] = place(self._old_address(birth_reg, "", rng))
        code_kind = rnd()
        if code_kind < 0.5:
            row[H_BIRTH_CODE] = birth_reg.code
        elif code_kind < 0.62:
            row[H_BIRTH_CODE] = birth_reg.province_code
        if rnd() < 0.8:
            row[H_HOMETOWN] = place(self._old_address(p.hometown, "", rng))
            if rnd() < 0.3:
                row[H_HOMETOWN_CODE] = p.hometown.code
        commune, old, line = where.commune, where.old, where.line
        legacy_text = where.era == "legacy" or hit("address_legacy_text")
        if not hit("address_missing"):
            if hit("address_typo"):
                words = line.split(" ")
                spots = [i for i, w in enumerate(words) if any(ch.isalpha() for ch in w)]
                i = rng.choice(spots)
                words[i] = vn_typo(words[i], rng)
                line = " ".join(words)
            if legacy_text:
                permanent = self._old_address(old, line, rng)
            else:
                permanent = f"{line}, {commune.name}, {commune.province_name}"
            row[H_PERMANENT] = place(permanent)
        row[H_PERMANENT_CODE] = old.code if where.era == "legacy" else commune.code
        current = where.current_commune
        if current is commune:
            if rnd() < 0.6:
                row[H_CURRENT] = row[H_PERMANENT]
            if rnd() < 0.8:
                row[H_CURRENT_CODE] = row[H_PERMANENT_CODE]
        else:
            geo_line = (
                street_line(current.province_code, self.pop.geo.streets, rng)
                if current.urban
                else hamlet(current.province_code, rng)
            )
            row[H_CURRENT] = place(f"{geo_line}, {current.name}, {current.province_name}")
            row[H_CURRENT_CODE] = current.code

    def _write_coded(self, row: dict[str, str], p: Person) -> None:
        """Ethnicity, religion, nationality, marital status, blood group, phone, email."""
        rng, rnd, h = self.rng, self.rng.random, p.household
        if rnd() < 0.97:
            spelling = self.spellings.get(h.ethnicity)
            row[H_ETHNICITY] = spelling.pick(rnd) if spelling is not None else h.ethnicity
        if rnd() < 0.95:
            spelling = self.religion_spellings.get(h.religion)
            row[H_RELIGION] = spelling.pick(rnd) if spelling is not None else h.religion
        k = rnd()
        row[H_NATIONALITY] = "Việt Nam" if k < 0.95 else "VN" if k < 0.97 else ""
        if p.marital and rnd() < 0.7:
            row[H_MARITAL] = p.marital
        if rnd() < 0.08:
            row[H_BLOOD] = rng.choice(("A", "B", "O", "O", "AB", "Nhóm máu O", "Nhóm máu A"))
        if p.phone and rnd() < 0.6:
            phone = p.phone if rnd() < 0.8 else self.pop._phone()  # numbers change
            form = rnd()
            if form < 0.15:
                phone = f"{phone[:4]} {phone[4:7]} {phone[7:]}"
            elif form < 0.22:
                phone = f"+84 {phone[1:4]} {phone[4:7]} {phone[7:]}"
            elif form < 0.27:
                phone = f"{phone[:4]}.{phone[4:7]}.{phone[7:]}"
            row[H_PHONE] = phone
        if p.email and rnd() < 0.5:
            row[H_EMAIL] = p.email

    def _middle_pool(self, p: Person) -> Weighted | None:
        """Middle names a clerk may write instead of the person's: their people's list, the
        Kinh list, or none for names that have no middle name (Ê Đê, Gia Rai, Khơ me men)."""
        return self.pop._scheme(p.truth.ethnicity, p.sex).middle[_era(p.year)]

    def _other_name(
        self, full: str, hit: Callable[..., bool], style: Callable[[list[str]], str]
    ) -> str:
        """A parent's name as this clerk writes it: its own typo and omitted middle name."""
        words = full.split()
        if len(words) > 2 and hit("parent_middle_omitted"):
            words = [words[0], words[-1]]
        if hit("parent_name_typo"):
            i = self.rng.randrange(len(words))
            words[i] = vn_typo(words[i], self.rng)
        return style(words)

    @staticmethod
    def _old_address(unit: OldCommune, line: str, rng: random.Random) -> str:
        """A pre-2025 (four-level) address; birth places often stop at the district."""
        if line:
            return f"{line}, {unit.text}"
        return unit.text if rng.random() < 0.7 else unit.district_text

    def _dob(self, p: Person, hit: Callable[..., bool], collected_on: date) -> str:
        rng = self.rng
        year, month, day = p.year, p.month, p.day
        if hit("dob_missing"):
            return ""
        if not p.date_known:
            if hit("dob_placeholder", 10.0):
                return f"01/01/{year}"
            if hit("dob_format"):
                return rng.choice((f"{year}", f"--/--/{year}", f"0/0/{year}"))
            return f"00/00/{year}"
        if hit("dob_year_only"):
            return rng.choice((f"00/00/{year}", f"00/00/{year}", f"{year}", f"--/--/{year}"))
        if hit("dob_placeholder"):
            return f"01/01/{year}"
        if day <= 12 and day != month and hit("dob_day_month_swap"):
            day, month = month, day
        if hit("dob_typo"):
            year, month, day = date_typo(year, month, day, rng, collected_on)
        if hit("dob_two_digit_year"):
            return f"{day:02d}/{month:02d}/{year % 100:02d}"
        if hit("dob_format"):
            form = rng.randrange(5)
            if form == 0:
                return f"{day}/{month}/{year}"
            if form == 1:
                return f"{year}-{month:02d}-{day:02d}"
            if form == 2:
                return f"{year}{month:02d}{day:02d}"
            if form == 3:
                return f"{day:02d}-{month:02d}-{year}"
            # Circular 104/2020: months 3-9 with one digit
            return (
                f"{day:02d}/{month}/{year}" if 3 <= month <= 9 else f"{day:02d}.{month:02d}.{year}"
            )
        return f"{day:02d}/{month:02d}/{year}"

    def _pin_cell(self, pin: str, hit: Callable[..., bool]) -> str:
        rng = self.rng
        if hit("pin_typo"):
            digits = list(pin)
            i = rng.randrange(3, 12)
            if rng.random() < 0.5 and i < 11 and digits[i] != digits[i + 1]:
                digits[i], digits[i + 1] = digits[i + 1], digits[i]
            else:
                digits[i] = str((int(digits[i]) + rng.randint(1, 9)) % 10)
            pin = "".join(digits)
        if pin.startswith("0") and hit("pin_zero_lost"):
            return pin[1:]
        if hit("pin_spaced"):
            sep = " " if rng.random() < 0.8 else "."
            return sep.join((pin[:3], pin[3:6], pin[6:9], pin[9:]))
        return pin


def date_typo(
    year: int, month: int, day: int, rng: random.Random, latest: date
) -> tuple[int, int, int]:
    """A plausible misreading of a date that is still a real date, not after `latest`."""
    for _ in range(5):
        kind = rng.randrange(3)
        y, m, d = year, month, day
        if kind == 0:
            y += rng.choice((-1, 1))
        elif kind == 1:
            y = year - year % 100 + (year % 10) * 10 + (year % 100) // 10  # 1975 -> 1957
        else:
            d += rng.choice((-3, -2, -1, 1, 2, 3))
        try:
            if date(y, m, d) <= latest and y >= 1900 and (y, m, d) != (year, month, day):
                return y, m, d
        except ValueError:
            continue
    return year - 1, month, min(day, 28)


@cache
def _cumulative(weights: tuple[float, ...]) -> tuple[float, ...]:
    out: list[float] = []
    total = 0.0
    for w in weights:
        total += w
        out.append(total)
    return tuple(out)
