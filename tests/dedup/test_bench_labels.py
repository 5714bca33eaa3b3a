"""The dedup benchmark scores records the engine gave no person as singletons."""

from __future__ import annotations

from pathlib import Path

from dedup.evaluation import pairwise_scores
from tests.bench.dedup_quality import cluster_labels


def test_records_without_a_person_are_singletons_not_one_cluster(tmp_path: Path) -> None:
    # two rejected (nameless) rows of different people, and one linked pair
    clusters = tmp_path / "clusters.csv"
    clusters.write_text(
        "source_key,person_id\nrec-1-org,\nrec-2-org,\nrec-3-org,7\nrec-3-dup-0,7\n",
        encoding="utf-8",
    )
    keys = ["rec-1-org", "rec-2-org", "rec-3-org", "rec-3-dup-0", "rec-4-org"]
    labels, missing = cluster_labels(clusters, keys)
    assert missing == 3  # two without a person, one absent from the export
    scores = pairwise_scores(labels, ["1", "2", "3", "3", "4"])
    assert scores.false_merges == 0
    assert scores.precision == 1.0
    assert scores.recall == 1.0
