"""The Fellegi–Sunter model: m and u per comparison level, the prior, term frequencies and
thresholds; saved in `match_model` so every decision can name the model that made it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from dedup.blocking import DEFAULT_RULES, BlockingRule
from dedup.comparisons import Comparison, comparison_from_dict

#: Probability at or above which a pair is linked without a person looking at it. High on
#: purpose: two citizens sharing one identity is the costliest failure of a register.
AUTO_LINK = 0.95
#: Between this and AUTO_LINK a pair goes to the review queue; below it, distinct.
REVIEW = 0.3
#: Comparisons that must not outright disagree ("else" level) for a pair to be linked
#: automatically, however strong the rest: twins share parents, address, birth date and
#: family name, and all that correlated agreement must not outvote different given names.
#: The family and middle names too: a Vietnamese family name does not change at marriage,
#: and the middle part ("Minh" / "Công") is part of the name (one left out is unknown, not a
#: disagreement; a name written in another order is no disagreement either,
#: `dedup.scoring.reordered`). Namesakes born on one day differ there.
MUST_NOT_DISAGREE: tuple[str, ...] = ("personal_id_number", "given_name", "middle_name",
                                      "family_name", "dob", "sex")  # fmt: skip
#: Identity-document numbers whose agreement (exact, or one slip of the pen apart) vouches
#: for one other outright disagreement (a mistyped birth date, a given name written wrong): a
#: sibling has a number of its own. Never for a disagreement on another of these numbers.
VOUCHING: tuple[str, ...] = ("personal_id_number", "other_id_number")


@dataclass(frozen=True)
class Thresholds:
    auto_link: float = AUTO_LINK
    review: float = REVIEW
    must_not_disagree: tuple[str, ...] = MUST_NOT_DISAGREE
    vouching: tuple[str, ...] = VOUCHING

    def __post_init__(self) -> None:
        if not 0 < self.review <= self.auto_link <= 1:
            raise ValueError(
                f"thresholds must satisfy 0 < review <= auto_link <= 1, got review="
                f"{self.review}, auto_link={self.auto_link}"
            )


@dataclass(frozen=True)
class MatchModel:
    """Parameters of one trained model. `m[c]` and `u[c]` hold one probability per level of
    comparison `c` (strongest first), among the candidate pairs that blocking produces;
    `tf[c]` the relative frequency of each value of a term-frequency-adjusted comparison and
    `tf_expected[c]` its average (Σ f²); `prior` the match probability of a candidate pair."""

    comparisons: tuple[Comparison, ...]
    m: tuple[np.ndarray, ...]
    u: tuple[np.ndarray, ...]
    prior: float
    tf: dict[str, dict[str, float]] = field(default_factory=dict)
    tf_expected: dict[str, float] = field(default_factory=dict)
    #: The prior per blocking rule (pairs tagged with it): a shared ID number makes a match
    #: far likelier than a shared name and birth year.
    rule_priors: dict[str, float] = field(default_factory=dict)
    thresholds: Thresholds = Thresholds()
    rules: tuple[BlockingRule, ...] = DEFAULT_RULES
    trained_on: dict = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.comparisons)

    def priors(self, tags: np.ndarray) -> np.ndarray:
        """The prior of each pair from the rule it was blocked by (`tags` index `rules`)."""
        table = np.array([self.rule_priors.get(r.name, self.prior) for r in self.rules] or [0.0])
        return np.where(tags >= 0, table[np.clip(tags, 0, len(table) - 1)], self.prior)

    def with_thresholds(self, thresholds: Thresholds) -> MatchModel:
        return replace(self, thresholds=thresholds)

    def to_params(self) -> dict:
        """JSON-ready parameters for `match_model.params`."""
        return {
            "comparisons": [c.to_dict() for c in self.comparisons],
            "m": [m.tolist() for m in self.m],
            "u": [u.tolist() for u in self.u],
            "prior": self.prior,
            "tf": self.tf,
            "tf_expected": self.tf_expected,
            "rule_priors": self.rule_priors,
            "thresholds": {"auto_link": self.thresholds.auto_link,
                           "review": self.thresholds.review,
                           "must_not_disagree": list(self.thresholds.must_not_disagree),
                           "vouching": list(self.thresholds.vouching)},
            "rules": [r.to_dict() for r in self.rules],
            "trained_on": self.trained_on,
        }  # fmt: skip

    @classmethod
    def from_params(cls, params: dict) -> MatchModel:
        t = params.get("thresholds", {})
        return cls(
            comparisons=tuple(comparison_from_dict(c) for c in params["comparisons"]),
            m=tuple(np.asarray(m, dtype=np.float64) for m in params["m"]),
            u=tuple(np.asarray(u, dtype=np.float64) for u in params["u"]),
            prior=float(params["prior"]),
            tf=params.get("tf", {}),
            tf_expected=params.get("tf_expected", {}),
            rule_priors=params.get("rule_priors", {}),
            thresholds=Thresholds(
                auto_link=t.get("auto_link", AUTO_LINK),
                review=t.get("review", REVIEW),
                must_not_disagree=tuple(t.get("must_not_disagree", MUST_NOT_DISAGREE)),
                vouching=tuple(t.get("vouching", VOUCHING)),
            ),
            rules=tuple(BlockingRule.from_dict(r) for r in params.get("rules", []))
            or DEFAULT_RULES,
            trained_on=params.get("trained_on", {}),
        )


def starting_model(comparisons: Sequence[Comparison], prior: float = 0.1) -> MatchModel:
    """Before training (and what remains where the data are too few to train): the strongest
    level is likely among matches, outright disagreement rare; u even."""
    m, u = [], []
    for c in comparisons:
        k = len(c.levels)
        mm = np.full(k, 0.18 / max(k - 2, 1))
        mm[0], mm[-1] = 0.8, 0.02
        m.append(mm / mm.sum())
        u.append(np.full(k, 1.0 / k))
    return MatchModel(tuple(comparisons), tuple(m), tuple(u), prior)
