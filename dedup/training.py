"""Training without labels: m anchored on seed pairs, u from random pairs, both refined by
expectation–maximisation over the candidate pairs; term frequencies from the data at hand;
and a refinement from labels once reviewers have decided pairs."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from dedup.blocking import DEFAULT_RULES, BlockingRule
from dedup.comparisons import Comparison, compute_gammas
from dedup.model import MatchModel, Thresholds, starting_model
from dedup.types import NULL_LEVEL, Frame, Gammas, Pairs

log = logging.getLogger(__name__)

#: Probabilities are kept inside [FLOOR, 1 - FLOOR]: a level never seen must not become an
#: infinite weight.
FLOOR = 1e-6
#: Term-frequency tables keep the most common values; rarer ones get the floor frequency.
TF_MAX_VALUES = 20_000


def _level_shares(gamma: np.ndarray, levels: int, weights: np.ndarray | None = None) -> np.ndarray:
    present = gamma != NULL_LEVEL
    counts = np.bincount(
        gamma[present].astype(np.int64),
        weights=None if weights is None else weights[present],
        minlength=levels,
    ).astype(np.float64)
    return counts


def random_pairs(n: int, count: int, rng: np.random.Generator) -> Pairs:
    """`count` distinct-record pairs drawn uniformly: almost all of them non-matches."""
    if n < 2:
        return Pairs.empty()
    a = rng.integers(0, n, size=count)
    b = rng.integers(0, n - 1, size=count)
    b = np.where(b >= a, b + 1, b)
    left, right = np.minimum(a, b), np.maximum(a, b)
    return Pairs(left.astype(np.int64), right.astype(np.int64), np.zeros(count, np.int8))


def estimate_u(
    frame: Frame, comparisons: Sequence[Comparison], *, max_pairs: int, seed: int
) -> tuple[np.ndarray, ...]:
    """u: how often each level occurs between records drawn at random. Half a pseudo-count
    per level keeps unseen levels (an equal ID number between strangers) finite."""
    n = len(frame)
    pairs = random_pairs(n, min(max_pairs, n * (n - 1)), np.random.default_rng(seed))
    gammas = compute_gammas(frame, pairs, comparisons)
    out = []
    for index, comparison in enumerate(comparisons):
        counts = _level_shares(gammas.matrix[:, index], len(comparison.levels)) + 0.5
        out.append(np.clip(counts / counts.sum(), FLOOR, 1 - FLOOR))
    return tuple(out)


def key_weights(
    comparisons: Sequence[Comparison],
    rules: Sequence[BlockingRule],
    m: Sequence[np.ndarray],
    u: Sequence[np.ndarray],
) -> np.ndarray:
    """What each rule's keys say by themselves, as a table [rule, comparison, gamma + 1] of
    log2 Bayes factors (a last row of zeros for pairs no rule tagged): at the levels a rule's
    keys imply (`Comparison.implied_levels`), log2(P(implied | M) / P(implied | U))."""
    width = max((len(c.levels) for c in comparisons), default=0) + 1
    table = np.zeros((len(rules) + 1, len(comparisons), width))
    for r, rule in enumerate(rules):
        equal = rule.equal_columns()
        for c, comparison in enumerate(comparisons):
            implied = list(comparison.implied_levels(equal))
            if implied:
                said = np.log2(m[c][implied].sum() / u[c][implied].sum())
                table[r, c, np.array(implied) + 1] = said
    return table


def _key_evidence(table: np.ndarray, tags: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Per pair, the weight its own rule's keys gave it (the sum over comparisons);
    `codes` are the pairs' gammas + 1, as EM holds them."""
    rows = np.where(tags >= 0, tags, table.shape[0] - 1)
    return table[rows[:, None], np.arange(codes.shape[1])[None, :], codes].sum(axis=1)


