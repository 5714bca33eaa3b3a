"""The name lists of `popdb/data/names/` as weighted choices, by sex, era and ethnicity."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from popdb.synthetic.randomness import Weighted

#: Ethnicities whose names are written given name first (Y Moan Ênuôl, H'Hen Niê).
GIVEN_FIRST = frozenset({"Ê Đê"})
#: Matrilineal peoples: children take their mother's family name.
MATRILINEAL = frozenset({"Ê Đê", "Gia Rai"})
#: Birth-year eras for the weight of Văn/Thị: before 1960, 1960-79, 1980-99, 2000 on.
ERA_FACTOR = (3.0, 2.0, 1.0, 0.35)


def _era(year: int) -> int:
    return 0 if year < 1960 else 1 if year < 1980 else 2 if year < 2000 else 3


def _read_csv(name: str) -> list[dict[str, str]]:
    text = (files("popdb") / "data" / "names" / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@dataclass(frozen=True)
class _Names:
    family: Weighted
    middle: dict[tuple[int, int], Weighted]  # (sex, era)
    given: dict[int, Weighted]  # sex
    minority: dict[tuple[str, str, int], Weighted]  # (ethnicity, part, sex)
    vocabulary: frozenset[str]


@cache
def _names() -> _Names:
    """The name lists of `popdb/data/names/`, read once."""
    sex_of = {"M": (1,), "F": (2,), "*": (1, 2)}
    family = Weighted((r["name"], float(r["share_percent"])) for r in _read_csv("family_names.csv"))
    middle_rows = _read_csv("middle_names.csv")
    middle: dict[tuple[int, int], Weighted] = {}
    for sex in (1, 2):
        rows = [r for r in middle_rows if sex in sex_of[r["sex"]]]
        for era, factor in enumerate(ERA_FACTOR):
            middle[sex, era] = Weighted(
                (r["name"], float(r["weight"]) * (factor if r["name"][:3] in ("Văn", "Thị") else 1))
                for r in rows
            )
    given_rows = _read_csv("given_names.csv")
    given = {
        sex: Weighted(
            (r["name"], float(r["weight"])) for r in given_rows if sex in sex_of[r["sex"]]
        )
        for sex in (1, 2)
    }
    grouped: dict[tuple[str, str, int], list[tuple[str, float]]] = {}
    minority_rows = _read_csv("minority_names.csv")
    for r in minority_rows:
        for sex in sex_of[r["sex"]]:
            grouped.setdefault((r["ethnicity"], r["part"], sex), []).append(
                (r["name"], float(r["weight"]))
            )
    words = {
        w
        for rows in (middle_rows, given_rows, minority_rows)
        for r in rows
        for w in r["name"].split()
    }
    words |= {w for name in family.items for w in name.split()}
    return _Names(
        family=family,
        middle=middle,
        given=given,
        minority={k: Weighted(v) for k, v in grouped.items()},
        vocabulary=frozenset(words),
    )
