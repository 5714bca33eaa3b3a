"""Pairwise cluster metrics, on examples small enough to count by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup.evaluation import Scores, pair_scores, pairwise_scores


def test_perfect_clustering() -> None:
    # Persons: {0,1,2} and {3,4}; 3 + 1 = 4 true pairs, all found.
    s = pairwise_scores(["a", "a", "a", "b", "b"], [7, 7, 7, 9, 9])
    assert (s.true_pairs, s.predicted_pairs, s.true_positive_pairs) == (4, 4, 4)
    assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0)
    assert (s.false_merges, s.false_merge_pairs, s.missed_pairs) == (0, 0, 0)
    assert s.records == 5


def test_one_false_merge() -> None:
    # Truth: {0,1} {2,3} {4}. Predicted: {0,1,2,3} {4}.
    # Predicted pairs C(4,2) = 6, of which (0,1) and (2,3) are true: precision 2/6, recall 2/2.
    s = pairwise_scores([1, 1, 1, 1, 2], ["p", "p", "q", "q", "r"])
    assert (s.true_pairs, s.predicted_pairs, s.true_positive_pairs) == (2, 6, 2)
    assert s.precision == pytest.approx(1 / 3)
    assert s.recall == 1.0
    assert s.f1 == pytest.approx(2 * (1 / 3) / (1 / 3 + 1))
    assert s.false_merges == 1
    assert s.false_merge_pairs == 4


def test_split_cluster_loses_recall_only() -> None:
    # Truth: one person of 4 records (6 pairs). Predicted: {0,1} {2,3}: 2 pairs, both true.
    s = pairwise_scores([0, 0, 1, 1], [5, 5, 5, 5])
    assert (s.true_pairs, s.predicted_pairs, s.true_positive_pairs) == (6, 2, 2)
    assert s.precision == 1.0
    assert s.recall == pytest.approx(2 / 6)
    assert s.false_merges == 0
    assert s.missed_pairs == 4


def test_false_merges_count_clusters_not_pairs() -> None:
    # Predicted cluster A joins persons x, y, z (one false merge, 3 wrong pairs);
    # cluster B joins persons u and v (another, 1 wrong pair); cluster C is pure.
    predicted = ["A", "A", "A", "B", "B", "C", "C"]
    truth = ["x", "y", "z", "u", "v", "w", "w"]
    s = pairwise_scores(predicted, truth)
    assert s.false_merges == 2
    assert s.false_merge_pairs == 4
    assert (s.predicted_pairs, s.true_positive_pairs, s.true_pairs) == (5, 1, 1)


def test_all_singletons_predicted() -> None:
    # Nothing predicted: precision is 1.0 by convention, recall 0, F1 0.
    s = pairwise_scores([1, 2, 3, 4], ["a", "a", "b", "c"])
    assert (s.predicted_pairs, s.true_pairs) == (0, 1)
    assert (s.precision, s.recall, s.f1) == (1.0, 0.0, 0.0)
    assert s.false_merges == 0


def test_all_singletons_in_truth() -> None:
    # Nothing to find: recall 1.0 by convention; every predicted pair is wrong.
    s = pairwise_scores([1, 1, 2], ["a", "b", "c"])
    assert (s.true_pairs, s.predicted_pairs, s.true_positive_pairs) == (0, 1, 0)
    assert (s.precision, s.recall, s.f1) == (0.0, 1.0, 0.0)
    assert s.false_merges == 1


def test_singletons_both_sides() -> None:
    s = pairwise_scores([1, 2, 3], [4, 5, 6])
    assert s == Scores(3, 0, 0, 0, 1.0, 1.0, 1.0, 0, 0)


def test_empty_input() -> None:
    assert pairwise_scores([], []) == Scores(0, 0, 0, 0, 1.0, 1.0, 1.0, 0, 0)


def test_labels_are_only_compared_for_equality() -> None:
    # The same partition under other names, types or orders scores the same.
    a = pairwise_scores([3, 3, 1, 2, 2], ["x", "x", "x", "y", "z"])
    b = pairwise_scores(["b", "b", "c", "a", "a"], np.array([0, 0, 0, 1, 2]))
    c = pairwise_scores([3, 3, 1, 2, 2], [None, None, None, "y", 4])  # object labels
    assert a == b == c
    assert (a.predicted_pairs, a.true_pairs, a.true_positive_pairs, a.false_merges) == (2, 3, 1, 1)


def test_length_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="3 and 2 records"):
        pairwise_scores([1, 2, 3], [1, 2])


def test_pair_scores_hand_example() -> None:
    truth = {"r1": "P", "r2": "P", "r3": "P", "r4": "Q", "r5": "R"}  # 3 true pairs
    s = pair_scores(["r1", "r2", "r3"], ["r2", "r1", "r4"], truth)
    # (r1,r2) given twice counts once; (r3,r4) is a wrong link.
    assert (s.predicted_pairs, s.true_positive_pairs, s.true_pairs) == (2, 1, 3)
    assert s.precision == 0.5
    assert s.recall == pytest.approx(1 / 3)
    assert (s.false_merges, s.false_merge_pairs) == (1, 1)
    assert s.records == 5


def test_pair_scores_is_not_transitive() -> None:
    # r1-r2 and r2-r3 linked: as a clustering that is 3 pairs, as links only 2.
    truth = {1: "P", 2: "P", 3: "P"}
    s = pair_scores([1, 2], [2, 3], truth)
    assert (s.predicted_pairs, s.true_positive_pairs, s.true_pairs) == (2, 2, 3)
    assert s.recall == pytest.approx(2 / 3)


def test_pair_scores_ignores_self_links_and_handles_nothing() -> None:
    truth = {"a": 1, "b": 1}
    s = pair_scores(["a"], ["a"], truth)
    assert (s.predicted_pairs, s.precision, s.recall) == (0, 1.0, 0.0)
    assert pair_scores([], [], {}) == Scores(0, 0, 0, 0, 1.0, 1.0, 1.0, 0, 0)


def test_pair_scores_unknown_key_is_refused() -> None:
    with pytest.raises(ValueError, match="right key 'zz'"):
        pair_scores(["a"], ["zz"], {"a": 1, "b": 1})
    with pytest.raises(ValueError, match="left key 'a'"):
        pair_scores(["a"], ["a"], {})
    with pytest.raises(ValueError, match="2 left keys but 1 right"):
        pair_scores(["a", "b"], ["b"], {"a": 1, "b": 1})


def _brute_force(predicted: list[int], truth: list[int]) -> tuple[int, int, int, int]:
    """The definition, pair by pair."""
    tp = pp = tt = 0
    for i, j in itertools.combinations(range(len(predicted)), 2):
        same_p, same_t = predicted[i] == predicted[j], truth[i] == truth[j]
        pp += same_p
        tt += same_t
        tp += same_p and same_t
    clusters: dict[int, set[int]] = {}
    for p, t in zip(predicted, truth, strict=True):
        clusters.setdefault(p, set()).add(t)
    return tp, pp, tt, sum(len(ts) > 1 for ts in clusters.values())


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=30))
def test_contingency_counts_agree_with_the_pair_by_pair_definition(
    labels: list[tuple[int, int]],
) -> None:
    predicted = [p for p, _ in labels]
    truth = [t for _, t in labels]
    s = pairwise_scores(predicted, truth)
    tp, pp, tt, false_merges = _brute_force(predicted, truth)
    assert (s.true_positive_pairs, s.predicted_pairs, s.true_pairs) == (tp, pp, tt)
    assert s.false_merges == false_merges
    assert s.false_merge_pairs == pp - tp


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), max_size=15))
def test_pair_scores_of_all_cluster_pairs_equal_cluster_scores(
    labels: list[tuple[int, int]],
) -> None:
    # Listing every pair inside each predicted cluster as a link gives the clustering's counts.
    keys = list(range(len(labels)))
    pairs = [(i, j) for i, j in itertools.combinations(keys, 2) if labels[i][0] == labels[j][0]]
    links = pair_scores(
        [i for i, _ in pairs], [j for _, j in pairs], {k: labels[k][1] for k in keys}
    )
    clusters = pairwise_scores([p for p, _ in labels], [t for _, t in labels])
    assert (links.predicted_pairs, links.true_positive_pairs, links.true_pairs) == (
        clusters.predicted_pairs,
        clusters.true_positive_pairs,
        clusters.true_pairs,
    )
