"""Scoring: match weights and probabilities from gammas and a model, then decisions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dedup.comparisons import DateComparison, NameComparison
from dedup.features import code_values, column_codes
from dedup.model import MatchModel
from dedup.types import FloatArray, Frame, Gammas, Pairs, Scores

DECISIONS = ("auto_link", "review", "distinct")
AUTO_LINK, REVIEW, DISTINCT = 0, 1, 2


def level_weights(model: MatchModel) -> list[np.ndarray]:
    """log2 Bayes factor per level of each comparison, with 0 prepended for the null level
    (index gamma + 1)."""
    return [np.r_[0.0, np.log2(m / u)] for m, u in zip(model.m, model.u, strict=True)]


def prior_weight(prior: float) -> float:
    return float(np.log2(prior / (1 - prior)))


@dataclass(frozen=True)
class TfAdjustment:
    """Term-frequency adjustments (log2), kept sparse: only pairs at a comparison's exact
    level have one, and a dense (pairs × comparisons) matrix of them took 3 GB at 1M
    records. `columns[c]` holds the positions of the adjusted pairs and their values."""

    shape: tuple[int, int]
    columns: dict[int, tuple[np.ndarray, FloatArray]] = field(default_factory=dict)

    def dense(self) -> FloatArray:
        out = np.zeros(self.shape, dtype=np.float64)
        for index, (rows, values) in self.columns.items():
            out[rows, index] = values
        return out


def tf_adjustments(model: MatchModel, frame: Frame, pairs: Pairs, gammas: Gammas) -> TfAdjustment:
    """Term-frequency adjustment per pair and comparison (log2), as in Splink: at the exact
    level the evidence scales with how rare the agreed value is, log2(E[f] / f(value)), so
    agreeing on "Nguyễn" (f ≈ 0.38) is worth less than agreeing on "Âu Dương". Values the
    table does not hold are rarer than any it does."""
    adjust = TfAdjustment(gammas.matrix.shape)
    for index, comparison in enumerate(model.comparisons):
        level = comparison.tf_level
        table = model.tf.get(comparison.name)
        expected = model.tf_expected.get(comparison.name)
        if level is None or not table or not expected:
            continue
        at_level = np.flatnonzero(gammas.matrix[:, index] == level)
        if len(at_level) == 0:
            continue
        floor = min(table.values())
        # per distinct value, not per pair (tens of millions of pairs agree on a family
        # name at 1M records): an exact pair's left value is known, so its code is ≥ 0
        values = code_values(frame, comparison.column)
        of_code = np.fromiter((table.get(v, floor) for v in values), np.float64, len(values))
        freq = of_code[column_codes(frame, comparison.column)[pairs.left[at_level]]]
        adjust.columns[index] = (at_level, np.log2(expected / freq))
    return adjust


def match_weights(
    gammas: Gammas,
    model: MatchModel,
    adjust: TfAdjustment | None = None,
    tags: np.ndarray | None = None,
    *,
    contributions: bool = False,
) -> Scores:
    """Match weight = prior weight (of the pair's blocking rule, given `tags`) + the sum of
    each comparison's log2 Bayes factor. Each comparison's part of it per pair is kept only
    when asked (`contributions`: an explanation), as it is a (pairs × comparisons) matrix."""
    weights = level_weights(model)
    parts = np.empty(gammas.matrix.shape, dtype=np.float64) if contributions else None
    total = np.zeros(len(gammas), dtype=np.float64)
    for index, table in enumerate(weights):
        column = table[gammas.matrix[:, index] + 1]
        if adjust is not None and index in adjust.columns:
            rows, values = adjust.columns[index]
            column[rows] += values
        total += column
        if parts is not None:
            parts[:, index] = column
    prior = model.priors(tags) if tags is not None else np.full(len(gammas), model.prior)
    weight = np.log2(prior / (1 - prior)) + total
    probability = 1.0 / (1.0 + np.exp2(-weight))
    return Scores(weight, probability, parts)


#: What twins share: the household (family name, parents, address, birth place), the
#: middle name siblings are often given alike ("Thu" for both daughters) and the birth date.
#: For a pair whose given names differ these are one piece of evidence (one household's
#: twins), not seven independent ones.
HOUSEHOLD: tuple[str, ...] = ("family_name", "father_name", "mother_name", "address",
                              "birth_place", "middle_name", "dob")  # fmt: skip


def household_once(
    gammas: Gammas,
    model: MatchModel,
    scores: Scores,
    adjust: TfAdjustment | None = None,
    similar: np.ndarray | None = None,
) -> Scores:
    """`scores` with the household's evidence counted once for pairs whose given names
    outright disagree, or are two alike names (`similar`, scored as different names: their
    likeness is no evidence), and that no document number vouches for: only the largest
    positive contribution among `HOUSEHOLD`, not their sum. The model assumes the
    comparisons are independent; for twins (same birth date, same parents, address and
    family name, other given names) they are one fact, and summing them put twins in the
    queue at 100 %."""
    if "given_name" not in gammas.names:
        return scores
    given = gammas.names.index("given_name")
    weights = level_weights(model)
    hit = np.isin(gammas.matrix[:, given], model.comparisons[given].disagreement)
    weight = scores.weight.copy()
    contributions = scores.contributions
    if similar is not None and similar.any():
        alike = np.flatnonzero(similar)
        table = weights[given]
        levels = gammas.matrix[alike, given]
        shift = table[len(table) - 1] - table[levels + 1]
        weight[alike] += shift
        if contributions is not None:
            contributions = contributions.copy()
            contributions[alike, given] += shift
        hit = hit | similar
    rows = np.flatnonzero(hit & ~vouched(gammas, model))
    columns = [gammas.names.index(n) for n in HOUSEHOLD if n in gammas.names]
    if len(rows) == 0 or len(columns) < 2:
        return Scores(weight, 1.0 / (1.0 + np.exp2(-weight)), contributions)
    parts = np.empty((len(rows), len(columns)), dtype=np.float64)
    for k, index in enumerate(columns):
        parts[:, k] = weights[index][gammas.matrix[rows, index] + 1]
        if adjust is not None and index in adjust.columns:
            at, values = adjust.columns[index]
            inside = np.isin(at, rows)
            parts[np.searchsorted(rows, at[inside]), k] += values[inside]
    positive = np.clip(parts, 0.0, None)
    excess = positive.sum(axis=1) - positive.max(axis=1)
    weight[rows] -= excess
    if contributions is not None:  # the excess taken off each positive part in proportion
        contributions = contributions.copy()
        share = np.divide(positive, positive.sum(axis=1, keepdims=True),
                          out=np.zeros_like(positive), where=positive > 0)  # fmt: skip
        for k, index in enumerate(columns):
            contributions[rows, index] -= excess * share[:, k]
    return Scores(weight, 1.0 / (1.0 + np.exp2(-weight)), contributions)


#: A given name at least this frequent (share of the records that trained the model), and
#: seen at least `KNOWN_NAME_COUNT` times, is a name people are given, not a slip of the pen:
#: a misspelling ("Lc" for "Lộc") is rare.
KNOWN_NAME = 1 / 5000
KNOWN_NAME_COUNT = 3


def similar_names(frame: Frame, pairs: Pairs, gammas: Gammas, model: MatchModel) -> np.ndarray:
    """Pairs whose given names are similar but not one name (a similarity level, below exact,
    diacritics and swap) while both are common names: "Hà" and "Hằng", "Hậu" and "Hà" are
    twins' and siblings' names, not one name typed twice. Without a shared document number
    such a pair is held for review (`decide`) and kept apart in clustering; a similar name
    that is rare on one side is a slip ("Trần Hữu Lc") and is scored as such."""
    out = np.zeros(len(gammas), dtype=bool)
    if "given_name" not in gammas.names:
        return out
    index = gammas.names.index("given_name")
    comparison = model.comparisons[index]
    table = model.tf.get(comparison.name)
    if not table:
        return out
    column = gammas.matrix[:, index]
    rows = np.flatnonzero((column >= 0) & ~np.isin(column, comparison.agreement)
                          & ~np.isin(column, comparison.disagreement))  # fmt: skip
    if len(rows) == 0:
        return out
    records = int(model.trained_on.get("records") or 0)
    floor = max(KNOWN_NAME, KNOWN_NAME_COUNT / records) if records else KNOWN_NAME
    known = {v for v, f in table.items() if f >= floor}
    # per distinct value, then per pair by its code (both sides are known: gamma ≥ 0)
    values = code_values(frame, comparison.column)
    common = np.fromiter((v in known for v in values), bool, len(values))
    codes = column_codes(frame, comparison.column)
    out[rows] = common[codes[pairs.left[rows]]] & common[codes[pairs.right[rows]]]
    return out & ~vouched(gammas, model)


def vouched(gammas: Gammas, model: MatchModel) -> np.ndarray:
    """Pairs that carry one identity-document number (`Thresholds.vouching`): the same, or
    the same but for one slip of the pen (`Comparison.same_value`)."""
    out = np.zeros(len(gammas), dtype=bool)
    for name in model.thresholds.vouching:
        if name in gammas.names:
            index = gammas.names.index(name)
            out |= np.isin(gammas.matrix[:, index], model.comparisons[index].same_value)
    return out


def reordered(gammas: Gammas, model: MatchModel) -> np.ndarray:
    """Pairs whose whole name is one name written in another order (the given name's
    "swapped" level: "Vũ Văn Lộc" / "Lộc Vũ Văn"): the split into family, middle and given
    parts then differs, so a middle name's "disagreement" says nothing."""
    out = np.zeros(len(gammas), dtype=bool)
    for comparison in model.comparisons:
        if isinstance(comparison, NameComparison) and comparison.swap_with \
                and comparison.name in gammas.names:  # fmt: skip
            level = comparison.levels.index("swapped")
            out |= gammas.matrix[:, gammas.names.index(comparison.name)] == level
    return out


#: Name parts whose disagreement a reordered name (`reordered`) explains.
_SPLIT_BY_ORDER = ("middle_name", "family_name")


def _hits(gammas: Gammas, model: MatchModel, name: str, order: np.ndarray) -> np.ndarray:
    """Pairs outright disagreeing on comparison `name` (not when the name was reordered)."""
    index = gammas.names.index(name)
    hit = np.isin(gammas.matrix[:, index], model.comparisons[index].disagreement)
    return hit & ~order if name in _SPLIT_BY_ORDER else hit


def disagreements(gammas: Gammas, model: MatchModel, *, names: bool = True) -> np.ndarray:
    """How many must-not-disagree comparisons each pair outright disagrees on (different
    given names, birth dates, numbers or sexes): evidence of two people, not a lack of it.

    A shared document number (`vouched`) clears one of them, a slip on one record (a
    mistyped date, a given name written wrong): a sibling has a number of its own. It
    never clears a disagreement on another document number, nor two disagreements (a
    sibling's number copied onto a record still differs in given name and birth date). A
    family or middle name that disagrees counts only without a shared number: siblings share
    those, so a copied sibling's number never makes them differ, and a record with both
    names mistyped while number, date and address agree (FEBRL makes them) is one person's."""
    count = np.zeros(len(gammas), dtype=np.int8)
    forgivable = np.zeros(len(gammas), dtype=bool)
    order = reordered(gammas, model)
    shared = vouched(gammas, model)
    for name in model.thresholds.must_not_disagree:
        if name not in gammas.names:
            continue
        hit = _hits(gammas, model, name, order)
        if name in _SPLIT_BY_ORDER:  # a name part: a shared number clears it outright
            if names:
                count += hit & ~shared
            continue
        count += hit
        if name not in model.thresholds.vouching:
            forgivable |= hit
    return count - (forgivable & shared)


def clean(gammas: Gammas, model: MatchModel) -> np.ndarray:
    """Pairs that agree outright on the given name and the date of birth (`agreement`
    levels, both known) and disagree on no other must-not-disagree comparison (sex, numbers;
    a number one slip apart is no disagreement), before any vouching. What lets two personal
    ID numbers one slip apart be one person's (`dedup.clustering`): twins' numbers are one
    slip apart about once in ten thousand pairs, and their given names differ ("Hà" and
    "Hằng" are similar, not one name)."""
    ok = np.ones(len(gammas), dtype=bool)
    for name in model.thresholds.must_not_disagree:
        if name not in gammas.names:
            continue
        index = gammas.names.index(name)
        comparison, column = model.comparisons[index], gammas.matrix[:, index]
        if name in _SPLIT_BY_ORDER:
            ok &= ~_hits(gammas, model, name, reordered(gammas, model))
        elif isinstance(comparison, NameComparison | DateComparison):
            ok &= np.isin(column, comparison.agreement)
        else:
            ok &= ~np.isin(column, comparison.disagreement)
    return ok


def disagrees(gammas: Gammas, model: MatchModel) -> np.ndarray:
    """Pairs that are evidence of two people, kept apart in clustering: a disagreement on
    the given name, date, sex or number. A family or middle name that differs only holds
    the pair's own link (`decide`): a mistyped family name must not split a person whose
    other records agree."""
    return disagreements(gammas, model, names=False) > 0


#: Why a pair waits for review when no link was refused (`dedup.clustering.REFUSALS` has
#: the refusals): a must-not-disagree field that outright disagrees, or a score between the
#: thresholds. Stored as the item's review_reason.
HOLDS = {
    "given_name_differs": "the given names differ: twins and siblings share a birth date, "
    "parents, address and family name, so the rest of the agreement cannot decide",
    "family_name_differs": "the family names differ (a Vietnamese family name does not "
    "change at marriage)",
    "middle_name_differs": "the middle names differ",
    "dob_differs": "the dates of birth differ beyond a typing slip",
    "sex_differs": "the sexes differ",
    "pin_differs": "the personal ID numbers differ",
    "other_id_differs": "the old ID card numbers differ",
    "given_name_similar": "the given names are alike but both are names in their own right "
    "(Hà / Hằng): twins and siblings have such names, and no document number is shared",
    "uncertain": "the evidence lies between the review and auto-link thresholds",
}
_HOLD_OF = {
    "given_name": "given_name_differs",
    "middle_name": "middle_name_differs",
    "family_name": "family_name_differs",
    "dob": "dob_differs",
    "sex": "sex_differs",
    "personal_id_number": "pin_differs",
    "other_id_number": "other_id_differs",
}


def hold_reasons(
    gammas: Gammas, model: MatchModel, decision: np.ndarray, similar: np.ndarray | None = None
) -> dict[int, str]:
    """For every pair `decide` sent to review, the code (`HOLDS`) of why: the first
    must-not-disagree comparison that disagrees (after vouching), given names that are only
    alike (`similar_names`), else "uncertain"."""
    review = np.flatnonzero(decision == REVIEW)
    out = dict.fromkeys(review.tolist(), "uncertain")
    if len(review) == 0:
        return out
    if similar is not None:
        for k in np.flatnonzero(similar[review]).tolist():
            out[int(review[k])] = "given_name_similar"
    cleared = vouched(gammas, model)[review]
    found = np.zeros(len(review), dtype=bool)
    order = reordered(gammas, model)
    names = [n for n in model.thresholds.must_not_disagree if n in gammas.names and n in _HOLD_OF]
    hits = {n: _hits(gammas, model, n, order)[review] for n in names}
    # first what a shared number does not clear, then any field that differs at all (a
    # number cleared one, another still holds the pair)
    for name in names:
        hit = hits[name] if name in model.thresholds.vouching else hits[name] & ~cleared
        for k in np.flatnonzero(hit & ~found).tolist():
            out[int(review[k])] = _HOLD_OF[name]
        found |= hit
    for name in names:
        for k in np.flatnonzero(hits[name] & ~found).tolist():
            out[int(review[k])] = _HOLD_OF[name]
        found |= hits[name]
    return out


def decide(
    gammas: Gammas, scores: Scores, model: MatchModel, similar: np.ndarray | None = None
) -> np.ndarray:
    """auto_link / review / distinct codes (see DECISIONS).

    A pair that disagrees on one must-not-disagree field is never linked automatically,
    however strong the rest of its evidence: a person looks at it. A pair that disagrees on
    two (another given name and another birth date: a sibling sharing a household, parents
    and address) is distinct; sending it to review would bury the real questions. Pairs in
    `similar` (`similar_names`: twins' names) are never linked automatically either."""
    t = model.thresholds
    count = disagreements(gammas, model)
    decision = np.full(len(scores.probability), DISTINCT, dtype=np.int8)
    decision[(scores.probability >= t.review) & (count < 2)] = REVIEW
    auto = (scores.probability >= t.auto_link) & (count == 0)
    if similar is not None:
        auto &= ~similar
    decision[auto] = AUTO_LINK
    return decision
