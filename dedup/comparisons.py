"""Comparisons: for each pair and each field, the comparison level reached (its gamma).

Levels run from the strongest (index 0) to "else" (the last); a pair missing the field on
either side gets NULL_LEVEL and weighs nothing. Every comparator works on whole arrays:
numpy for equality and dates, rapidfuzz's `process.cpdist` for string similarity, never a
Python loop per pair.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rapidfuzz import distance, fuzz, process

from dedup.features import fill_rate, present
from dedup.types import NULL_LEVEL, Frame, Gammas, IntArray, Pairs, SmallArray

BoolArray = np.ndarray


#: Pairs per rapidfuzz call: it copies every string it is given, so a whole run at once
#: would hold millions of copies.
CHUNK = 250_000


def _similarity(a: np.ndarray, b: np.ndarray, scorer: object) -> np.ndarray:
    out = np.empty(len(a), dtype=np.float64)
    for start in range(0, len(a), CHUNK):
        left = ["" if v is None else v for v in a[start : start + CHUNK].tolist()]
        right = ["" if v is None else v for v in b[start : start + CHUNK].tolist()]
        out[start : start + CHUNK] = process.cpdist(left, right, scorer=scorer, workers=1)  # type: ignore[arg-type]
    return out


def _assign(gamma: SmallArray, mask: BoolArray, conditions: Sequence[BoolArray]) -> None:
    """Give each pair in `mask` the first level whose condition holds; the last is else."""
    level = np.full(int(mask.sum()), len(conditions), dtype=np.int8)
    for index in range(len(conditions) - 1, -1, -1):
        level[conditions[index]] = index
    gamma[mask] = level


@dataclass(frozen=True)
class Comparison(ABC):
    """A field compared at ordered levels. Subclasses say how; `levels` label them."""

    name: str
    column: str

    @property
    @abstractmethod
    def levels(self) -> tuple[str, ...]:
        """Level labels, strongest first, "else" last."""

    @property
    def tf_level(self) -> int | None:
        """The level whose weight a term frequency adjusts (the exact match), if any."""
        return None

    @property
    def disagreement(self) -> tuple[int, ...]:
        """Levels that say the two values are different, not misspelt: the else level."""
        return (len(self.levels) - 1,)

    def needs(self) -> tuple[str, ...]:
        return (self.column,)

    def implied_levels(self, equal: frozenset[str]) -> tuple[int, ...]:
        """The levels a pair can reach when the frame columns `equal` are equal (a blocking
        rule's keys): what the rule already knows about this comparison. Empty: nothing."""
        return (0,) if self.column in equal else ()

    def gammas(self, frame: Frame, left: IntArray, right: IntArray) -> SmallArray:
        col = frame[self.column]
        a, b = col[left], col[right]
        mask = present(a, self.column) & present(b, self.column)
        gamma = np.full(len(left), NULL_LEVEL, dtype=np.int8)
        if mask.any():
            _assign(gamma, mask, self.conditions(frame, left[mask], right[mask]))
        return gamma

    @abstractmethod
    def conditions(self, frame: Frame, left: IntArray, right: IntArray) -> list[BoolArray]:
        """One boolean array per level but the last, for pairs present on both sides."""

    def to_dict(self) -> dict:
        return {"kind": type(self).__name__, **vars(self)}


@dataclass(frozen=True)
class ExactComparison(Comparison):
    """Equal or not (sex, commune, another document's number)."""

    @property
    def levels(self) -> tuple[str, ...]:
        return ("exact", "else")

    def conditions(self, frame: Frame, left: IntArray, right: IntArray) -> list[BoolArray]:
        col = frame[self.column]
        return [col[left] == col[right]]


@dataclass(frozen=True)
class NameComparison(Comparison):
    """A name (or a name part) on its canonical key, its ASCII fold, then similarity.

    The canonical key keeps diacritics, so "Hòa"/"Hoa" and "Vũ"/"Vủ" reach only the fold
    level, below exact (domain.md 4.7). `swap_with` adds a level for files that put the
    family name where the given name belongs; with `any_order` (a key of the whole name's
    tokens in sorted order) that level also holds the same full name written in another
    order ("Nguyễn Minh Hào" / "Minh Hào Nguyễn": split as family "Minh", given "Nguyễn").
    `tf` adjusts the exact level by how common the name is: two Nguyễn agree far more often
    by chance than two Âu Dương.
    """

    fold_column: str | None = None
    thresholds: tuple[float, ...] = (0.92, 0.8)
    swap_with: str | None = None
    tf: bool = False
    any_order: str | None = None

    @property
    def levels(self) -> tuple[str, ...]:
        levels = ["exact"]
        if self.fold_column:
            levels.append("exact_fold")
        if self.swap_with:
            levels.append("swapped")
        levels += [f"jaro_winkler_{t:g}" for t in self.thresholds]
        return (*levels, "else")

    @property
    def tf_level(self) -> int | None:
        return 0 if self.tf else None

    def implied_levels(self, equal: frozenset[str]) -> tuple[int, ...]:
        if self.column in equal:
            return (0,)
        return (0, 1) if self.fold_column and self.fold_column in equal else ()

    def needs(self) -> tuple[str, ...]:
        extra = (self.fold_column,) if self.fold_column else ()
        order = (self.any_order,) if self.swap_with and self.any_order else ()
        return (self.column, *extra, *((self.swap_with,) if self.swap_with else ()), *order)

    def conditions(self, frame: Frame, left: IntArray, right: IntArray) -> list[BoolArray]:
        col = frame[self.column]
        a, b = col[left], col[right]
        conds = [a == b]
        if self.fold_column:
            fcol = frame[self.fold_column]
            conds.append(fcol[left] == fcol[right])
        if self.swap_with:
            other = frame[self.swap_with]
            swapped = (a == other[right]) & (other[left] == b)
            if self.any_order:
                keys = frame[self.any_order]
                ka, kb = keys[left], keys[right]
                known = np.fromiter((k is not None for k in ka), bool, len(ka))
                swapped |= (ka == kb) & known
            conds.append(swapped)
        # Similarity on the fold when there is one: the diacritics already had their level.
        fa, fb = (fcol[left], fcol[right]) if self.fold_column else (a, b)
        similarity = _similarity(fa, fb, distance.JaroWinkler.normalized_similarity)
        conds += [similarity >= t for t in self.thresholds]
        return conds


@dataclass(frozen=True)
class DateComparison(Comparison):
    """Partial dates of birth (year, month?, day?; 0 = unknown).

    "compatible" is a less precise date that agrees as far as it goes (1950 ~ 12/05/1950),
    and 1 January against another date of that year: a common placeholder for year-only
    (domain.md 4.5). A day/month swap and one day off are typing slips; the same year with
    different days is weak; a year apart is evidence against.
    """

    column: str = "dob_year"

    @property
    def levels(self) -> tuple[str, ...]:
        return ("exact", "compatible", "day_month_swapped", "one_day_off", "same_year",
                "one_year_off", "else")  # fmt: skip

    @property
    def disagreement(self) -> tuple[int, ...]:
        """Two dates that differ beyond a typing slip (a swap, a day): not one birth."""
        return (4, 5, 6)

    def needs(self) -> tuple[str, ...]:
        return ("dob_year", "dob_month", "dob_day")

    def implied_levels(self, equal: frozenset[str]) -> tuple[int, ...]:
        if {"dob_year", "dob_month", "dob_day"} <= equal:
            return (0,)
        return (0, 1, 2, 3, 4) if "dob_year" in equal else ()  # exact … same_year

    def conditions(self, frame: Frame, left: IntArray, right: IntArray) -> list[BoolArray]:
        y, m, d = (frame[c].astype(np.int32) for c in ("dob_year", "dob_month", "dob_day"))
        y1, y2, m1, m2, d1, d2 = y[left], y[right], m[left], m[right], d[left], d[right]
        same_year = y1 == y2
        full = (d1 > 0) & (d2 > 0)
        exact = same_year & (m1 == m2) & (d1 == d2)
        placeholder = ((m1 == 1) & (d1 == 1)) | ((m2 == 1) & (d2 == 1))
        month_ok = (m1 == 0) | (m2 == 0) | (m1 == m2)
        day_ok = (d1 == 0) | (d2 == 0) | (d1 == d2)
        compatible = same_year & ((month_ok & day_ok) | (full & placeholder))
        swapped = same_year & full & (m1 == d2) & (d1 == m2) & (d1 <= 12) & (d2 <= 12)
        one_day = same_year & full & (m1 == m2) & (np.abs(d1 - d2) == 1)
        return [exact, compatible, swapped, one_day, same_year, np.abs(y1 - y2) == 1]


@dataclass(frozen=True)
class IdComparison(Comparison):
    """Identity numbers: exact, one digit off (a slip of the pen), two adjacent digits
    transposed, else. Unequal valid numbers are strong evidence of two people."""

    @property
    def levels(self) -> tuple[str, ...]:
        return ("exact", "one_digit_off", "transposition", "else")

    def conditions(self, frame: Frame, left: IntArray, right: IntArray) -> list[BoolArray]:
        col = frame[self.column]
        a, b = col[left], col[right]
        exact = a == b
        same_length = np.fromiter(
            (len(x) == len(y) for x, y in zip(a, b, strict=True)), bool, len(a)
        )
        hamming = _similarity(a, b, distance.Hamming.distance)
        osa = _similarity(a, b, distance.OSA.distance)
        return [exact, same_length & (hamming == 1), same_length & (osa == 1) & (hamming == 2)]


@dataclass(frozen=True)
class TextComparison(Comparison):
    """Free text such as addresses: exact key, then token-set similarity (order and extra
    words tolerated: "số 5, phường 15" vs "phường 15")."""

    thresholds: tuple[float, ...] = (90.0, 70.0)

    @property
    def levels(self) -> tuple[str, ...]:
        return ("exact", *(f"token_set_{t:g}" for t in self.thresholds), "else")

    def conditions(self, frame: Frame, left: IntArray, right: IntArray) -> list[BoolArray]:
        col = frame[self.column]
        a, b = col[left], col[right]
        similarity = _similarity(a, b, fuzz.token_set_ratio)
        return [a == b, *(similarity >= t for t in self.thresholds)]


#: Every comparison the engine knows, before it looks at which fields a file has.
ALL_COMPARISONS: tuple[Comparison, ...] = (
    IdComparison("personal_id_number", "pin"),
    IdComparison("other_id_number", "other_id"),
    NameComparison("family_name", "family", fold_column="family_fold", tf=True),
    NameComparison(
        "given_name",
        "given",
        fold_column="given_fold",
        swap_with="family",
        tf=True,
        any_order="name_sorted",
    ),
    NameComparison("middle_name", "middle", fold_column="middle_fold", thresholds=(0.88,)),
    DateComparison("dob"),
    ExactComparison("sex", "sex"),
    TextComparison("birth_place", "birth_place"),
    TextComparison("address", "address"),
    NameComparison("father_name", "father", fold_column="father_fold", thresholds=(0.9,)),
    NameComparison("mother_name", "mother", fold_column="mother_fold", thresholds=(0.9,)),
)

#: A comparison takes part only when this share of the records has its field.
MIN_FILL_RATE = 0.01


def comparisons_for(
    frame: Frame, available: Sequence[Comparison] = ALL_COMPARISONS
) -> tuple[Comparison, ...]:
    """The comparisons this data can support: a file without parents' names or ID numbers
    (a foreign register, say) is compared on what it has."""
    return tuple(c for c in available if fill_rate(frame, c.column) >= MIN_FILL_RATE)


def compute_gammas(frame: Frame, pairs: Pairs, comparisons: Sequence[Comparison]) -> Gammas:
    """The comparison vector of every pair."""
    matrix = np.empty((len(pairs), len(comparisons)), dtype=np.int8)
    for index, comparison in enumerate(comparisons):
        matrix[:, index] = comparison.gammas(frame, pairs.left, pairs.right)
    return Gammas(tuple(c.name for c in comparisons), matrix)


def comparison_from_dict(data: dict) -> Comparison:
    """Rebuild a comparison saved in a model's parameters."""
    kinds = {cls.__name__: cls for cls in (ExactComparison, NameComparison, DateComparison,
                                            IdComparison, TextComparison)}  # fmt: skip
    data = dict(data)
    cls = kinds[data.pop("kind")]
    for key in ("thresholds",):
        if key in data:
            data[key] = tuple(data[key])
    return cls(**data)