def expectation_maximisation(
    gammas: Gammas,
    model: MatchModel,
    *,
    fit_m: bool = True,
    fit_u: bool = True,
    u_prior_strength: float = 0.0,
    m_prior_strength: float = 0.0,
    tags: np.ndarray | None = None,
    iterations: int = 100,
    tolerance: float = 1e-5,
) -> tuple[MatchModel, float]:
    """m, u and the prior of a candidate pair by EM over the candidate pairs (either of m
    and u can be held). With `u_prior_strength` k, u is the maximum a posteriori estimate
    under a prior worth k pairs centred on the starting u: a level that blocked non-matches
    rarely reach (a different birth date, when most rules block on it) keeps a sensible u
    instead of a near-zero one that would make disagreement look like a match;
    `m_prior_strength` does the same for m (`M_PRIOR_STRENGTH` says why). With `tags`
    (each pair's blocking rule), the prior is fitted per rule, on what its pairs show beyond
    the rule's own keys (`key_weights`): every pair of a rule agrees on its keys, so that
    agreement cannot tell its matches from its non-matches, yet counted in the posterior it
    lifts the rule's prior, which lifts the posteriors, until a weak rule's prior saturates
    near 1 (given name + birth date in a Western file: 0.999999, and strangers called John
    born the same day were linked). Returns the model and the expected number of matches."""
    m = [x.copy() for x in model.m]
    u = [x.copy() for x in model.u]
    u_prior = [x * u_prior_strength for x in model.u]
    m_prior = [x * m_prior_strength for x in model.m]
    prior = model.prior
    groups = np.zeros(len(gammas), dtype=np.int64) if tags is None else tags.astype(np.int64)
    sizes = np.bincount(groups)
    priors = np.full(len(sizes), prior)
    codes = gammas.matrix.astype(np.int16) + 1  # null -> 0; small: pairs can be millions
    p = np.zeros(len(gammas))
    for step in range(iterations):
        pair_prior = priors[groups]
        log_odds = np.log2(pair_prior / (1 - pair_prior))
        for index in range(len(m)):
            log_odds += np.r_[0.0, np.log2(m[index] / u[index])][codes[:, index]]
        if tags is not None:  # see the docstring: a rule must not vouch for itself
            log_odds -= _key_evidence(
                key_weights(model.comparisons, model.rules, m, u), tags, codes
            )
        p = 1.0 / (1.0 + np.exp2(-np.clip(log_odds, -60, 60)))
        change = 0.0
        for index, comparison in enumerate(model.comparisons):
            levels = len(comparison.levels)
            targets = ([(m, p, m_prior[index])] if fit_m else []) + (
                [(u, 1.0 - p, u_prior[index])] if fit_u else []
            )
            for table, weight, pseudo in targets:
                counts = _level_shares(gammas.matrix[:, index], levels, weight) + pseudo
                if counts.sum() <= 0:
                    continue
                new = np.clip(counts / counts.sum(), FLOOR, 1 - FLOOR)
                change = max(change, float(np.abs(new - table[index]).max()))
                table[index] = new
        new = np.clip(np.bincount(groups, weights=p) / np.maximum(sizes, 1), FLOOR, 1 - FLOOR)
        change = max(change, float(np.abs(new - priors).max()))
        priors = new
        if change < tolerance:
            log.info("EM converged", extra={"iterations": step + 1})
            break
    prior = float(np.clip(p.mean(), FLOOR, 1 - FLOOR)) if len(p) else prior
    rule_priors = dict(model.rule_priors)
    if tags is not None:
        rule_priors = {
            rule.name: float(priors[index])
            for index, rule in enumerate(model.rules)
            if index < len(sizes) and sizes[index] > 0
        }
    return replace(model, m=tuple(m), u=tuple(u), prior=prior, rule_priors=rule_priors), float(
        p.sum()
    )


#: Pairs that are almost surely the same person, whatever the data: the same personal ID
#: number; the same other document number; or the same family and given name (up to
#: diacritics) and the same full date of birth. A comparison's m is read off the seeds of
#: the rules that do not involve it.
SEED_RULES: tuple[dict[str, int], ...] = (
    {"personal_id_number": 0},
    {"other_id_number": 0},
    {"family_name": 1, "given_name": 1, "dob": 0},
)
#: Fewer seed pairs than this for a comparison and its starting m stays.
MIN_SEEDS = 30


def seed_m(gammas: Gammas, model: MatchModel) -> tuple[np.ndarray, ...]:
    """m from seed pairs (`SEED_RULES`, each rule at or above the given level of every
    comparison it names), never from the pairs a comparison itself selected.

    Why not EM for m: the candidate pairs are full of households. Siblings agree on family
    name, parents, address and birth place, and an unsupervised two-class model happily
    makes "same household" its match class. Anchoring m on identity keeps the match class
    what it must be; EM then learns u among blocked non-matches (`train`).
    """
    names = gammas.names
    selected: list[tuple[set[str], np.ndarray]] = []
    for rule in SEED_RULES:
        if not all(name in names for name in rule):
            continue
        mask = np.ones(len(gammas), dtype=bool)
        for name, level in rule.items():
            g = gammas.column(name)
            mask &= (g >= 0) & (g <= level)
        selected.append((set(rule), mask))
    m = list(model.m)
    for index, comparison in enumerate(model.comparisons):
        mask = np.zeros(len(gammas), dtype=bool)
        for involved, seeds in selected:
            if comparison.name not in involved:
                mask |= seeds
        counts = _level_shares(gammas.matrix[mask, index], len(comparison.levels))
        if counts.sum() >= MIN_SEEDS:
            counts += 0.5  # a level unseen among the seeds is rare, not impossible
            m[index] = np.clip(counts / counts.sum(), FLOOR, 1 - FLOOR)
    return tuple(m)


