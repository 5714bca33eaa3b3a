"""Blocking: which pairs of records are worth comparing, from rules that are data.

A rule names the match-key columns that must be equal (all present). Rules run in order;
a pair keeps the first rule that produced it, and later rules drop pairs earlier ones made.
A block larger than `max_block` (a common name in a common year) is not dropped: it is split
by the rule's `split_by` columns, and what is still too big after that is reported, never
skipped silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dedup.features import column_codes
from dedup.types import Frame, IntArray, Pairs

#: Key columns that make others equal too: the same folded full name is the same folded
#: family, middle and given names (as each file splits them).
IMPLIED_KEYS: dict[str, tuple[str, ...]] = {
    "name_fold": ("family_fold", "middle_fold", "given_fold"),
}


@dataclass(frozen=True)
class BlockingRule:
    """Records agreeing on every column of `on` are paired. A record missing one of them is
    left out, except for the columns of `unknown_is_value`, where "unknown" is a value like
    any other (a birth date known only by its year meets others known only by that year)."""

    name: str
    on: tuple[str, ...]
    max_block: int = 300
    split_by: tuple[str, ...] = ()
    unknown_is_value: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict) -> BlockingRule:
        return cls(
            name=str(data["name"]),
            on=tuple(data["on"]),
            max_block=int(data.get("max_block", 300)),
            split_by=tuple(data.get("split_by", ())),
            unknown_is_value=tuple(data.get("unknown_is_value", ())),
        )

    def equal_columns(self) -> frozenset[str]:
        """The columns every pair of this rule agrees on."""
        return frozenset(self.on).union(*(IMPLIED_KEYS.get(c, ()) for c in self.on))

    def to_dict(self) -> dict:
        return {"name": self.name, "on": list(self.on), "max_block": self.max_block,
                "split_by": list(self.split_by),
                "unknown_is_value": list(self.unknown_is_value)}  # fmt: skip


#: Default rules, most specific first: a pair is tagged with the first rule that finds it and
#: takes that rule's prior, so a pair agreeing on a full birth date must not be tagged by a
#: year-only rule whose pairs are mostly namesakes. Keys are ASCII folds so that a dropped
#: diacritic or a tone typo still lands in the same block; the comparisons then tell them
#: apart. Given name + birth year alone is too weak a key at national scale (tens of pairs
#: per record), so it always comes with the family name or the parents.
DEFAULT_RULES: tuple[BlockingRule, ...] = (
    BlockingRule("pin", ("pin",)),
    BlockingRule("other_id", ("other_id",)),
    BlockingRule("name_dob", ("name_fold", "dob_year", "dob_month", "dob_day")),
    BlockingRule(
        "initials_dob", ("initials", "dob_year", "dob_month", "dob_day"), split_by=("commune",)
    ),  # fmt: skip
    BlockingRule(
        "given_dob", ("given_fold", "dob_year", "dob_month", "dob_day"), split_by=("commune",)
    ),  # fmt: skip
    BlockingRule(
        "family_dob", ("family_fold", "dob_year", "dob_month", "dob_day"), split_by=("commune",)
    ),  # fmt: skip
    # the same date as far as both know it: two records of "Phan Thu Thủy, 1970" are likelier
    # one person than two with that name and year but different days
    BlockingRule(
        "family_given_date",
        ("family_fold", "given_fold", "dob_year", "dob_month", "dob_day"),
        split_by=("commune",),
        unknown_is_value=("dob_month", "dob_day"),
    ),  # fmt: skip
    BlockingRule(
        "family_given_year", ("family_fold", "given_fold", "dob_year"), split_by=("commune",)
    ),  # fmt: skip
    BlockingRule("name_any_order_year", ("name_sorted", "dob_year")),
    BlockingRule("parents", ("father_fold", "mother_fold"), split_by=("dob_year",)),
    BlockingRule(
        "family_given_commune", ("family_fold", "given_fold", "commune"), split_by=("dob_year",)
    ),  # fmt: skip
    # last: the other document number with a slip in one half (one digit off, two swapped),
    # for the pairs nothing else finds. Half a number alone is shared by chance (a 3-digit
    # half by one pair in a thousand), so it comes with the name's initials.
    BlockingRule("other_id_head", ("other_id_head", "initials"), split_by=("dob_year",)),
    BlockingRule("other_id_tail", ("other_id_tail", "initials"), split_by=("dob_year",)),
    # the same, for the pairs whose names are both mistyped or swapped (the initials then
    # differ): the full birth date instead, which a sibling or a stranger shares with a
    # 3-digit half by chance once in millions of pairs; and for a given name left blank (no
    # initials at all): the family name
    BlockingRule("other_id_head_dob", ("other_id_head", "dob_year", "dob_month", "dob_day")),
    BlockingRule("other_id_tail_dob", ("other_id_tail", "dob_year", "dob_month", "dob_day")),
    BlockingRule("other_id_head_family", ("other_id_head", "family_fold"), split_by=("dob_year",)),
    BlockingRule("other_id_tail_family", ("other_id_tail", "family_fold"), split_by=("dob_year",)),
    # one home and one full birth date, whatever the names: twins too, whom the scoring
    # tells apart by their given names; a pair with no family name on either record and a
    # mistyped given name is found by nothing else
    BlockingRule("address_dob", ("address", "dob_year", "dob_month", "dob_day")),
    # the number with two adjacent digits swapped across its middle (neither half kept):
    # the number without its two middle digits, with the birth year (alone, its pairs were
    # 5-8 % more candidates, nearly all strangers', and moved the trained model)
    BlockingRule("other_id_outer", ("other_id_outer", "dob_year")),
)


@dataclass
class RuleCount:
    """What one rule did: pairs it produced (new ones, after earlier rules) and what it
    could not pair because a block stayed too large even after splitting."""

    rule: str
    pairs: int = 0
    new_pairs: int = 0
    giant_blocks: int = 0
    records_in_giant_blocks: int = 0
    pairs_not_generated: int = 0


@dataclass
class BlockingReport:
    rules: list[RuleCount] = field(default_factory=list)

    @property
    def pairs(self) -> int:
        return sum(r.new_pairs for r in self.rules)

    def as_dict(self) -> list[dict]:
        return [vars(r) for r in self.rules]


def block_codes(
    frame: Frame,
    columns: Sequence[str],
    rows: IntArray | None = None,
    unknown_is_value: Sequence[str] = (),
) -> IntArray:
    """One integer per record: equal when every column is equal and present (or, for the
    columns of `unknown_is_value`, equal or both unknown), -1 otherwise."""
    index = np.arange(len(frame)) if rows is None else rows
    parts = [column_codes(frame, name)[index] for name in columns]
    known = np.ones(len(index), dtype=bool)
    for name, part in zip(columns, parts, strict=True):
        if name not in unknown_is_value:
            known &= part >= 0
    codes = np.full(len(index), -1, dtype=np.int64)
    if known.any():
        codes[known] = _combined([part[known] for part in parts])
    return codes


def _combined(parts: Sequence[IntArray]) -> IntArray:
    """Dense codes of the rows of `parts` (columns of codes ≥ -1), in the lexicographic
    order of the rows, as `np.unique(axis=0, return_inverse=True)` numbers them, but one
    column at a time in mixed radix: a row-wise unique sorted (pairs × columns) views and
    took most of blocking at 1M records (issue 17)."""
    combined = np.zeros(len(parts[0]), dtype=np.int64)
    top = 0  # the largest value `combined` can hold
    for part in parts:
        shifted = part.astype(np.int64) + 1  # -1 (unknown, where it is a value) becomes 0
        width = int(shifted.max(initial=0)) + 1
        if (top + 1) * width >= 2**62:  # renumber densely before the product could overflow
            combined = _dense(combined)
            top = len(combined)
        combined = combined * width + shifted
        top = top * width + width - 1
    return _dense(combined)


def _sorted_unique(values: IntArray) -> IntArray:
    """`np.unique(values)` by a sort in place: numpy 2's hash-based unique took 35 of the
    82 s of blocking at 1M records (tens of millions of pair keys), a sort about a tenth."""
    values.sort()
    if len(values) == 0:
        return values
    return values[np.r_[True, values[1:] != values[:-1]]]


def _dense(values: IntArray) -> IntArray:
    _, inverse = np.unique(values, return_inverse=True)
    return inverse.reshape(-1).astype(np.int64)


def _group_pairs(rows: IntArray, codes: IntArray) -> tuple[IntArray, IntArray]:
    """All pairs of rows sharing a code (vectorised: no loop per block)."""
    order = np.argsort(codes, kind="stable")
    rows, codes = rows[order], codes[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    sizes = np.diff(np.r_[starts, len(codes)])
    offset = np.arange(len(codes)) - np.repeat(starts, sizes)
    partners = np.repeat(sizes, sizes) - offset - 1  # later members of the same block
    total = int(partners.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    left_pos = np.repeat(np.arange(len(codes)), partners)
    first = np.cumsum(partners) - partners
    right_pos = left_pos + 1 + (np.arange(total) - np.repeat(first, partners))
    left, right = rows[left_pos], rows[right_pos]
    return np.minimum(left, right), np.maximum(left, right)


def _rule_pairs(frame: Frame, rule: BlockingRule, count: RuleCount) -> tuple[IntArray, IntArray]:
    rows = np.arange(len(frame))
    codes = block_codes(frame, rule.on, unknown_is_value=rule.unknown_is_value)
    keep = codes >= 0
    rows, codes = rows[keep], codes[keep]
    lefts, rights = [], []
    for depth in range(len(rule.split_by) + 1):
        if len(codes) == 0:
            break
        sizes = np.bincount(codes)
        big = sizes[codes] > rule.max_block
        left, right = _group_pairs(rows[~big], codes[~big])
        lefts.append(left)
        rights.append(right)
        rows = rows[big]
        if len(rows) == 0:
            break
        if depth == len(rule.split_by):
            giant = sizes[sizes > rule.max_block]
            count.giant_blocks = len(giant)
            count.records_in_giant_blocks = int(giant.sum())
            count.pairs_not_generated = int((giant * (giant - 1) // 2).sum())
            break
        columns = (*rule.on, *rule.split_by[: depth + 1])
        codes = block_codes(frame, columns, rows, rule.unknown_is_value)
        keep = codes >= 0
        rows, codes = rows[keep], codes[keep]
    if not lefts:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(lefts), np.concatenate(rights)


def candidate_pairs(
    frame: Frame, rules: Sequence[BlockingRule], *, new: np.ndarray | None = None
) -> tuple[Pairs, BlockingReport]:
    """Distinct ordered pairs from `rules`, each tagged with its first rule.

    With `new` (a boolean mask), only pairs with at least one new record are kept: an
    incremental run compares a batch against the registry, not the registry with itself.
    """
    n = len(frame)
    report = BlockingReport()
    # Each rule's pairs as sorted keys; a pair already found by an earlier rule is dropped
    # by a binary search in the sorted keys found so far (`seen`), which grows by a merge
    # of two sorted runs. The same pairs and tags, in the same order (by rule, then by
    # key), as one sort of all rules' keys by (key, rule) gave, at half its cost at 1M.
    seen = np.empty(0, dtype=np.int64)
    keys, tags = [], []
    for index, rule in enumerate(rules):
        count = RuleCount(rule.name)
        left, right = _rule_pairs(frame, rule, count)
        if new is not None:
            wanted = new[left] | new[right]
            left, right = left[wanted], right[wanted]
        key = _sorted_unique(left * n + right)
        del left, right
        count.pairs = len(key)
        if len(seen) and len(key):
            at = np.searchsorted(seen, key)
            at[at == len(seen)] = 0
            key = key[seen[at] != key]
        count.new_pairs = len(key)
        keys.append(key)
        tags.append(np.full(len(key), index, dtype=np.int8))
        report.rules.append(count)
        if len(key):
            seen = np.concatenate([seen, key])
            seen.sort(kind="stable")  # two sorted runs: a linear merge
    del seen
    if not keys:
        return Pairs.empty(), report
    key, tag = np.concatenate(keys), np.concatenate(tags)
    del keys, tags
    return Pairs(key // n, key % n, tag), report
