"""Supervised refinement: reviewers' merge and distinct decisions as labels.

The labelled pairs are the ones the model was least sure of, so they say little about the
whole population; they move m (how matches look) and are then used to report how the
thresholds would sort them before and after. u stays: it describes random pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa

from dedup import store
from dedup.comparisons import compute_gammas
from dedup.model import MatchModel
from dedup.scoring import match_weights, tf_adjustments
from dedup.training import refine_with_labels
from dedup.types import Frame, Pairs
from popdb.core.errors import InvalidInput

LABELLED = "review_status IN ('merged', 'distinct') AND decided_by IS NOT NULL"


@dataclass(frozen=True)
class Labelled:
    frame: Frame
    pairs: Pairs
    is_match: np.ndarray


def labelled_pairs(connection: sa.Connection, model: MatchModel) -> Labelled:
    """Pairs a person decided (merged = match, distinct = not), with their records' keys."""
    rows = connection.execute(
        sa.text(
            "SELECT left_record_id, right_record_id, review_status = 'merged', blocking_rule "
            f"FROM match_candidate WHERE {LABELLED} ORDER BY left_record_id, right_record_id"
        )
    ).all()
    store.compute_missing_keys(connection)
    frame, _, _ = store.load_frame(
        connection,
        "k.record_id IN (SELECT left_record_id FROM match_candidate WHERE "
        f"{LABELLED} UNION SELECT right_record_id FROM match_candidate WHERE {LABELLED})",
    )
    position = {int(record_id): i for i, record_id in enumerate(frame.ids)}
    rule_index = {rule.name: i for i, rule in enumerate(model.rules)}
    kept = [r for r in rows if r[0] in position and r[1] in position]
    pairs = Pairs(
        np.array([position[r[0]] for r in kept], dtype=np.int64),
        np.array([position[r[1]] for r in kept], dtype=np.int64),
        np.array([rule_index.get(r[3], -1) for r in kept], dtype=np.int8),
    )
    return Labelled(frame, pairs, np.array([bool(r[2]) for r in kept], dtype=bool))


def probabilities(model: MatchModel, labelled: Labelled) -> np.ndarray:
    gammas = compute_gammas(labelled.frame, labelled.pairs, model.comparisons)
    adjust = tf_adjustments(model, labelled.frame, labelled.pairs, gammas)
    return match_weights(gammas, model, adjust, tags=labelled.pairs.rule).probability


def threshold_report(model: MatchModel, probability: np.ndarray, is_match: np.ndarray) -> dict:
    """Precision and recall of "at or above the threshold" on the labelled pairs."""
    out: dict[str, Any] = {}
    t = model.thresholds
    for name, threshold in (("auto_link", t.auto_link), ("review", t.review)):
        above = probability >= threshold
        hits = int((above & is_match).sum())
        out[name] = {
            "threshold": threshold,
            "above": int(above.sum()),
            "precision": round(hits / int(above.sum()), 4) if above.any() else None,
            "recall": round(hits / int(is_match.sum()), 4) if is_match.any() else None,
        }
    return out


#: Fewer decisions than this and refining would follow noise.
MIN_LABELS = 20


def refine(
    connection: sa.Connection, model: MatchModel, *, min_labels: int = MIN_LABELS
) -> tuple[MatchModel, dict]:
    """The model with m refined on reviewers' decisions, and how it sorts them before and
    after. Raises InvalidInput when there are too few decisions to learn from."""
    labelled = labelled_pairs(connection, model)
    matches = int(labelled.is_match.sum())
    if len(labelled.is_match) < min_labels or matches == 0:
        raise InvalidInput(
            f"{len(labelled.is_match)} reviewer decisions ({matches} merges): at least "
            f"{min_labels}, some of them merges, are needed to refine the model"
        )
    gammas = compute_gammas(labelled.frame, labelled.pairs, model.comparisons)
    refined = refine_with_labels(model, gammas, labelled.is_match)
    report = {
        "labels": len(labelled.is_match),
        "merges": matches,
        "distinct": len(labelled.is_match) - matches,
        "before": threshold_report(model, probabilities(model, labelled), labelled.is_match),
        "after": threshold_report(refined, probabilities(refined, labelled), labelled.is_match),
    }
    return refined, report
