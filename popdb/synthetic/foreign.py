"""The Western variant (FEBRL-like columns): households, twins, nicknames, typos, moves."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from popdb.synthetic.config import FOREIGN_RATES, TRUTH_COLUMN, SyntheticConfig
from popdb.synthetic.population import _mix, permute
from popdb.synthetic.randomness import FastRandom, Weighted
from popdb.synthetic.records import _cumulative, date_typo
from popdb.synthetic.streams import _config, interleave
from popdb.synthetic.tables import KEYBOARD, NICKNAMES, PHONETIC, STREET_SUFFIXES
from popdb.synthetic.variants import _ascii

#: Columns of `generate_foreign` (FEBRL-like), `truth_id` last.
FOREIGN_HEADERS: tuple[str, ...] = (
    "rec_id", "given_name", "surname", "date_of_birth", "sex", "street_number", "address_1",
    "suburb", "postcode", "state", "soc_sec_id", TRUTH_COLUMN,
)  # fmt: skip

#: The mapping profile for `generate_foreign` files (design.md "Mapping profile").
FOREIGN_PROFILE: dict[str, Any] = {
    "source_key": "rec_id",
    "name_order": "given_first",
    "fields": {
        "given_name": "given_name",
        "family_name": "surname",
        "dob": {"column": "date_of_birth", "format": "%Y%m%d"},
        "sex": "sex",
        "other_id_number": "soc_sec_id",
        "permanent_address": {
            "concat": ["street_number", "address_1", "suburb", "state", "postcode"],
            "sep": " ",
        },
    },
}


def _latin_typo(word: str, rng: random.Random) -> str:
    """A typing, phonetic or OCR error in a Latin-script word, case kept."""
    if len(word) < 2:
        return word
    low = word.lower()
    for _ in range(5):
        kind = rng.randrange(6)
        if kind == 0:  # keyboard neighbour
            spots = [i for i, ch in enumerate(low) if ch in KEYBOARD]
            if spots:
                i = rng.choice(spots)
                out = low[:i] + rng.choice(KEYBOARD[low[i]]) + low[i + 1 :]
                break
        elif kind == 1 and len(low) > 3:  # dropped letter
            i = rng.randrange(1, len(low))
            out = low[:i] + low[i + 1 :]
            break
        elif kind == 2:  # doubled letter
            i = rng.randrange(len(low))
            out = low[: i + 1] + low[i] + low[i + 1 :]
            break
        elif kind == 3 and len(low) > 2:  # transposition
            i = rng.randrange(len(low) - 1)
            if low[i] != low[i + 1]:
                out = low[:i] + low[i + 1] + low[i] + low[i + 2 :]
                break
        elif kind in (4, 5):  # phonetic / OCR
            options = [(a, b) for a, b in PHONETIC if a in low[1:]]
            if options:
                a, b = rng.choice(options)
                i = low.index(a, 1)
                out = low[:i] + b + low[i + len(a) :]
                break
    else:
        return word
    if word.isupper():
        return out.upper()
    return out[:1].upper() + out[1:] if word[:1].isupper() else out


def _digit_typo(digits: str, rng: random.Random) -> str:
    if not digits:
        return digits
    i = rng.randrange(len(digits))
    return digits[:i] + str((int(digits[i]) + rng.randint(1, 9)) % 10) + digits[i + 1 :]


@dataclass(frozen=True)
class _WesternNames:
    given: dict[int, tuple[Weighted, ...]]  # sex -> per locale
    surnames: tuple[Weighted, ...]
    locales: Weighted  # index into the tuples
    suffixes: Weighted


@cache
def _western_names() -> _WesternNames:
    """en_US (weighted by frequency), en_GB and fr_FR (ranked lists) names from Faker."""
    from faker.providers.person.en_GB import Provider as GB
    from faker.providers.person.en_US import Provider as US
    from faker.providers.person.fr_FR import Provider as FR

    def weighted(names: Any, ranked: bool = True) -> Weighted:
        """Faker's frequencies when it has them; else a Zipf-like weight by rank for lists in
        order of popularity (en_GB names, fr_FR surnames), equal weights for alphabetical
        ones (fr_FR given names)."""
        if isinstance(names, Mapping):
            return Weighted((n, float(w)) for n, w in names.items())
        if not ranked:
            return Weighted((n, 1.0) for n in names)
        return Weighted((n, 1000 / (rank + 1) ** 0.8) for rank, n in enumerate(names))

    return _WesternNames(
        given={
            sex: (
                weighted(getattr(US, attr)),
                weighted(getattr(GB, attr)),
                weighted(getattr(FR, attr), ranked=False),
            )
            for sex, attr in ((1, "first_names_male"), (2, "first_names_female"))
        },
        surnames=tuple(weighted(x.last_names) for x in (US, GB, FR)),
        locales=Weighted(((0, 60), (1, 25), (2, 15))),
        suffixes=Weighted(STREET_SUFFIXES),
    )


@dataclass(frozen=True, slots=True)
class _Suburb:
    name: str
    postcode: str
    state: str


def _suburbs(seed: int) -> tuple[_Suburb, ...]:
    """A few hundred suburbs, each with a fixed state and postcode (Faker en_AU)."""
    from faker import Faker

    fake = Faker("en_AU")
    fake.seed_instance(seed)
    states = (("NSW", "2"), ("VIC", "3"), ("QLD", "4"), ("SA", "5"), ("WA", "6"), ("TAS", "7"),
              ("ACT", "26"), ("NT", "08"))  # fmt: skip
    weights = Weighted(((s, w) for s, w in zip(states, (32, 26, 20, 7, 10, 2, 2, 1), strict=True)))
    rng = random.Random(f"suburbs:{seed}")
    out: list[_Suburb] = []
    seen: set[str] = set()
    while len(out) < 400:
        name = fake.city()
        if name in seen:
            continue
        seen.add(name)
        state, first = weights.pick(rng.random)
        postcode = first + "".join(str(rng.randrange(10)) for _ in range(4 - len(first)))
        out.append(_Suburb(name, postcode, state))
    return tuple(out)


@dataclass(slots=True)
class _Western:
    truth_id: str
    sex: int
    given: str
    surname: str
    year: int
    month: int
    day: int
    ssn: str | None
    street_number: str
    street: str
    suburb: _Suburb
    twin_group: int | None = None


def generate_foreign(
    persons: int, *, seed: int, config: SyntheticConfig | None = None, **overrides: Any
) -> Iterator[dict[str, str]]:
    """Western-style records (`FOREIGN_HEADERS`, FEBRL-like; import with `FOREIGN_PROFILE`).

    Same mechanics as `generate`: households share a surname and an address, twins share
    date of birth, surname and address, some people are namesakes, `duplicate_share` of the
    persons have 2-4 records, each corrupted independently (`FOREIGN_RATES`: typos, swapped
    names, nicknames, missing fields, moves, date swaps). Dates are YYYYMMDD, sex M/F, the
    7-digit `soc_sec_id` is unique per person. Deterministic for `seed`.
    """
    if persons < 0:
        raise ValueError("persons must not be negative")
    config = _config(config, overrides)
    people = _WesternPeople(config, seed)

    def groups() -> Iterator[list[dict[str, str]]]:
        made = 0
        while made < persons:
            for p in people.household()[: persons - made]:
                made += 1
                yield [people.row(p, k == 0) for k in range(people.record_count())]

    def numbered() -> Iterator[dict[str, str]]:
        order_rng = FastRandom(f"foreign-order:{seed}")
        for n, out in enumerate(interleave(groups(), order_rng, config.duplicate_delay), 1):
            yield {"rec_id": f"rec-{n:07d}", **out}

    return numbered()


class _WesternPeople:
    """Western households and their records: one random stream, drawn in a fixed order, so
    a seed always gives the same file."""

    def __init__(self, config: SyntheticConfig, seed: int) -> None:
        self.config = config
        self.rates = config.rate_table(FOREIGN_RATES)
        self.rng = FastRandom(f"foreign:{seed}")
        self.rnd = self.rng.random
        self.names = _western_names()
        self.suburbs = _suburbs(seed)
        self.ssn_keys = tuple(_mix("ssn", seed, k) & 0xFFFF for k in range(4))
        self.year_now = config.as_of.year
        self.latest = config.as_of - timedelta(days=1)
        self.recent: list[_Western] = []
        self.persons = 0
        self.twins = 0

    def record_count(self) -> int:
        """1 record, or 2-4 for the `duplicate_share` of persons."""
        config = self.config
        n = 1
        if self.rnd() < config.duplicate_share:
            n += 1 + bisect_right(
                _cumulative(config.extra_records), self.rnd() * sum(config.extra_records)
            )
        return n

    def ssn(self) -> str | None:
        """A 7-digit number unique to the person (a permutation of the person counter)."""
        if self.rnd() < 0.15:
            return None
        x = self.persons
        while True:  # cycle-walking keeps the permutation inside [0, 10**7)
            x = permute(x, self.ssn_keys, 10_000)
            if x < 10_000_000:
                return f"{x:07d}"

    def birth(self, year: int) -> tuple[int, int, int]:
        rng = self.rng
        while True:
            try:
                d = date(year, rng.randint(1, 12), rng.randint(1, 31))
            except ValueError:
                continue
            if d <= self.latest:
                return d.year, d.month, d.day
            year -= 1

    def person(
        self,
        sex: int,
        year: int,
        surname: str,
        locale: int,
        street: tuple[str, str, _Suburb],
        when: tuple[int, int, int] | None = None,
        twin: int | None = None,
    ) -> _Western:
        rng, rnd, recent = self.rng, self.rnd, self.recent
        given = self.names.given[sex][locale].pick(rnd)
        y, m, d = when or self.birth(year)
        if when is None and recent and rnd() < self.config.namesake_rate:
            donor = rng.choice(recent)
            if donor.sex == sex:
                given, surname = donor.given, donor.surname
                y, m, d = self.birth(donor.year)
        p = _Western(f"F{self.persons:08d}", sex, given, surname, y, m, d, self.ssn(),
                     street[0], street[1], street[2], twin)  # fmt: skip
        self.persons += 1
        recent.append(p)
        if len(recent) > 4096:
            del recent[:1024]
        return p

    def address(self) -> tuple[str, str, _Suburb]:
        rng, names = self.rng, self.names
        street = f"{rng.choice(names.surnames[0].items[:300])} {names.suffixes.pick(self.rnd)}"
        return str(rng.randint(1, 250)), street, rng.choice(self.suburbs)

    def household(self) -> list[_Western]:
        rng, rnd, names = self.rng, self.rnd, self.names
        locale = names.locales.pick(rnd)
        surname = names.surnames[locale].pick(rnd)
        where = self.address()
        head_year = self.year_now - int(rng.triangular(18, 95, 40))
        members = [self.person(1 if rnd() < 0.5 else 2, head_year, surname, locale, where)]
        if rnd() < 0.6:
            members.append(self.person(3 - members[0].sex, head_year + rng.randint(-4, 4),
                                       surname if rnd() < 0.7 else names.surnames[locale].pick(rnd),
                                       locale, where))  # fmt: skip
        mother_year = members[-1].year
        year = max(mother_year, head_year) + rng.randint(20, 32)
        for _ in range(rng.choice((0, 0, 1, 2, 2, 3))):
            if year > self.latest.year:
                break
            members += self._children(year, surname, locale, where)
            year += rng.randint(1, 5)
        return members

    def _children(
        self, year: int, surname: str, locale: int, where: tuple[str, str, _Suburb]
    ) -> list[_Western]:
        """One birth: a child, or twins (never with the same given name)."""
        rnd = self.rnd
        when = self.birth(year)
        twin = None
        sexes = [1 if rnd() < 0.5 else 2]
        if rnd() < self.config.twin_rate:
            twin = self.twins
            self.twins += 1
            sexes.append(sexes[0] if rnd() < 0.65 else 3 - sexes[0])
        first_given = None
        born = []
        for sex in sexes:
            child = self.person(sex, year, surname, locale, where, when, twin)
            while first_given is not None and child.given == first_given:
                child.given = self.names.given[sex][locale].pick(rnd)
            first_given = first_given or child.given
            born.append(child)
        return born

    def row(self, p: _Western, first: bool) -> dict[str, str]:
        """One record of `p`, each corruption drawn independently."""
        config, rates, rnd = self.config, self.rates, self.rnd
        scale = config.error_scale * (config.first_record_error_scale if first else 1.0)

        def hit(kind: str) -> bool:
            rate = rates[kind]
            return rnd() < (rate if rate >= 1.0 else rate * scale)

        given, surname = self._names(p, hit)
        dob = self._dob(p, hit)
        number, street, suburb_name, suburb, postcode = self._address(p, hit, first)
        ssn_cell = p.ssn or ""
        if ssn_cell and hit("ssn_missing"):
            ssn_cell = ""
        elif ssn_cell and hit("ssn_typo"):
            ssn_cell = _digit_typo(ssn_cell, self.rng)
        out = {
            "given_name": given,
            "surname": surname,
            "date_of_birth": dob,
            "sex": "" if hit("sex_missing") else ("M" if p.sex == 1 else "F"),
            "street_number": number,
            "address_1": street,
            "suburb": suburb_name,
            "postcode": postcode,
            "state": suburb.state,
            "soc_sec_id": ssn_cell,
            TRUTH_COLUMN: p.truth_id,
        }
        if hit("address_missing"):
            for column in ("street_number", "address_1", "suburb", "postcode"):
                out[column] = ""
        return out

    def _names(self, p: _Western, hit: Callable[[str], bool]) -> tuple[str, str]:
        rng = self.rng
        given, surname = p.given, p.surname
        if hit("nickname") and given in NICKNAMES:
            given = rng.choice(NICKNAMES[given])
        if hit("given_typo"):
            given = _latin_typo(given, rng)
        if hit("surname_typo"):
            surname = _latin_typo(surname, rng)
        if (given != _ascii(given) or surname != _ascii(surname)) and hit("accents_dropped"):
            given, surname = _ascii(given), _ascii(surname)
        if hit("name_case"):
            given, surname = given.upper(), surname.upper()
        if hit("names_swapped"):
            given, surname = surname, given
        if hit("given_missing"):
            given = ""
        elif hit("surname_missing"):
            surname = ""
        if not given and not surname:
            surname = p.surname  # a row must still name someone
        return given, surname

    def _dob(self, p: _Western, hit: Callable[[str], bool]) -> str:
        y, m, d = p.year, p.month, p.day
        if d <= 12 and d != m and hit("dob_day_month_swap"):
            d, m = m, d
        if hit("dob_typo"):
            y, m, d = date_typo(y, m, d, self.rng, self.latest)
        return "" if hit("dob_missing") else f"{y:04d}{m:02d}{d:02d}"

    def _address(
        self, p: _Western, hit: Callable[[str], bool], first: bool
    ) -> tuple[str, str, str, _Suburb, str]:
        rng = self.rng
        number, street, suburb = p.street_number, p.street, p.suburb
        if not first and hit("moved"):
            number, street, suburb = self.address()
        if hit("street_number_typo"):
            number = _digit_typo(number, rng)
        if hit("address_typo"):
            words = street.split(" ")
            words[0] = _latin_typo(words[0], rng)
            street = " ".join(words)
        suburb_name = suburb.name
        if hit("suburb_typo"):
            words = suburb_name.split(" ")
            k = rng.randrange(len(words))
            words[k] = _latin_typo(words[k], rng)
            suburb_name = " ".join(words)
        postcode = _digit_typo(suburb.postcode, rng) if hit("postcode_typo") else suburb.postcode
        return number, street, suburb_name, suburb, postcode
