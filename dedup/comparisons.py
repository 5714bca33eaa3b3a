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

from dedup.features import code_values, column_codes, fill_rate
from dedup.types import NULL_LEVEL, FloatArray, Frame, Gammas, IntArray, Pairs, SmallArray

BoolArray = np.ndarray


#: Distinct pairs of values per rapidfuzz call: it copies every string it is given.
CHUNK = 250_000


def _similarity(
    frame: Frame, column: str, left: IntArray, right: IntArray, scorer: object
) -> FloatArray:
    """`scorer` of the column's values for each pair (both known), run once per distinct
    pair of different values: names and places repeat, so there are far fewer of those than
    pairs. Pairs of equal values get NaN, which meets no threshold: the exact level, tested
    first, decides them. The scorers used are symmetric, so (a, b) and (b, a) are one."""
    codes = column_codes(frame, column)
    ca, cb = codes[left], codes[right]
    out = np.full(len(left), np.nan)
    differ = np.flatnonzero((ca != cb) & (ca >= 0) & (cb >= 0))
    if len(differ) == 0:
        return out
    values = code_values(frame, column)
    width = len(values)
    low, high = np.minimum(ca[differ], cb[differ]), np.maximum(ca[differ], cb[differ])
    distinct, inverse = np.unique(low * width + high, return_inverse=True)
    scores = np.empty(len(distinct), dtype=np.float64)
    for start in range(0, len(distinct), CHUNK):
        part = distinct[start : start + CHUNK]
        scores[start : start + CHUNK] = process.cpdist(
            values[part // width].tolist(), values[part % width].tolist(), scorer=scorer,  # type: ignore[arg-type]
            workers=-1,
        )  # fmt: skip
    out[differ] = scores[inverse.reshape(-1)]
    return out


def _equal(frame: Frame, column: str, left: IntArray, right: IntArray) -> BoolArray:
    """Equal and known on both sides."""
    codes = column_codes(frame, column)
    return (codes[left] == codes[right]) & (codes[left] >= 0)


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

    @property
    def same_value(self) -> tuple[int, ...]:
        """Levels that say both records carry one value, written right or with one slip:
        for a document number, what lets it vouch (`dedup.scoring.vouched`)."""
        return (0,)

    @property
    def agreement(self) -> tuple[int, ...]:
        """Levels that say the two values are one, written alike (not merely similar)."""
        return self.same_value

    def needs(self) -> tuple[str, ...]:
        return (self.column,)

    def implied_levels(self, equal: frozenset[str]) -> tuple[int, ...]:
        """The levels a pair can reach when the frame columns `equal` are equal (a blocking
        rule's keys): what the rule already knows about this comparison. Empty: nothing."""
        return (0,) if self.column in equal else ()

    def gammas(self, frame: Frame, left: IntArray, right: IntArray) -> SmallArray:
        known = column_codes(frame, self.column) >= 0
        mask = known[left] & known[right]
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
        return [_equal(frame, self.column, left, right)]


@dataclass(frozen=True)
class NameComparison(Comparison):
    """A name (or a name part) on its canonical key, its ASCII fold, then similarity.

    The canonical key keeps diacritics, so "Hòa"/"Hoa" and "Vũ"/"Vủ" reach only the fold
    level, below exact (domain.md 4.7). `swap_with` adds a level for files that put the
    family name where the given name belongs; with `any_order` (a key of the whole name's
    tokens in sorted order) that level also holds the same full name written in another
    order ("Nguyễn Minh Hào" / "Minh Hào Nguyễn": split as family "Minh", given "Nguyễn").
    `tf` adjusts the exact level by how common the name is: two Nguyễn agree far more often
    by chance than two Âu Dương. With `typo`, a last level before "else" holds the names
    Jaro–Winkler misses that are one name with two letters swapped (`one_typo`): "kia" /
    "kai" scores 0.6 (its window is too small for short names), yet twins get two names,
    not two spellings of one.
    """

    fold_column: str | None = None
    thresholds: tuple[float, ...] = (0.92, 0.8)
    swap_with: str | None = None
    tf: bool = False
    any_order: str | None = None
    typo: bool = False
    #: The fold of `swap_with`: with it, a name swapped with the family name and mistyped
    #: on one side ("white brandon" / "brandon whtie") is swapped too (`_swapped_mistyped`).
    swap_fold: str | None = None

    @property
    def levels(self) -> tuple[str, ...]:
        levels = ["exact"]
        if self.fold_column:
            levels.append("exact_fold")
        if self.swap_with:
            levels.append("swapped")
        levels += [f"jaro_winkler_{t:g}" for t in self.thresholds]
        if self.typo:
            levels.append("one_typo")
        return (*levels, "else")

    @property
    def tf_level(self) -> int | None:
        return 0 if self.tf else None

    @property
    def agreement(self) -> tuple[int, ...]:
        """Exact, exact but for diacritics, or swapped with the family name: "Hà" and "Hằng"
        (twins' names) are similar, not one name."""
        return tuple(range(1 + bool(self.fold_column) + bool(self.swap_with)))

    def implied_levels(self, equal: frozenset[str]) -> tuple[int, ...]:
        if self.column in equal:
            return (0,)
        return (0, 1) if self.fold_column and self.fold_column in equal else ()

    def needs(self) -> tuple[str, ...]:
        extra = (self.fold_column,) if self.fold_column else ()
        order = (self.any_order,) if self.swap_with and self.any_order else ()
        crossed = (self.swap_fold,) if self.swap_with and self.swap_fold else ()
        return (self.column, *extra, *((self.swap_with,) if self.swap_with else ()), *order,
                *crossed)  # fmt: skip

    def conditions(self, frame: Frame, left: IntArray, right: IntArray) -> list[BoolArray]:
        conds = [_equal(frame, self.column, left, right)]
        if self.fold_column:
            conds.append(_equal(frame, self.fold_column, left, right))
        if self.swap_with:
            col, other = frame[self.column], frame[self.swap_with]
            swapped = (col[left] == other[right]) & (other[left] == col[right])
            if self.any_order:
                swapped |= _equal(frame, self.any_order, left, right)
            if self.swap_fold and self.fold_column:
                swapped |= _swapped_mistyped(frame, self.fold_column, self.swap_fold, left,
                                             right, self.thresholds[-1])  # fmt: skip
            conds.append(swapped)
        # Similarity on the fold when there is one: the diacritics already had their level.
        similarity = _similarity(frame, self.fold_column or self.column, left, right,
                                 distance.JaroWinkler.normalized_similarity)  # fmt: skip
        conds += [similarity >= t for t in self.thresholds]
        if self.typo:
            conds.append(one_typo(frame, self.fold_column or self.column, left, right))
        return conds


def _swapped_mistyped(
    frame: Frame, column: str, other: str, left: IntArray, right: IntArray, threshold: float
) -> BoolArray:
    """Pairs whose two name parts are written crosswise (one's given name is the other's
    family name) with one of the two crossings mistyped: one crossing equal on the fold,
    the other alike (Jaro–Winkler ≥ `threshold`, the lowest similar level). Twins share the
    family name, so a crossing is never theirs; FEBRL swaps and mistypes in one record."""
    col, oth = frame[column], frame[other]
    a = _known_equal(col[left], oth[right])
    b = _known_equal(oth[left], col[right])
    out = np.zeros(len(left), dtype=bool)
    rows = np.flatnonzero(a ^ b)
    x = np.where(a[rows], oth[left[rows]], col[left[rows]])
    y = np.where(a[rows], col[right[rows]], oth[right[rows]])
    known = np.fromiter((p is not None and q is not None for p, q in zip(x, y, strict=True)),
                        bool, len(rows))  # fmt: skip
    rows, x, y = rows[known], x[known], y[known]
    if len(rows):
        jw = distance.JaroWinkler.normalized_similarity
        score = process.cpdist(x.tolist(), y.tolist(), scorer=jw, workers=-1)
        out[rows] = score >= threshold
    return out


def _known_equal(x: np.ndarray, y: np.ndarray) -> BoolArray:
    return np.fromiter((p is not None and p == q for p, q in zip(x, y, strict=True)), bool,
                       len(x))  # fmt: skip


def one_typo(frame: Frame, column: str, left: IntArray, right: IntArray) -> BoolArray:
    """Pairs whose (folded) values are the same letters with two adjacent ones swapped
    ("kia" / "kai", "joshau" / "joshua"): a slip of the keyboard, which hardly ever makes
    another name. A letter left out, added or replaced is not one: in short names one letter
    *is* another name (Tâm / Tân, Hà / Hải, Lan / Loan, Linh / Lịch folded "linh" / "lich"),
    and in long ones Jaro–Winkler already rates such a slip as similar."""
    osa = _similarity(frame, column, left, right, distance.OSA.distance)
    hamming = _similarity(frame, column, left, right, distance.Hamming.distance)
    codes = column_codes(frame, column)
    lengths = np.fromiter(map(len, code_values(frame, column)), np.int64)
    same_length = lengths[codes[left]] == lengths[codes[right]]
    return same_length & (osa == 1) & (hamming == 2)


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

    @property
    def agreement(self) -> tuple[int, ...]:
        return (0, 1)  # exact, compatible

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

    @property
    def same_value(self) -> tuple[int, ...]:
        """One number, or that number with a slip of the pen. Two people's numbers differ in
        their random digits: two 12-digit numbers of twins (the same province, sex and year)
        are one digit off or transposed about once in ten thousand pairs."""
        return (0, 1, 2)

    def conditions(self, frame: Frame, left: IntArray, right: IntArray) -> list[BoolArray]:
        codes = column_codes(frame, self.column)
        lengths = np.fromiter(map(len, code_values(frame, self.column)), np.int64)
        same = np.flatnonzero(lengths[codes[left]] == lengths[codes[right]])
        # Hamming only where the lengths agree and OSA only where Hamming found two digits
        # apart: the only pairs either level can hold (the same levels as scoring all pairs
        # with both, for a fraction of the string work)
        hamming = _similarity(frame, self.column, left[same], right[same],
                              distance.Hamming.distance)  # fmt: skip
        one_off = np.zeros(len(left), dtype=bool)
        one_off[same] = hamming == 1
        two = same[hamming == 2]
        transposed = np.zeros(len(left), dtype=bool)
        transposed[two] = _similarity(frame, self.column, left[two], right[two],
                                      distance.OSA.distance) == 1  # fmt: skip
        return [_equal(frame, self.column, left, right), one_off, transposed]


@dataclass(frozen=True)
class TextComparison(Comparison):
    """Free text such as addresses: exact key, then token-set similarity (order and extra
    words tolerated: "số 5, phường 15" vs "phường 15")."""

    thresholds: tuple[float, ...] = (90.0, 70.0)

    @property
    def levels(self) -> tuple[str, ...]:
        return ("exact", *(f"token_set_{t:g}" for t in self.thresholds), "else")

    def conditions(self, frame: Frame, left: IntArray, right: IntArray) -> list[BoolArray]:
        similarity = _similarity(frame, self.column, left, right, fuzz.token_set_ratio)
        return [_equal(frame, self.column, left, right),
                *(similarity >= t for t in self.thresholds)]  # fmt: skip


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
        typo=True,
        swap_fold="family_fold",
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


#: Pairs per piece in `compute_gammas`: a comparison's temporary arrays are a few times
#: its pairs in int64, 5 GB of peak at 30 M pairs (1M records) when made for all at once.
GAMMA_CHUNK = 4_000_000


def compute_gammas(
    frame: Frame, pairs: Pairs, comparisons: Sequence[Comparison], *, chunk: int = GAMMA_CHUNK
) -> Gammas:
    """The comparison vector of every pair, `chunk` pairs at a time (each pair's gammas
    depend only on its two records, so pieces give the same matrix with bounded memory)."""
    matrix = np.empty((len(pairs), len(comparisons)), dtype=np.int8)
    for start in range(0, len(pairs), max(1, chunk)):
        left, right = pairs.left[start : start + chunk], pairs.right[start : start + chunk]
        for index, comparison in enumerate(comparisons):
            matrix[start : start + chunk, index] = comparison.gammas(frame, left, right)
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
