"""The population: households, parents and children, twins and namesakes, their numbers and
places."""

from __future__ import annotations

import random
import zlib
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from typing import NamedTuple

from popdb.core.pin import generate_pin
from popdb.synthetic.addresses import hamlet, street_line
from popdb.synthetic.config import PersonTruth, SyntheticConfig
from popdb.synthetic.names import ERA_FACTOR, GIVEN_FIRST, MATRILINEAL, _era, _names
from popdb.synthetic.places import Commune, OldCommune, _geo
from popdb.synthetic.randomness import FastRandom, Weighted
from popdb.synthetic.tables import (
    ALIASES,
    CMND_PREFIX,
    CMND_TWICE,
    MALE_LINE,
    MARITAL,
    MIX,
    MOBILE_PREFIXES,
    REGION,
    RELIGIONS,
    TWIN_PAIRS,
)
from popdb.synthetic.variants import _ascii


@dataclass(slots=True)
class _Household:
    hid: int
    commune: Commune
    old: OldCommune
    line: str
    ethnicity: str
    religion: str
    head: Person | None = None


@dataclass(slots=True)
class Person:
    truth: PersonTruth
    household: _Household
    sex: int
    family: str
    middle: str
    given: str
    given_first: bool
    year: int
    month: int
    day: int
    date_known: bool
    pin: str
    cmnd: str | None
    birth_reg: OldCommune
    hometown: OldCommune
    father_name: str | None
    mother_name: str | None
    father_pin: str | None = None
    mother_pin: str | None = None
    spouse: Person | None = None
    relation: str = "Chủ hộ"
    marital: str | None = None
    phone: str | None = None
    email: str | None = None
    alias: str | None = None

    @property
    def full_name(self) -> str:
        return self.truth.full_name


def _full_name(family: str, middle: str, given: str, given_first: bool) -> str:
    parts = (middle, given, family) if given_first else (family, middle, given)
    return " ".join(p for p in parts if p)


def _mix(key: str, *parts: object) -> int:
    """A stable 32-bit hash (Python's hash() of str changes per process)."""
    return zlib.crc32(":".join(map(str, (key, *parts))).encode())


def permute(x: int, keys: tuple[int, ...], half: int) -> int:
    """A Feistel permutation of [0, half**2): unique, random-looking numbers from a counter."""
    left, right = divmod(x, half)
    for k in keys:
        left, right = right, (left + (right * 2_654_435_761 + k) % 1_000_003) % half
    return left * half + right


class _Donor(NamedTuple):
    """What a later person may copy from an earlier adult: the name (namesakes), the CMND."""

    truth_id: str
    sex: int
    year: int
    family: str
    middle: str
    given: str
    given_first: bool
    ethnicity: str
    household_id: int
    cmnd: str | None


@dataclass(frozen=True, slots=True)
class _Scheme:
    family: Weighted
    middle: tuple[Weighted | None, ...]  # per birth-year era; None: no middle name
    given: Weighted
    prefix: Weighted | None  # Y / H' (Ê Đê, Gia Rai)
    given_first: bool


