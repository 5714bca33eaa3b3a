"""Scoring: match weights and probabilities from gammas and a model, then decisions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dedup.comparisons import DateComparison, NameComparison
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
        values = frame[comparison.column][pairs.left[at_level]]
        freq = np.fromiter((table.get(v, floor) for v in values), np.float64, len(values))
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


def vouched(gammas: Gammas, model: MatchModel) -> np.ndarray:
    """Pairs that carry one identity-document number (`Thresholds.vouching`): the same, or
    the same but for one slip of the pen (`Comparison.same_value`)."""
    out = np.zeros(len(gammas), dtype=bool)
    for name in model.thresholds.vouching:
        if name in gammas.names:
            index = gammas.names.index(name)
            out |= np.isin(gammas.matrix[:, index], model.comparisons[index].same_value)
    return out


def disagreements(gammas: Gammas, model: MatchModel) -> np.ndarray:
    """How many must-not-disagree comparisons each pair outright disagrees on (different
    given names, birth dates, numbers or sexes): evidence of two people, not a lack of it.

    A shared document number (`vouched`) clears one of them, a slip on one record (a
    mistyped date, a given name written wrong): a sibling has a number of its own. It
    never clears a disagreement on another document number, nor two disagreements (a
    sibling's number copied onto a record still differs in given name and birth date)."""
    count = np.zeros(len(gammas), dtype=np.int8)
    forgivable = np.zeros(len(gammas), dtype=bool)
    for name in model.thresholds.must_not_disagree:
        if name not in gammas.names:
            continue
        index = gammas.names.index(name)
        hit = np.isin(gammas.matrix[:, index], model.comparisons[index].disagreement)
        count += hit
        if name not in model.thresholds.vouching:
            forgivable |= hit
    return count - (forgivable & vouched(gammas, model))


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
        if isinstance(comparison, NameComparison | DateComparison):
            ok &= np.isin(column, comparison.agreement)
        else:
            ok &= ~np.isin(column, comparison.disagreement)
    return ok


def disagrees(gammas: Gammas, model: MatchModel) -> np.ndarray:
    return disagreements(gammas, model) > 0


def decide(gammas: Gammas, scores: Scores, model: MatchModel) -> np.ndarray:
    """auto_link / review / distinct codes (see DECISIONS).

    A pair that disagrees on one must-not-disagree field is never linked automatically,
    however strong the rest of its evidence: a person looks at it. A pair that disagrees on
    two (another given name and another birth date: a sibling sharing a household, parents
    and address) is distinct; sending it to review would bury the real questions."""
    t = model.thresholds
    count = disagreements(gammas, model)
    decision = np.full(len(scores.probability), DISTINCT, dtype=np.int8)
    decision[(scores.probability >= t.review) & (count < 2)] = REVIEW
    decision[(scores.probability >= t.auto_link) & (count == 0)] = AUTO_LINK
    return decision
