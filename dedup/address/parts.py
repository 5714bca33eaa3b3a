"""What a key's components are: house number and street, place, commune, district, province."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from dedup.address.gazetteer import gazetteer_index
from dedup.address.keys import unit_words
from dedup.address.vocabulary import (
    ADMIN_TYPES,
    ASCII_ADMIN,
    COMMUNE_TYPES,
    DISTRICT_TYPES,
    NUMBERED,
    PLACE_TYPES,
    SEPARATOR,
    is_number,
)
from popdb.core.text import fold


def address_components(key: str | None) -> tuple[str, ...]:
    """The components of a key, most specific first (house and street ... province)."""
    return tuple(key.split(SEPARATOR)) if key else ()


@lru_cache(maxsize=1 << 16)
def address_fold(key: str | None) -> str | None:
    """ASCII fold of a key, component by component (`popdb.core.text.fold`), for diacritic-less
    input ("Xa Ngu Hiep, H. Thanh Tri, Ha Noi"). Collides by design (Tân Thành/Tân Thạnh):
    for blocking and weak evidence, never an exact match by itself."""
    if not key:
        return None
    parts = (fold(c) for c in key.split(SEPARATOR))
    return SEPARATOR.join(p for p in parts if p) or None


@lru_cache(maxsize=1 << 16)
def address_tokens(key: str | None) -> frozenset[str]:
    """Tokens of a key for a token-set comparison. Type words are dropped ("phường", "đường":
    they say nothing about *which* place) except before a number, where the number is bound
    to its type ("phường 15", "ngõ 5"), so "Phường 1, Quận 15" and "Phường 15, Quận 1" share
    no numbered token. Dashed names are split ("phan rang-tháp chàm"); house numbers stay."""
    tokens: set[str] = set()
    for comp in address_components(key):
        units = unit_words(comp.split(" "))
        for i, unit in enumerate(units):
            typed = unit in NUMBERED
            if typed:
                if i + 1 < len(units) and is_number(units[i + 1]):
                    tokens.add(f"{unit} {units[i + 1]}")
                continue
            if is_number(unit) and i > 0 and units[i - 1] in NUMBERED:
                continue  # bound to its type above
            if "-" in unit and not unit[:1].isdigit():
                tokens.update(p for p in unit.split("-") if p)
            else:
                tokens.add(unit)
    return frozenset(tokens)


@dataclass(frozen=True)
class AddressParts:
    """A key split into street (everything below the commune), commune, district and province
    components; None where the key does not say. A heuristic over component types and
    positions, not a lookup: see `resolve_units` for official units."""

    street: str | None
    commune: str | None
    district: str | None
    province: str | None


def leading_type(
    words: Sequence[str], *, strict: bool = True
) -> tuple[str | None, list[str], bool]:
    """(admin type, name words, typed-without-diacritics) of a component. An ASCII type word
    counts, when `strict`, only before a number or a name of two or more words: "Quan Hoa"
    is Phường Quan Hoa, not a district "Hoa"."""
    units = unit_words(words[:3])
    if not units:
        return None, list(words), False
    head = units[0]
    width = len(head.split(" "))
    rest = list(words[width:])
    if head in ADMIN_TYPES and rest:
        return head, rest, False
    ascii_ok = rest and (not strict or len(rest) >= 2 or is_number(rest[0]))
    if head in ASCII_ADMIN and ascii_ok:
        return ASCII_ADMIN[head], rest, True
    return None, list(words), False


def component_kind(component: str) -> str:
    """ "province", "district", "commune", "street" or "name" (untyped)."""
    if component in gazetteer_index().provinces:
        return "province"
    words = component.split(" ")
    kind, _, _ = leading_type(words)
    if kind in COMMUNE_TYPES:
        return "commune"
    if kind in DISTRICT_TYPES:
        return "district"
    if kind == "tỉnh":
        return "province"
    if words[0][:1].isdigit() or unit_words(words[:3])[0] in PLACE_TYPES:
        return "street"
    return "name"


@lru_cache(maxsize=1 << 16)
def address_parts(key: str | None) -> AddressParts:
    """Split a key into street, commune, district and province, reading from the end.

    Typed components ("phường ...", "quận ...") go where their type says. An untyped one is a
    district when it sits between a province and an untyped or commune component ("Phúc Xá,
    Ba Đình, Hà Nội"; "Phường Yên Hòa, Cầu Giấy"), else a commune when a province or district
    follows it; components that fit nowhere stay in the street part.
    """
    comps = list(address_components(key))
    kinds = [component_kind(c) for c in comps]
    province = district = commune = None
    end = len(comps)
    if comps and kinds[-1] == "province":
        province = comps[-1]
        end -= 1
    i = end - 1
    while i >= 0:
        kind, left = kinds[i], kinds[i - 1] if i > 0 else None
        if kind == "district" and district is None and commune is None:
            district = comps[i]
        elif kind == "commune":
            commune = comps[i]
            i -= 1
            break
        elif (
            kind == "name"
            and district is None
            and commune is None
            and (left == "commune" or (province is not None and left == "name"))
        ):
            district = comps[i]
        elif kind == "name" and (province is not None or district is not None):
            commune = comps[i]
            i -= 1
            break
        else:
            break
        i -= 1
    street = SEPARATOR.join(comps[: i + 1]) or None
    return AddressParts(street, commune, district, province)