class Population:
    """Households and their members, one household at a time (streaming)."""

    def __init__(self, seed: int, config: SyntheticConfig) -> None:
        self.seed = seed
        self.config = config
        self.rng = FastRandom(seed)
        self.names = _names()
        self.geo = _geo()
        self.pool = self._pool(config.communes)
        self.as_of = config.as_of
        self.latest_birth = config.as_of - timedelta(days=61)
        self.next_person = 0
        self.next_household = 0
        self.next_twin = 0
        self.pin_counters: dict[str, list[int]] = {}
        self.pin_prefixes: dict[tuple[str, int, int], str] = {}
        # Recent adults, nationwide and per commune: namesake and CMND donors. Bounded rings
        # of small tuples, so memory does not grow with the population.
        self.recent: list[_Donor] = []
        self.recent_here: dict[str, list[_Donor]] = {}
        self.mix = {region: Weighted(pairs) for region, pairs in MIX.items()}
        self.religion = {eth: Weighted(pairs) for eth, pairs in RELIGIONS.items()}
        self.marital = {k: Weighted(v) for k, v in MARITAL.items()}
        self.schemes: dict[tuple[str, int], _Scheme] = {}

    def _pool(self, communes: int | tuple[str, ...]) -> tuple[Commune, ...]:
        geo = self.geo
        if isinstance(communes, int):
            codes = sorted(geo.communes)
            picker = random.Random(f"communes:{self.seed}")
            return tuple(geo.communes[c] for c in picker.sample(codes, min(communes, len(codes))))
        unknown = [c for c in communes if c not in geo.communes]
        if unknown or not communes:
            raise ValueError(f"not communes of the 2025-07 list (with predecessors): {unknown}")
        return tuple(geo.communes[c] for c in communes)

    # --- names ---

    def _scheme(self, ethnicity: str, sex: int) -> _Scheme:
        """How people of `ethnicity` and `sex` are named: their people's lists where we have
        them, the Kinh lists otherwise (looked up once per pair)."""
        found = self.schemes.get((ethnicity, sex))
        if found is None:
            m = self.names.minority
            own_given = m.get((ethnicity, "given", sex))
            own_middle = m.get((ethnicity, "middle", sex))
            if own_middle is not None:
                middle: tuple[Weighted | None, ...] = (own_middle,) * len(ERA_FACTOR)
            elif own_given is not None:
                middle = (None,) * len(ERA_FACTOR)  # no middle name (Ê Đê, Gia Rai, ...)
            else:
                middle = tuple(self.names.middle[sex, era] for era in range(len(ERA_FACTOR)))
            found = _Scheme(
                family=m.get((ethnicity, "family", sex)) or self.names.family,
                middle=middle,
                given=own_given or self.names.given[sex],
                prefix=m.get((ethnicity, "prefix", sex)),
                given_first=ethnicity in GIVEN_FIRST,
            )
            self.schemes[ethnicity, sex] = found
        return found

    def _name(
        self, sex: int, year: int, ethnicity: str, family: str | None = None
    ) -> tuple[str, str, str, bool]:
        """(family, middle, given, given_first) of a new person."""
        rnd = self.rng.random
        scheme = self._scheme(ethnicity, sex)
        if family is None:
            family = scheme.family.pick(rnd)
        middle_pick = scheme.middle[_era(year)]
        middle = middle_pick.pick(rnd) if middle_pick is not None else ""
        given = scheme.given.pick(rnd)
        if scheme.prefix is not None:
            p = scheme.prefix.pick(rnd)
            if p.endswith("'"):
                given = p + given  # H'Hen: glued to the given name
            else:
                middle = p  # Y Moan: a word of its own
        if sex == 2 and family == "Tôn Thất" and rnd() < 0.7:
            family = "Tôn Nữ"
        elif sex == 2 and family == "Nguyễn Phước" and rnd() < 0.3:
            family = "Công Tằng Tôn Nữ"
        return family, middle, given, scheme.given_first

    def _parents(self, family: str, year: int, ethnicity: str, avoid: str) -> tuple[str, str]:
        """Full names of the parents of someone (whose parents are not generated as persons)
        born in `year` with `family`: the family name comes down the father's line, the
        mother's for matrilineal peoples. The father is not given the child's own name."""
        rng = self.rng
        parents_year = year - rng.randint(20, 38)
        mat = ethnicity in MATRILINEAL
        line = MALE_LINE.get(family, family)
        father = avoid
        for _ in range(5):
            father = _full_name(*self._name(1, parents_year, ethnicity, None if mat else line))
            if father != avoid:
                break
        mother_year = parents_year + rng.randint(-2, 6)
        mother = _full_name(*self._name(2, mother_year, ethnicity, family if mat else None))
        return father, mother

    # --- numbers ---

    def _pin(self, place: str, sex: int, year: int) -> str:
        """A unique PIN: `generate_pin`'s prefix, then a per-prefix counter through a Feistel
        permutation, so numbers never repeat and still look random."""
        prefix = self.pin_prefixes.get((place, sex, year))
        if prefix is None:  # generate_pin keeps the layout rules; the tail is ours
            prefix = generate_pin(place_code=place, sex=sex, birth_year=year, rng=self.rng)[:6]
            self.pin_prefixes[place, sex, year] = prefix
        state = self.pin_counters.get(prefix)
        if state is None:
            h = _mix("pin", self.seed, prefix)
            state = [0, h & 0xFFFF, (h >> 16) & 0xFFFF, _mix("pin2", h) & 0xFFFF]
            self.pin_counters[prefix] = state
        if state[0] >= 1_000_000:
            raise ValueError(f"more than a million people share the PIN prefix {prefix}")
        tail = permute(state[0], tuple(state[1:]), 1000)
        state[0] += 1
        return f"{prefix}{tail:06d}"

    def _cmnd(self, province: str) -> str:
        rnd = self.rng.random
        if self.recent and rnd() < 0.002:  # numbers are not unique: one issued twice
            donor = self.rng.choice(self.recent)
            if donor.cmnd:
                return donor.cmnd
        if province in ("75", "77") and rnd() < 0.01:
            return str(self.rng.randint(*CMND_TWICE))
        prefix = CMND_PREFIX.get(province, "0" + province[:1])
        return prefix + f"{self.rng.randrange(10 ** (9 - len(prefix))):0{9 - len(prefix)}d}"

    def _phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**7):07d}"

    # --- people ---

    def _birth(self, year: int) -> tuple[int, int, int, bool]:
        """A real date in `year` (not after `latest_birth`) and whether the person knows it."""
        rng = self.rng
        last = self.latest_birth
        while True:
            month, day = rng.randint(1, 12), rng.randint(1, 28 if rng.random() < 0.1 else 31)
            try:
                when = date(year, month, day)
            except ValueError:
                continue
            if when <= last:
                break
            year -= 1  # a birth after the cut-off moves back a year
        unknown = 0.25 if year < 1960 else 0.05 if year < 1976 else 0.005
        return year, month, day, rng.random() >= unknown

    def _person(
        self,
        household: _Household,
        *,
        sex: int,
        year: int,
        name: tuple[str, str, str, bool],
        birth_reg: OldCommune,
        hometown: OldCommune,
        father_name: str | None,
        mother_name: str | None,
        relation: str,
        birth: tuple[int, int, int, bool] | None = None,
        twin_group: int | None = None,
        namesake_of: str | None = None,
    ) -> Person:
        rng = self.rng
        y, month, day, known = birth or self._birth(year)
        family, middle, given, given_first = name
        pin = self._pin("0" + birth_reg.province_code, sex, y)
        cmnd = None
        if y <= 2002 and rng.random() < 0.85:
            where = birth_reg if rng.random() < 0.7 else household.old
            cmnd = self._cmnd(where.province_code)
        truth = PersonTruth(
            truth_id=f"P{self.next_person:08d}",
            household_id=household.hid,
            sex=sex,
            family=family,
            middle=middle,
            given=given,
            full_name=_full_name(family, middle, given, given_first),
            year=y,
            month=month,
            day=day,
            date_known=known,
            pin=pin,
            cmnd=cmnd,
            ethnicity=household.ethnicity,
            commune_code=household.commune.code,
            father_name=father_name,
            mother_name=mother_name,
            twin_group=twin_group,
            namesake_of=namesake_of,
        )
        self.next_person += 1
        age = self.as_of.year - y
        person = Person(
            truth=truth, household=household, sex=sex, family=family, middle=middle, given=given,
            given_first=given_first, year=y, month=month, day=day, date_known=known, pin=pin,
            cmnd=cmnd, birth_reg=birth_reg, hometown=hometown, father_name=father_name,
            mother_name=mother_name, relation=relation,
        )  # fmt: skip
        if 15 <= age <= 75 and rng.random() < 0.75:
            person.phone = self._phone()
        if 15 <= age <= 50 and rng.random() < 0.06:
            local = _ascii(given + family).lower().replace(" ", "").replace("'", "")
            person.email = f"{local}{rng.randint(1, 99)}@gmail.com"
        if rng.random() < 0.03:
            person.alias = rng.choice(ALIASES)
        if age >= 18:
            donor = _Donor(
                truth.truth_id, sex, y, family, middle, given, given_first,
                household.ethnicity, household.hid, cmnd,
            )  # fmt: skip
            self.recent.append(donor)
            if len(self.recent) > 4096:
                del self.recent[:1024]
            here = self.recent_here.setdefault(household.commune.code, [])
            here.append(donor)
            if len(here) > 48:
                del here[:16]
        return person

    def _origin(self, home: OldCommune) -> tuple[OldCommune, OldCommune]:
        """(birth registration, hometown) of an adult whose parents are not in the data."""
        rng = self.rng
        geo = self.geo
        if rng.random() < 0.72:
            same = geo.old_by_province[home.province_code]
            birth = home if rng.random() < 0.5 else geo.old[rng.choice(same)]
        else:
            birth = geo.old[rng.choice(geo.old_codes)]
        if rng.random() < 0.7:
            hometown = birth
        else:
            hometown = geo.old[rng.choice(geo.old_by_province[birth.province_code])]
        return birth, hometown

    def _adult(
        self, household: _Household, sex: int, year: int, relation: str,
        family: str | None = None, namesake: bool = True,
    ) -> Person:  # fmt: skip
        """An adult whose parents are not generated as persons (only their names)."""
        rng = self.rng
        eth = household.ethnicity
        birth_reg, hometown = self._origin(household.old)
        name = self._name(sex, year, eth, family)
        donor = None
        if namesake and self.recent and rng.random() < self.config.namesake_rate:
            donor = self._namesake_donor(sex, household)
        birth = None
        if donor is not None:
            name = (donor.family, donor.middle, donor.given, donor.given_first)
            birth = self._birth(donor.year)
            year = birth[0]
        father, mother = self._parents(name[0], year, eth, _full_name(*name))
        return self._person(
            household, sex=sex, year=year, name=name, birth_reg=birth_reg, hometown=hometown,
            father_name=father, mother_name=mother, relation=relation, birth=birth,
            namesake_of=donor.truth_id if donor is not None else None,
        )  # fmt: skip

    def _namesake_donor(self, sex: int, household: _Household) -> _Donor | None:
        """A recent adult of the same sex and people, in the same commune half of the time."""
        rng = self.rng
        pool = self.recent
        if rng.random() < 0.5:
            pool = self.recent_here.get(household.commune.code) or pool
        for _ in range(12):
            donor = rng.choice(pool)
            if (donor.sex, donor.ethnicity) == (sex, household.ethnicity) and (
                donor.household_id != household.hid
            ):
                return donor
        return None

    def household(self) -> list[Person]:
        """A new household's members, head first."""
        rng = self.rng
        rnd = rng.random
        geo = self.geo
        commune = rng.choice(self.pool)
        old = geo.old[rng.choice(commune.predecessors)]
        region = REGION.get(commune.province_code, "default")
        eth = self.mix[region].pick(rnd)
        rel = self.religion.get(
            eth, self.religion["other"] if eth != "Kinh" else self.religion["Kinh"]
        )
        line = (
            street_line(commune.province_code, geo.streets, rng)
            if commune.urban and rnd() < 0.9
            else hamlet(commune.province_code, rng)
        )
        h = _Household(self.next_household, commune, old, line, eth, rel.pick(rnd))
        self.next_household += 1
        year_now = self.as_of.year
        kind = rnd()
        members: list[Person] = []
        if kind < 0.12:  # one adult
            sex = 1 if rnd() < 0.5 else 2
            age = rng.randint(18, 92)
            head = self._adult(h, sex, year_now - age, "Chủ hộ")
            status = "single" if age < 45 and rnd() < 0.9 else "widowed" if age > 60 else "divorced"
            head.marital = self.marital[status].pick(rnd)
            h.head = head
            return [head]
        father_year = year_now - min(95, max(20, int(rng.triangular(20, 90, 38))))
        mother_year = min(year_now - 18, father_year + rng.randint(-2, 7))
        three_gen = kind > 0.85 and year_now - father_year < 60
        single_mother = 0.12 <= kind < 0.18
        father = None
        if not single_mother:
            father = self._adult(h, 1, father_year, "Chủ hộ")
        mother = self._adult(h, 2, mother_year, "Chủ hộ" if father is None else "Vợ")
        head = father or mother
        h.head = head
        if father is not None:
            if not three_gen and rnd() < 0.12:  # the wife is the registered head
                father.relation, mother.relation = "Chồng", "Chủ hộ"
                h.head = mother
            father.spouse, mother.spouse = mother, father
            father.marital = mother.marital = self.marital["married"].pick(rnd)
            members.append(father)
        else:
            mother.marital = self.marital["divorced" if rnd() < 0.5 else "widowed"].pick(rnd)
        members.append(mother)
        if three_gen and father is not None:
            # The head's parents live with them (the wife's, among matrilineal peoples).
            child = mother if eth in MATRILINEAL else father
            gp_year = child.year - rng.randint(20, 36)
            if year_now - gp_year <= 100:
                grandfather = None
                if rnd() < 0.6:
                    grandfather = self._grandparent(h, child, 1, gp_year)
                    members.append(grandfather)
                if rnd() < 0.8:
                    grandmother = self._grandparent(h, child, 2, gp_year + rng.randint(-1, 5))
                    if grandfather is not None:
                        grandfather.spouse, grandmother.spouse = grandmother, grandfather
                        grandfather.marital = grandmother.marital = self.marital["married"].pick(
                            rnd
                        )
                    members.append(grandmother)
        if kind < 0.24 and not single_mother:
            return self._ordered(h, members)  # a couple without children (yet)
        n_children = 1 + bisect_right((0.3, 0.75, 0.93), rnd())
        members += self._children(h, father, mother, n_children)
        return self._ordered(h, members)

    def _ordered(self, h: _Household, members: list[Person]) -> list[Person]:
        assert h.head is not None
        return [h.head, *(m for m in members if m is not h.head)]

    def _grandparent(self, h: _Household, child: Person, sex: int, year: int) -> Person:
        """A parent of `child` (the head, or his wife among matrilineal peoples) who lives with
        the household; the child's record then names them."""
        rng = self.rng
        line_sex = 2 if h.ethnicity in MATRILINEAL else 1
        family = MALE_LINE.get(child.family, child.family) if sex == line_sex else None
        name = self._name(sex, year, h.ethnicity, family)
        full = _full_name(*name)
        if sex == 1:
            child.father_name = full
            child.truth = child.truth._replace(father_name=full)
        else:
            child.mother_name = full
            child.truth = child.truth._replace(mother_name=full)
        birth_reg, hometown = self._origin(child.birth_reg)
        father, mother = self._parents(name[0], year, h.ethnicity, full)
        gp = self._person(
            h, sex=sex, year=year, name=name, birth_reg=birth_reg, hometown=hometown,
            father_name=father, mother_name=mother,
            relation=(rng.choice(("Bố", "Cha")) if sex == 1 else "Mẹ")
            + ("" if child is h.head else " vợ" if child.sex == 2 else " chồng"),
        )  # fmt: skip
        if sex == 1:
            child.father_pin = gp.pin
        else:
            child.mother_pin = gp.pin
        gp.marital = self.marital["widowed"].pick(rng.random)
        return gp

    def _children(
        self, h: _Household, father: Person | None, mother: Person, n: int
    ) -> list[Person]:
        rng = self.rng
        rnd = rng.random
        year_now = self.as_of.year
        year = mother.year + rng.randint(19, 27)
        if father is not None:
            year = max(year, father.year + rng.randint(20, 24))
        children: list[Person] = []
        line_parent = mother if (father is None or h.ethnicity in MATRILINEAL) else father
        used = {mother.given, *((father.given,) if father is not None else ())}
        for _ in range(n):
            if year > self.latest_birth.year or year - mother.year > 44:
                break
            twins = rnd() < self.config.twin_rate
            sexes = [1 if rnd() < 0.51 else 2]
            if twins:
                sexes.append(sexes[0] if rnd() < 0.65 else 3 - sexes[0])
            group = None
            if twins:
                group = self.next_twin
                self.next_twin += 1
            birth = self._birth(year)
            # Twins are often given a pair of names (Long and Phụng, Phúc and Lộc).
            pair = rng.choice(TWIN_PAIRS) if twins and rnd() < 0.3 else None
            if pair is not None and not all(
                (h.ethnicity, "given", sex) not in self.names.minority
                and name in self.names.given[sex].items
                for name, sex in zip(pair, sexes, strict=True)
            ):
                pair = None
            family = MALE_LINE.get(line_parent.family, line_parent.family)
            first_name: tuple[str, str, str, bool] | None = None
            for k, sex in enumerate(sexes):
                name = self._name(sex, year, h.ethnicity, family)
                if pair is not None:
                    name = (name[0], name[1], pair[k], name[3])
                elif first_name is not None and sex == sexes[0]:
                    name = (name[0], first_name[1], name[2], name[3])  # twins: same middle name
                for _ in range(20):  # siblings (twins too) and parents never share a given name
                    if name[2] not in used:
                        break
                    name = (
                        name[0],
                        name[1],
                        self._name(sex, year, h.ethnicity, family)[2],
                        name[3],
                    )
                used.add(name[2])
                first_name = first_name or name
                birth_reg = h.old if birth[0] >= 2000 or rnd() < 0.8 else mother.birth_reg
                hometown = (father or mother).hometown
                child = self._person(
                    h, sex=sex, year=year, name=name, birth_reg=birth_reg, hometown=hometown,
                    father_name=father.full_name if father is not None else None,
                    mother_name=mother.full_name, relation="Con", birth=birth, twin_group=group,
                )  # fmt: skip
                child.father_pin = father.pin if father is not None else None
                child.mother_pin = mother.pin
                age = year_now - child.year
                if age >= 18:
                    child.marital = self.marital["single"].pick(rnd)
                children.append(child)
            year += rng.randint(1, 6)
        return children
