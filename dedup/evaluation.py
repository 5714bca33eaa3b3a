"""Pairwise quality of a clustering (or of a list of links) against known truth.

Pure functions over label arrays: no database, no loop over pairs. A clustering is scored
by the record pairs it puts together: a pair is *predicted* when both records share a
predicted cluster, *true* when both share a truth label, a *true positive* when both.
The counts come from the contingency table of (predicted, truth) labels: a cell of n records
holds C(n, 2) true-positive pairs, a predicted cluster of n records C(n, 2) predicted pairs.

Conventions (the usual ones of record linkage evaluation, written down so that a table of
results means one thing):

- precision = true positives / predicted pairs, and 1.0 when nothing is predicted (a
  clustering of singletons has made no wrong link);
- recall = true positives / true pairs, and 1.0 when there is nothing to find (every truth
  label unique);
- F1 = 2PR / (P + R), and 0.0 when both are 0;
- empty input scores 1.0 / 1.0 / 1.0 with every count 0;
- a false merge is a predicted cluster (or, for `pair_scores`, a link) that joins records of
  two or more true persons; `false_merge_pairs` counts the wrong pairs themselves.

Labels are any hashable values that numpy can order (ints, strings); only equality matters,
so predicted and truth labels need not share a vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["Scores", "pair_scores", "pairwise_scores"]

IntArray = npt.NDArray[np.int64]
#: One label (or key) per record: a list, tuple or numpy array.
Labels = Sequence[Any] | npt.ArrayLike


@dataclass(frozen=True)
class Scores:
    """Pair counts and the rates derived from them (see the module docstring)."""

    records: int
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    precision: float
    recall: float
    f1: float
    false_merges: int
    false_merge_pairs: int

    @property
    def missed_pairs(self) -> int:
        """True pairs that the prediction left apart."""
        return self.true_pairs - self.true_positive_pairs


def pairwise_scores(predicted: Labels, truth: Labels) -> Scores:
    """Score a clustering: `predicted[i]` and `truth[i]` label record i.

    Raises ValueError when the two arrays differ in length or are not one-dimensional.
    """
    pred_codes, n_pred = _codes(predicted, "predicted")
    true_codes, n_true = _codes(truth, "truth")
    if pred_codes.shape != true_codes.shape:
        raise ValueError(
            f"predicted and truth label {pred_codes.size} and {true_codes.size} records"
        )
    n = int(pred_codes.size)
    if n == 0:
        return _scores(0, 0, 0, 0, 0)
    cells, cell_sizes = np.unique(pred_codes * n_true + true_codes, return_counts=True)
    true_positive = _pairs(cell_sizes)
    predicted_pairs = _pairs(np.bincount(pred_codes, minlength=n_pred))
    true_pairs = _pairs(np.bincount(true_codes, minlength=n_true))
    # A predicted cluster spanning two or more truth labels has two or more non-empty cells.
    persons_per_cluster = np.bincount(cells // n_true, minlength=n_pred)
    false_merges = int(np.count_nonzero(persons_per_cluster > 1))
    return _scores(n, true_pairs, predicted_pairs, true_positive, false_merges)


def pair_scores(
    pairs_left: Labels,
    pairs_right: Labels,
    truth_by_key: Mapping[Any, Any],
) -> Scores:
    """Score a list of links (record key pairs, e.g. only the automatic links) as they are,
    without closing them transitively.

    A pair given twice (in either order) counts once; a record linked to itself is ignored.
    True pairs are counted over all the records of `truth_by_key`. Each wrong link is one
    false merge, so `false_merges == false_merge_pairs` here. Raises ValueError for a key
    missing from `truth_by_key` or left and right lists of different lengths.
    """
    keys = np.asarray(list(truth_by_key.keys()))
    true_codes, n_true = _codes(list(truth_by_key.values()), "truth")
    n = int(keys.size)
    true_pairs = _pairs(np.bincount(true_codes, minlength=n_true)) if n else 0
    left = _key_index(keys, pairs_left, "left")
    right = _key_index(keys, pairs_right, "right")
    if left.shape != right.shape:
        raise ValueError(f"{left.size} left keys but {right.size} right keys")
    lo, hi = np.minimum(left, right), np.maximum(left, right)
    keep = lo != hi
    unique = np.unique(lo[keep] * max(n, 1) + hi[keep])
    lo, hi = unique // max(n, 1), unique % max(n, 1)
    predicted_pairs = int(unique.size)
    true_positive = int(np.count_nonzero(true_codes[lo] == true_codes[hi]))
    wrong = predicted_pairs - true_positive
    return _scores(n, true_pairs, predicted_pairs, true_positive, wrong)


def _codes(labels: Labels, name: str) -> tuple[IntArray, int]:
    """Dense integer codes 0..k-1 for the distinct labels, and k."""
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"{name} labels must be one-dimensional")
    if array.dtype == object:
        # Mixed or unorderable labels: number them by first appearance (one pass over records).
        seen: dict[Any, int] = {}
        codes = np.fromiter((seen.setdefault(v, len(seen)) for v in array), np.int64, array.size)
        return codes, len(seen)
    uniques, inverse = np.unique(array, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1), int(uniques.size)


def _key_index(keys: npt.NDArray[Any], wanted: Labels, side: str) -> IntArray:
    """Position in `keys` of each of `wanted`, by binary search over the sorted keys."""
    wanted_array = np.asarray(wanted)
    if wanted_array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if keys.size == 0:
        raise ValueError(f"{side} key {wanted_array[0].tolist()!r} is not in truth_by_key")
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    at = np.searchsorted(sorted_keys, wanted_array)
    at_clipped = np.minimum(at, keys.size - 1)
    missing = sorted_keys[at_clipped] != wanted_array
    if np.any(missing):
        first = wanted_array[np.argmax(missing)].tolist()
        raise ValueError(f"{side} key {first!r} is not in truth_by_key")
    return order[at_clipped].astype(np.int64)


def _pairs(sizes: npt.NDArray[np.integer[Any]]) -> int:
    """Sum of C(n, 2) over group sizes."""
    s = sizes.astype(np.int64)
    return int((s * (s - 1) // 2).sum())


def _scores(
    records: int, true_pairs: int, predicted_pairs: int, true_positive: int, false_merges: int
) -> Scores:
    precision = true_positive / predicted_pairs if predicted_pairs else 1.0
    recall = true_positive / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(
        records=records,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        true_positive_pairs=true_positive,
        precision=precision,
        recall=recall,
        f1=f1,
        false_merges=false_merges,
        false_merge_pairs=predicted_pairs - true_positive,
    )
