"""Reviewers' decisions as labels: counted, m refined, u kept, too few refused."""

from __future__ import annotations

import numpy as np
import pytest
import sqlalchemy as sa

from dedup.refinement import refine
from dedup.run import RunOptions, active_model
from popdb.core.errors import InvalidInput
from popdb.core.models.source_record import RAW_COLUMN_INDEX
from popdb.registry.matching import match
from tests.dedup.test_run import PEOPLE, load, write


def _decide_all_by_truth(connection: sa.Connection, admin_id: int) -> tuple[int, int]:
    """Label every scored pair as a reviewer who knows the truth would."""
    connection.execute(
        sa.text(
            "UPDATE match_candidate mc SET decided_by = :admin, decided_at = now(), "
            "review_status = CASE WHEN a.raw->>ka.i = b.raw->>kb.i "
            "THEN 'merged'::review_status ELSE 'distinct'::review_status END "
            f"FROM source_record a JOIN ({RAW_COLUMN_INDEX}) ka USING (batch_id), "
            f"source_record b JOIN ({RAW_COLUMN_INDEX}) kb USING (batch_id) "
            "WHERE a.id = mc.left_record_id AND b.id = mc.right_record_id"
        ),
        {"admin": admin_id, "column": "truth_id"},
    )
    merged, total = connection.execute(
        sa.text("SELECT count(*) FILTER (WHERE review_status = 'merged'), count(*) "
                "FROM match_candidate WHERE decided_by IS NOT NULL")
    ).one()  # fmt: skip
    return merged, total


def test_decisions_refine_m_keep_u_and_report_the_thresholds(session, scope, tmp_path, make_client):
    load(session, scope, write(tmp_path / "a.csv", PEOPLE))
    match(session.connection(), RunOptions())
    admin_id, _ = make_client("admin")
    merged, total = _decide_all_by_truth(session.connection(), admin_id)
    assert merged > 0 and total > merged
    _, _, model = active_model(session.connection())
    refined, report = refine(session.connection(), model, min_labels=1)
    counts = (report["labels"], report["merges"], report["distinct"])
    assert counts == (total, merged, total - merged)
    for side in ("before", "after"):
        assert set(report[side]) == {"auto_link", "review"}
        assert report[side]["review"]["above"] >= report[side]["auto_link"]["above"]
    assert all(np.array_equal(a, b) for a, b in zip(refined.u, model.u, strict=True))
    assert any(not np.allclose(a, b) for a, b in zip(refined.m, model.m, strict=True))


def test_too_few_decisions_are_refused_with_a_reason(session, scope, tmp_path):
    load(session, scope, write(tmp_path / "a.csv", PEOPLE))
    match(session.connection(), RunOptions())
    _, _, model = active_model(session.connection())
    with pytest.raises(InvalidInput, match="reviewer decisions"):
        refine(session.connection(), model)
