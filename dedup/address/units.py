"""A key resolved to the official units of a vintage, and carried over the 2025 reform."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from dedup.address.gazetteer import strip_type
from dedup.address.keys import address_key, cached_piece, province_form
from dedup.address.parts import address_components, address_parts, component_kind, leading_type
from dedup.address.vocabulary import COMMUNE_TYPES, DISTRICT_TYPES, ROMAN, TYPE_WORDS
from popdb.core.admin_units import VINTAGES, UnitRow, Vintage, read_old_to_new, read_units
from popdb.core.text import fold


@dataclass(frozen=True)
class ResolvedUnits:
    """Official units an address names, in one vintage. `approximate` is True when some level
    matched only without diacritics, by initials ("Q.TB"), by the s/x spelling variant
    ("Sà Phìn"/"Xà Phìn") or under another unit type (a huyện since made a thị xã).

    `via` is the list the names were matched in when it is not `vintage`: a pre-2025 address
    on a 2025-07 record is matched in 2025-01 and carried over by the official conversion
    table, only where that old unit went whole into one new unit."""

    vintage: str
    province: UnitRow
    district: UnitRow | None
    commune: UnitRow | None
    approximate: bool
    via: str | None = None


@dataclass(frozen=True)
class _Named:
    row: UnitRow
    kind: str  # unit type: "phường", "huyện", ...
    name: str  # name key: canonical, numbers unpadded, lone Roman numeral as a number
    folded: str  # ASCII fold of the name, no spaces
    variant: str  # the name with word-initial s -> x ("sà phìn" -> "xà phìn")
    variant_folded: str  # the same, folded
    initials: str


@dataclass(frozen=True)
class _Index:
    vintage: Vintage
    provinces: dict[str, UnitRow]  # key form -> province
    province_by_code: dict[str, UnitRow]
    districts: dict[str, list[_Named]]  # province code -> its districts
    all_districts: list[_Named]
    communes: dict[str, list[_Named]]  # district code (or province code) -> its communes
    province_communes: dict[str, list[_Named]]  # province code -> all its communes
    commune_by_code: dict[str, UnitRow]


def _name_key(words: Sequence[str]) -> str:
    name = " ".join(words)
    return ROMAN.get(name, name)


def _variant(folded: str) -> str:
    return re.sub(r"(?:^|(?<= ))s", "x", folded)


def _named(row: UnitRow, types: frozenset[str]) -> _Named:
    comp = " ".join(cached_piece(row.name))
    kind, name = strip_type(comp, types)
    key = _name_key(name.split(" "))
    folded = fold(key) or key
    initials = "".join(w[0] for w in folded.split(" ") if w and not w[0].isdigit())
    return _Named(
        row, kind or "", key, folded.replace(" ", ""), _variant(key), _variant(folded), initials
    )


@cache
def _index(vintage_key: str) -> _Index:
    """The official units of one vintage, keyed the way `address_key` writes them."""
    vintage = next((v for v in VINTAGES if v.key == vintage_key), None)
    if vintage is None:
        raise ValueError(f"unknown vintage {vintage_key!r}; known: {[v.key for v in VINTAGES]}")
    provinces: dict[str, UnitRow] = {}
    by_code: dict[str, UnitRow] = {}
    districts: dict[str, list[_Named]] = {}
    all_districts: list[_Named] = []
    communes: dict[str, list[_Named]] = {}
    province_communes: dict[str, list[_Named]] = {}
    commune_by_code: dict[str, UnitRow] = {}
    for row in read_units(vintage):
        if row.level == "province":
            provinces[province_form(" ".join(cached_piece(row.name)))] = row
            by_code[row.code] = row
        elif row.level == "district":
            named = _named(row, DISTRICT_TYPES)
            districts.setdefault(row.province_code, []).append(named)
            all_districts.append(named)
        else:
            named = _named(row, COMMUNE_TYPES)
            commune_by_code[row.code] = row
            communes.setdefault(row.parent_code or "", []).append(named)
            province_communes.setdefault(row.province_code, []).append(named)
    return _Index(vintage, provinces, by_code, districts, all_districts, communes,
                  province_communes, commune_by_code)  # fmt: skip


def _unique(found: Iterable[_Named]) -> _Named | None:
    rows = {n.row.code: n for n in found}
    return next(iter(rows.values())) if len(rows) == 1 else None


def _match(
    component: str, pool: Sequence[_Named], *, initials: bool = False, literal: bool = False
) -> tuple[_Named | None, bool]:
    """The one unit of `pool` that `component` names, and whether the match is approximate.

    Levels, in order; the first that finds anything decides, and more than one candidate
    there is no match at all:
    1. the exact name (written with diacritics), same unit type first, then any type of the
       level (units get upgraded: huyện -> thị xã, xã -> phường);
    2. the ASCII fold, for names written without diacritics ("Xa Ngu Hiep"). An ASCII type
       word may also be part of the name ("Phuong Mai"): both readings are tried together;
    3. the s/x spelling variant at the start of a word ("Sà Phìn" for Xà Phìn);
    4. for districts within a known province, initials ("Q.TB" for Quận Tân Bình).

    `literal`: the address is written with diacritics, so a name without any is meant as
    written ("Xã Ia Bang", not "Xã Ia Băng") and is tried at level 1 too.
    """
    words = component.split(" ")
    kind, rest, ascii_type = leading_type(words, strict=False)
    readings = [(kind, _name_key(rest))]
    if kind is None or ascii_type:
        readings.append((None, _name_key(words)))
    exact = [
        (k, n)
        for k, name in readings
        if literal or not name.isascii()
        for n in pool
        if n.name == name
    ]
    if exact:
        same = [n for k, n in exact if k is None or n.kind == k]
        if same:
            return _unique(same), False
        return _unique(n for _, n in exact), True
    folded = [(k, n) for k, name in readings if name.isascii()
              for n in pool if n.folded == name.replace(" ", "")]  # fmt: skip
    if folded:
        same = [n for k, n in folded if k is None or n.kind == k]
        return _unique(same or [n for _, n in folded]), True
    # Word-initial s/x (southern speech merges them); other letters and marks as written.
    variant = [
        n
        for _, name in readings
        for n in pool
        if (n.variant_folded if name.isascii() else n.variant) == _variant(name)
    ]
    if variant:
        return _unique(variant), True
    name = _name_key(rest)
    if initials and re.fullmatch(r"[a-z]{2,4}", name):
        return _unique(n for n in pool if n.initials == name), True
    return None, False


@lru_cache(maxsize=1 << 16)
def _resolve(key: str, vintage_key: str) -> ResolvedUnits | None:
    idx = _index(vintage_key)
    parts = address_parts(key)
    # Written with diacritics if any name word (not a type word, not the province, whose
    # form the key restores) has them.
    named = [w for c in address_components(key) if c != parts.province for w in c.split(" ")]
    literal = any(not w.isascii() for w in named if w not in TYPE_WORDS)
    approximate = d_approx = False
    province: UnitRow | None = None
    district: UnitRow | None = None
    commune: UnitRow | None = None
    if not idx.vintage.has_districts and (
        parts.district is not None
        or (parts.province is not None and parts.province not in idx.provinces)
    ):
        # A pre-2025 address (a district, or a province merged away) on a two-tier record.
        return _carried_over(_resolve(key, _LEGACY), vintage_key)
    if parts.province is not None:
        province = idx.provinces.get(parts.province)
        if province is None:
            return None  # a province this vintage does not have
    if parts.district is not None:
        pool = idx.districts.get(province.code, []) if province else idx.all_districts
        found, approx = _match(parts.district, pool, initials=province is not None, literal=literal)
        if found is None:
            return ResolvedUnits(vintage_key, province, None, None, False) if province else None
        district, approximate = found.row, approx
        province = idx.province_by_code[district.province_code]
    if province is None:
        return None  # a commune name alone is ambiguous ("Xã Tân Thành")
    if parts.commune is not None:
        parent = district.code if district else province.code
        pool = (
            idx.communes.get(parent, [])
            if district or not idx.vintage.has_districts
            else idx.province_communes.get(province.code, [])
        )
        found, approx = _match(parts.commune, pool, literal=literal)
        as_district: _Named | None = None
        if (
            district is None
            and idx.vintage.has_districts
            and component_kind(parts.commune) == "name"
        ):
            # "12 Lê Lợi, Ba Đình, Hà Nội": an untyped name may be the district.
            as_district, d_approx = _match(
                parts.commune, idx.districts.get(province.code, []), literal=literal
            )
        if found is not None and as_district is None:
            commune, approximate = found.row, approximate or approx
        elif as_district is not None and found is None:
            district, approximate = as_district.row, approximate or d_approx
    return ResolvedUnits(vintage_key, province, district, commune, approximate)


#: The last list with districts: what a pre-2025 address on a 2025-07 record is matched in.
_LEGACY = next(v.key for v in reversed(VINTAGES) if v.has_districts)


def _unit_code(cell: str | None) -> str | None:
    """ "Tỉnh Bình Phước (70)" -> "70"."""
    found = re.search(r"\((\d+)\)\s*$", cell or "")
    return found.group(1) if found else None


@cache
def _conversion() -> tuple[dict[str, str], dict[str, str]]:
    """Old commune code -> new commune code and old province code -> new province code, from
    the 1 July 2025 conversion table, for the old units that went whole into one new unit
    (a commune split between several, or merged only in part, has no entry; nor has Tiền
    Giang, which the table splits between two provinces)."""
    communes: dict[str, set[str]] = {}
    provinces: dict[str, set[str]] = {}
    for change in read_old_to_new():
        if change.old_code:
            # "Nhập một phần": only part of it went there, even when no other part is listed.
            partial = "một phần" in (change.note or "")
            communes.setdefault(change.old_code, set()).add("" if partial else change.new_code)
        old, new = _unit_code(change.old_province), _unit_code(change.new_province)
        if old and new:
            provinces.setdefault(old, set()).add(new)
    return (
        {old: next(iter(new)) for old, new in communes.items() if len(new) == 1 and "" not in new},
        {old: next(iter(new)) for old, new in provinces.items() if len(new) == 1},
    )


def _carried_over(old: ResolvedUnits | None, vintage_key: str) -> ResolvedUnits | None:
    """Units resolved in the last pre-2025 list, carried over to `vintage_key` (2025-07)."""
    if old is None:
        return None
    idx = _index(vintage_key)
    communes, provinces = _conversion()
    commune = idx.commune_by_code.get(communes.get(old.commune.code, "")) if old.commune else None
    if commune is not None:
        province: UnitRow | None = idx.province_by_code[commune.province_code]
    else:
        province = idx.province_by_code.get(provinces.get(old.province.code, ""))
    if province is None:
        return None
    return ResolvedUnits(vintage_key, province, None, commune, old.approximate, via=old.vintage)


def resolve_units(text: str | None, vintage: str | Vintage) -> ResolvedUnits | None:
    """The official province, district and commune an address names in `vintage` (a commune
    code means nothing without one), matched by name against the shipped lists; None when
    not even the province is certain. Conservative on purpose: a level is filled only when
    exactly one official unit fits, and a commune is never guessed without its province or
    district (there are dozens of "Xã Tân Thành"). A pre-2025 address on a 2025-07 record
    is carried over by the conversion table (see `ResolvedUnits.via`). Accepts raw text or a
    key."""
    key = address_key(text)
    if key is None:
        return None
    return _resolve(key, vintage.key if isinstance(vintage, Vintage) else vintage)
