"""What address keys need from the official unit lists: unit names without their type,
province forms, read once."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from dedup.address.vocabulary import ADMIN_TYPES, PROVINCE_ALIASES, PROVINCE_TYPES
from popdb.core.admin_units import VINTAGES, read_units
from popdb.core.text import canonical, fold


@dataclass(frozen=True)
class _Gazetteer:
    forms: dict[str, str]  # canonical province name or alias -> key form
    provinces: frozenset[str]  # the key forms
    folds: dict[str, str]  # ASCII fold without spaces/dashes -> key form (unique folds only)
    central: frozenset[str]  # key forms of centrally-run cities ("thành phố" is the province)
    dashed: re.Pattern[str]  # official names written with a dash: "Bà Rịa - Vũng Tàu"


def strip_type(name: str, types: Iterable[str]) -> tuple[str | None, str]:
    for t in sorted(types, key=len, reverse=True):
        if name.startswith(t + " "):
            return t, name[len(t) + 1 :]
    return None, name


def undash(text: str) -> str:
    return re.sub(r"\s*-\s*", "-", text)


@cache
def gazetteer_index() -> _Gazetteer:
    """Province names and dashed names of every shipped vintage, loaded once: the key must know
    "Hà Nội" is a province and that "Văn Miếu - Quốc Tử Giám" is one name, not two parts."""
    forms: dict[str, str] = {}
    central: set[str] = set()
    dashed: set[tuple[str, str]] = {("thừa thiên", "huế")}
    for vintage in VINTAGES:
        for row in read_units(vintage):
            if row.level != "province" and "-" not in row.name:
                continue
            name = canonical(row.name) or ""
            if row.level == "province":
                kind, bare = strip_type(name, PROVINCE_TYPES)
                form = undash(bare)
                forms[bare] = forms[form] = form
                if kind == "thành phố":
                    central.add(form)
            if "-" in name:
                _, bare = strip_type(name, ADMIN_TYPES)
                left, _, right = bare.partition("-")
                dashed.add((left.strip(), right.strip()))
    for alias, form in PROVINCE_ALIASES.items():
        forms[alias] = form
    central.add("huế")  # a centrally-run city since 2025; "Thành phố Huế" is that province
    folds: dict[str, str] = {}
    clash: set[str] = set()
    for name, form in forms.items():
        f = (fold(name) or "").replace(" ", "").replace("-", "")
        if folds.get(f, form) != form:
            clash.add(f)
        folds[f] = form
    for f in clash:
        del folds[f]
    alternatives = sorted(
        {
            rf"{re.escape(a)}\s*-\s*{re.escape(b)}"
            for left, right in dashed
            for a, b in ((left, right), (fold(left) or left, fold(right) or right))
        },
        key=len,
        reverse=True,
    )
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")
    return _Gazetteer(forms, frozenset(forms.values()), folds, frozenset(central), pattern)
