"""Quality floors on labelled files (tests/data/dedup, made with popdb.synthetic and kept
fixed): a Vietnamese DC01 file and a Western file loaded through a mapping profile.

Floors sit just under what the engine measured when they were set (Vietnamese: precision
1.000, recall 0.947; foreign: precision 1.000, recall 0.930). Raise them on purpose when
the engine improves; never lower them quietly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dedup.report import evaluate
from dedup.run import RunOptions
from importers.batches import BatchRequest, register
from importers.pipeline import run_batch
from popdb.registry.matching import match

DATA = Path(__file__).resolve().parent.parent / "data" / "dedup"


@pytest.mark.parametrize(
    ("file", "profile", "min_precision", "min_recall"),
    [
        ("vietnam-700.csv", None, 0.995, 0.93),
        ("foreign-700.csv", "foreign-profile.json", 0.995, 0.91),
    ],
)
def test_the_engine_keeps_its_precision_and_recall_floors(
    session, scope, file, profile, min_precision, min_recall
):
    mapping = json.loads((DATA / profile).read_text()) if profile else None
    batch, _ = register(
        session, BatchRequest(path=DATA / file, commune_code="00004", mapping=mapping)
    )
    assert run_batch(scope, batch.id, DATA / file)["rejected"] == 0
    match(session.connection(), RunOptions())
    scores = evaluate(session.connection(), "truth_id")
    clusters, auto = scores["clusters"], scores["auto_links"]
    assert clusters["precision"] >= min_precision, clusters
    assert clusters["recall"] >= min_recall, clusters
    assert auto["precision"] >= min_precision, auto
