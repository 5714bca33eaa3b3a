"""Clustering: persons are clusters of records joined by automatic links, never by a chain
of weak ones.

Only pairs above the auto-link threshold join clusters, strongest first (so the best
evidence shapes a cluster before a marginal link can). Before two clusters join, the whole
of each is checked, not just the linking pair: the join is refused when the clusters hold
different personal ID numbers, different sexes or birth years more than a year apart (unless
the linking pair shares a document number, which outweighs a slip in those), a pair a
reviewer called distinct, or a scored pair that outright disagrees (different given names or
birth dates: `dedup.scoring.disagrees`; not when the two share a document number: copies of
one record, each with its own slip), or when both already are registered persons
(merging two persons is an administrator's decision). A refused link goes to the review
queue instead. So A–B and B–C cannot pull A and C together when A and C are twins told
apart by their ID numbers, sex or given names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from dedup.scoring import AUTO_LINK, DISTINCT, HOLDS, REVIEW
from dedup.types import Frame, IntArray, Pairs


@dataclass
class _Cluster:
    members: list[int]
    pins: set[str]
    sexes: set[int]
    years: set[int]
    person: int | None


#: Why a link the pair's score would make is refused, by the code `_conflict` gives.
REFUSALS = {
    "two_persons": "the records already belong to two persons: merging them is an "
    "administrator's decision",
    "different_pin": "the records' groups hold different personal ID numbers",
    "different_sex": "the records' groups differ in sex, and no document number is shared",
    "different_birth_year": "the records' groups are born more than a year apart, and no "
    "document number is shared",
    "distinct_inside": "the link would join records a reviewer decided are different people",
}


#: Every review reason in words: why a pair was held (`dedup.scoring.HOLDS`) or its link
#: refused (`REFUSALS`).
REASONS = {**HOLDS, **REFUSALS}


def one_slip(x: str, y: str) -> bool:
    """Two numbers of one length one slip of the pen apart: one digit off (a leading digit
    too: 137191747118 / 037191747118) or two adjacent digits swapped."""
    if len(x) != len(y) or x == y:
        return False
    differ = [i for i, (p, q) in enumerate(zip(x, y, strict=True)) if p != q]
    if len(differ) == 1:
        return True
    i = differ[0]
    return len(differ) == 2 and differ[1] == i + 1 and x[i] == y[i + 1] and x[i + 1] == y[i]


def _pins_apart(a: set[str], b: set[str], *, slips_allowed: bool) -> bool:
    """Do the groups hold different personal ID numbers? Not when they share one; nor, when
    `slips_allowed` (the linking pair agrees on everything else), when every number of one
    is one slip from every number of the other: a typo, not a second person."""
    if not a or not b or a & b:
        return False
    return not (slips_allowed and all(one_slip(x, y) for x in a for y in b))


def _conflict(a: _Cluster, b: _Cluster, *, vouched: bool, clean: bool = False) -> str | None:
    """Why the clusters must not join; a link `vouched` for by a shared document number
    may bring a differing sex or birth year (a slip on one record), not another number;
    a `clean` vouched link (no disagreement at all) may bring a number one slip apart."""
    if a.person is not None and b.person is not None:
        return "two_persons"
    if _pins_apart(a.pins, b.pins, slips_allowed=vouched and clean):
        return "different_pin"
    if vouched:
        return None
    if a.sexes and b.sexes and a.sexes != b.sexes:
        return "different_sex"
    if a.years and b.years and min(abs(x - y) for x in a.years for y in b.years) > 1:
        return "different_birth_year"
    return None


@dataclass(frozen=True)
class Clustering:
    """`labels[i]`: the cluster of record i (the position of its first member); `decision`
    the per-pair decision after refused links were sent to review; `refused` why."""

    labels: IntArray
    decision: np.ndarray
    refused: dict[int, str]


def cluster(
    frame: Frame,
    pairs: Pairs,
    probability: np.ndarray,
    decision: np.ndarray,
    *,
    disagree: np.ndarray | None = None,
    vouched: np.ndarray | None = None,
    clean: np.ndarray | None = None,
    persons: np.ndarray | None = None,
    cannot_link: Iterable[tuple[int, int]] = (),
) -> Clustering:
    """Cluster the records of `frame`. `disagree` marks the scored pairs that are evidence
    of two people (default: every pair decided distinct); `vouched` those agreeing on a
    document number (`dedup.scoring.vouched`; default none), `clean` those that disagree
    on nothing (`dedup.scoring.clean`; default none): a clean vouched link may join
    personal ID numbers one slip apart. `persons` gives each record's
    current person id (or -1): records of one person start in one cluster. `cannot_link`
    are position pairs a reviewer called distinct."""
    forest = _Forest(frame, persons)
    if persons is not None:
        forest.join_persons(persons)
    apart = _apart(pairs, decision, disagree, vouched, cannot_link, len(frame))
    decision = decision.copy()
    refused: dict[int, str] = {}
    auto = np.flatnonzero(decision == AUTO_LINK)
    order = auto[np.argsort(-probability[auto], kind="stable")]
    for k in order.tolist():
        ra, rb = forest.find(int(pairs.left[k])), forest.find(int(pairs.right[k]))
        if ra == rb:
            continue
        a, b = forest.get(ra), forest.get(rb)
        reason = _conflict(a, b, vouched=vouched is not None and bool(vouched[k]),
                           clean=clean is not None and bool(clean[k]))  # fmt: skip
        if reason is None:
            small, other = (a, rb) if len(a.members) <= len(b.members) else (b, ra)
            if any(forest.find(j) == other for i in small.members for j in apart.get(i, ())):
                reason = "distinct_inside"
        if reason is not None:
            decision[k] = REVIEW
            refused[k] = reason
            continue
        forest.union(ra, rb)
    return Clustering(forest.labels(), decision, refused)


class _Forest:
    """Union-find over the records, each root holding what its cluster knows (numbers,
    sexes, birth years, person); a record's cluster is made on first use, since most
    records never meet a link."""

    def __init__(self, frame: Frame, persons: np.ndarray | None) -> None:
        self.pins, self.sexes, self.years = frame["pin"], frame["sex"], frame["dob_year"]
        self.persons = persons
        self.parent = np.arange(len(frame))
        self.clusters: dict[int, _Cluster] = {}

    def find(self, i: int) -> int:
        parent = self.parent
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def get(self, i: int) -> _Cluster:
        c = self.clusters.get(i)
        if c is None:
            pins, sexes, years, persons = self.pins, self.sexes, self.years, self.persons
            c = self.clusters[i] = _Cluster(
                [i],
                {pins[i]} if pins[i] is not None else set(),
                {int(sexes[i])} if sexes[i] >= 0 else set(),
                {int(years[i])} if years[i] > 0 else set(),
                None if persons is None or persons[i] < 0 else int(persons[i]),
            )
        return c

    def union(self, a: int, b: int) -> int:
        big, small = (a, b) if len(self.get(a).members) >= len(self.get(b).members) else (b, a)
        self.parent[small] = big
        cb, cs = self.get(big), self.clusters.pop(small)
        cb.members += cs.members
        cb.pins |= cs.pins
        cb.sexes |= cs.sexes
        cb.years |= cs.years
        cb.person = cb.person if cb.person is not None else cs.person
        return big

    def join_persons(self, persons: np.ndarray) -> None:
        """Records of one person start in one cluster."""
        first: dict[int, int] = {}
        for i in np.flatnonzero(persons >= 0).tolist():
            p = int(persons[i])
            if p in first:
                ra, rb = self.find(first[p]), self.find(i)
                if ra != rb:
                    self.union(ra, rb)
            else:
                first[p] = i

    def labels(self) -> np.ndarray:
        labels = np.arange(len(self.parent))
        for i in np.flatnonzero(self.parent != labels).tolist():
            labels[i] = self.find(i)
        return labels


def _apart(
    pairs: Pairs,
    decision: np.ndarray,
    disagree: np.ndarray | None,
    vouched: np.ndarray | None,
    cannot_link: Iterable[tuple[int, int]],
    n: int,
) -> dict[int, set[int]]:
    """Each record's partners that must not end in its cluster: reviewers' distinct pairs,
    and the pairs that are evidence of two people (only for records that can join
    something: the others need no memory of them)."""
    apart: dict[int, set[int]] = defaultdict(set)
    for x, y in cannot_link:
        apart[x].add(y)
        apart[y].add(x)
    linked = np.zeros(n, dtype=bool)
    linked[pairs.left[decision == AUTO_LINK]] = True
    linked[pairs.right[decision == AUTO_LINK]] = True
    against = (decision == DISTINCT) if disagree is None else disagree
    if vouched is not None:  # two copies of one record, each with its own slip
        against = against & ~vouched
    low = against & linked[pairs.left] & linked[pairs.right]
    for x, y in zip(pairs.left[low].tolist(), pairs.right[low].tolist(), strict=True):
        apart[x].add(y)
        apart[y].add(x)
    return apart