def term_frequencies(
    frame: Frame, comparisons: Sequence[Comparison]
) -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    """Relative frequency of each value of the term-frequency-adjusted comparisons, and the
    expected frequency (Σ f²) the adjustment is relative to."""
    tables: dict[str, dict[str, float]] = {}
    expected: dict[str, float] = {}
    for comparison in comparisons:
        if comparison.tf_level is None:
            continue
        values = [v for v in frame[comparison.column] if v is not None]
        if not values:
            continue
        counts = Counter(values)
        total = len(values)
        tables[comparison.name] = {
            value: count / total for value, count in counts.most_common(TF_MAX_VALUES)
        }
        # The chance two random records agree on this field: the average the adjustment
        # is taken against.
        expected[comparison.name] = sum((c / total) ** 2 for c in counts.values())
    return tables, expected


def train(
    frame: Frame,
    pairs: Pairs,
    comparisons: Sequence[Comparison],
    *,
    rules: Sequence[BlockingRule] = DEFAULT_RULES,
    thresholds: Thresholds | None = None,
    u_pairs: int = 1_000_000,
    seed: int = 0,
    gammas: Gammas | None = None,
) -> MatchModel:
    """A model trained on this data: m from seed pairs and u from random pairs to start,
    then EM for u and the per-rule priors (m held), then for m (u held); term frequencies."""
    start = starting_model(comparisons)
    u = estimate_u(frame, comparisons, max_pairs=u_pairs, seed=seed)
    tf, tf_expected = term_frequencies(frame, comparisons)
    model = replace(
        start, u=u, tf=tf, tf_expected=tf_expected, rules=tuple(rules),
        thresholds=thresholds or Thresholds(),
        trained_on={"records": len(frame), "pairs": len(pairs), "u_pairs": u_pairs,
                    "seed": seed},
    )  # fmt: skip
    if gammas is None:
        gammas = compute_gammas(frame, pairs, comparisons)
    if len(gammas) >= MIN_TRAINING_PAIRS:
        model = replace(model, m=seed_m(gammas, model))
        tags = pairs.rule
        if len(gammas) > EM_MAX_PAIRS:  # a uniform sample estimates the same shares
            keep = np.sort(np.random.default_rng(seed).choice(len(gammas), EM_MAX_PAIRS, False))
            gammas, tags = Gammas(gammas.names, gammas.matrix[keep]), tags[keep]
        model, _ = expectation_maximisation(
            gammas, model, fit_m=False, u_prior_strength=U_PRIOR_STRENGTH, tags=tags
        )
        model, _ = expectation_maximisation(
            gammas, model, fit_u=False, m_prior_strength=M_PRIOR_STRENGTH, tags=tags
        )
    return model


#: EM runs on at most this many candidate pairs (a uniform sample beyond it).
EM_MAX_PAIRS = 2_000_000
#: How many pairs the random-pair u counts as when EM fits u among candidate pairs.
U_PRIOR_STRENGTH = 1000.0
#: How many pairs the seed (or starting) m counts as when EM fits m. A batch in which hardly
#: anyone appears twice (the first list of a commune, the usual first upload) has almost no
#: match mass: without this prior EM takes whatever structure its non-matches share (near
#: numbers, a household's parents) for the match class, and a model trained on it then never
#: links the same citizen uploaded again (an exact number weighed 0 bits). With many true
#: pairs the data outweigh it.
M_PRIOR_STRENGTH = 200.0
#: Fewer candidate pairs than this and EM has nothing to learn from: the starting m and the
#: random-pair u stay.
MIN_TRAINING_PAIRS = 200


def refine_with_labels(
    model: MatchModel, gammas: Gammas, is_match: np.ndarray, *, strength: float = 100.0
) -> MatchModel:
    """m moved towards the level shares among pairs reviewers called matches; `strength` is
    how many pairs the old estimate counts as, so a handful of decisions nudges the model
    rather than replacing it. u stays: reviewed non-matches are look-alikes, not the random
    pairs u describes."""
    m = list(model.m)
    for index, comparison in enumerate(model.comparisons):
        counts = _level_shares(gammas.matrix[is_match, index], len(comparison.levels))
        mixed = counts + strength * m[index]
        m[index] = np.clip(mixed / mixed.sum(), FLOOR, 1 - FLOOR)
    return replace(model, m=tuple(m))
