"""What a run leaves for people: a pair's explanation, exports, and scores against truth."""

from __future__ import annotations

import csv
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from dedup import store
from dedup.blocking import candidate_pairs
from dedup.clustering import REASONS
from dedup.comparisons import compute_gammas
from dedup.evaluation import pair_scores, pairwise_scores
from dedup.model import MatchModel
from dedup.scoring import (
    DECISIONS,
    decide,
    household_once,
    level_weights,
    match_weights,
    prior_weight,
    similar_names,
    tf_adjustments,
)
from dedup.types import Pairs
from popdb.core.errors import InvalidInput, NotFound
from popdb.core.models.source_record import RAW_COLUMN_INDEX

#: How a record is named when it has no source key of its own.
RECORD_KEY = "coalesce(sr.source_key, sr.batch_id || ':' || sr.row_number)"


def record_ids(connection: sa.Connection, key: str) -> list[int]:
    """Records named by `key`: a source key, `BATCH:ROW`, or `#ID`."""
    params: dict[str, object]
    if key.startswith("#") and key[1:].isdigit():
        where, params = "sr.id = :id", {"id": int(key[1:])}
    else:
        where, params = f"{RECORD_KEY} = :key", {"key": key}
    return [r[0] for r in connection.execute(
        sa.text(f"SELECT sr.id FROM source_record sr WHERE {where} ORDER BY sr.id"), params
    )]  # fmt: skip


def _one_record(connection: sa.Connection, key: str) -> int:
    ids = record_ids(connection, key)
    if not ids:
        raise NotFound(f"no source record has the key {key!r}")
    if len(ids) > 1:
        raise InvalidInput(
            f"{len(ids)} source records have the key {key!r}; name one as #ID: "
            + ", ".join(f"#{i}" for i in ids[:10])
        )
    return ids[0]


def explain(connection: sa.Connection, model: MatchModel, left_id: int, right_id: int) -> dict:
    """Each comparison's level and contribution (log2 Bayes factor, term frequency included)
    to the pair's match weight, from the prior to the final probability."""
    store.compute_missing_keys(connection)
    a, b = sorted((left_id, right_id))
    frame, _, _ = store.load_frame(connection, f"k.record_id IN ({a}, {b})")
    if len(frame) != 2:
        raise NotFound("both records must exist and be accepted (rejected rows are not matched)")
    blocked, _ = candidate_pairs(frame, model.rules)
    tag = int(blocked.rule[0]) if len(blocked) else -1  # not blocked together: overall prior
    pairs = Pairs(np.array([0]), np.array([1]), np.array([tag], dtype=np.int8))
    gammas = compute_gammas(frame, pairs, model.comparisons)
    adjust = tf_adjustments(model, frame, pairs, gammas)
    raw = match_weights(gammas, model, adjust, tags=pairs.rule, contributions=True)
    similar = similar_names(frame, pairs, gammas, model)
    scores = household_once(gammas, model, raw, adjust, similar)
    assert scores.contributions is not None
    tables = level_weights(model)
    fields = []
    for index, comparison in enumerate(model.comparisons):
        gamma = int(gammas.matrix[0, index])
        column = comparison.needs()[0]
        fields.append({
            "comparison": comparison.name,
            "left": _plain(frame[column][0]),
            "right": _plain(frame[column][1]),
            "level": None if gamma < 0 else comparison.levels[gamma],
            "m": None if gamma < 0 else float(model.m[index][gamma]),
            "u": None if gamma < 0 else float(model.u[index][gamma]),
            "bayes_factor_weight": round(float(tables[index][gamma + 1]), 3),
            "term_frequency_weight": round(float(adjust.dense()[0, index]), 3),
            "weight": round(float(scores.contributions[0, index]), 3),
        })  # fmt: skip
    return {
        "left_record_id": a,
        "right_record_id": b,
        "blocking_rule": model.rules[tag].name if tag >= 0 else None,
        "prior_weight": round(prior_weight(float(model.priors(pairs.rule)[0])), 3),
        "fields": fields,
        # given names that differ or are two alike names: no evidence from their likeness,
        # and the household's fields counted once (twins share them)
        "household_counted_once": round(float(scores.weight[0] - raw.weight[0]), 3),
        "match_weight": round(float(scores.weight[0]), 3),
        "match_probability": float(scores.probability[0]),
        "decision": DECISIONS[int(decide(gammas, scores, model, similar)[0])],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.integer):
        value = int(value)
        return None if value in (0, -1) else value
    return value


def explain_keys(connection: sa.Connection, key_a: str, key_b: str) -> dict:
    from dedup.run import active_model

    found = active_model(connection)
    if found is None:
        raise NotFound("no match model yet: run `popdb dedup run` first")
    result = explain(connection, found[2], _one_record(connection, key_a),
                     _one_record(connection, key_b))  # fmt: skip
    return {"model_version": found[1], **result, **_stored(connection, result)}


def _stored(connection: sa.Connection, result: dict) -> dict:
    """What the last run stored for the pair, which is what counts: a link the pair's own
    score would make is refused when the groups of records it would join conflict."""
    row = connection.execute(
        sa.text("SELECT decision, review_status, review_reason FROM match_candidate "
                "WHERE left_record_id = :a AND right_record_id = :b"),
        {"a": result["left_record_id"], "b": result["right_record_id"]},
    ).first()  # fmt: skip
    if row is None:
        return {"stored_decision": None}
    out = {"stored_decision": row.decision, "review_status": row.review_status}
    if row.review_reason is not None:
        out["held_because"] = REASONS.get(row.review_reason, row.review_reason)
    return out


def export_pairs(connection: sa.Connection, path: Path) -> int:
    """source_key_l, source_key_r, match_probability, decision: every stored scored pair
    (distinct pairs only from `run.STORE_DISTINCT_ABOVE`; the rest are never stored)."""
    rows = connection.execute(sa.text(f"""
        SELECT {RECORD_KEY.replace('sr.', 'l.')}, {RECORD_KEY.replace('sr.', 'r.')},
               mc.probability, mc.decision, mc.review_status
        FROM match_candidate mc
        JOIN source_record l ON l.id = mc.left_record_id
        JOIN source_record r ON r.id = mc.right_record_id
        ORDER BY mc.left_record_id, mc.right_record_id
    """))  # fmt: skip
    count = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["source_key_l", "source_key_r", "match_probability", "decision"])
        for left, right, probability, decision, review in rows:
            final = {"merged": "merge", "distinct": "distinct"}.get(review or "", decision)
            writer.writerow([left, right, f"{probability:.6f}", final])
            count += 1
    return count


def export_clusters(connection: sa.Connection, path: Path) -> int:
    """source_key, person_id for every source record (singletons included; a rejected row,
    which identifies nobody, has an empty person_id)."""
    rows = connection.execute(sa.text(
        f"SELECT {RECORD_KEY}, sr.person_id FROM source_record sr ORDER BY sr.id"
    ))  # fmt: skip
    count = 0
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["source_key", "person_id"])
        for key, person in rows:
            writer.writerow([key, "" if person is None else person])
            count += 1
    return count


def evaluate(connection: sa.Connection, truth_column: str) -> dict:
    """Pairwise precision, recall and F1 of the persons (clusters), and of the automatic
    links alone, against a column of the raw rows."""
    rows = connection.execute(
        sa.text(f"SELECT sr.id, sr.person_id, sr.raw ->> k.i FROM source_record sr "
                f"JOIN ({RAW_COLUMN_INDEX}) k USING (batch_id) "
                "WHERE sr.status = 'accepted' AND sr.person_id IS NOT NULL "
                "AND coalesce(sr.raw ->> k.i, '') <> ''"),
        {"column": truth_column},
    ).all()  # fmt: skip
    if not rows:
        raise InvalidInput(
            f"no matched record has a value in the column {truth_column!r} of its raw row"
        )
    truth = {r[0]: r[2] for r in rows}
    clusters = pairwise_scores([r[1] for r in rows], [r[2] for r in rows])
    links = [
        (a, b)
        for a, b in connection.execute(sa.text(
            "SELECT left_record_id, right_record_id FROM match_candidate "
            "WHERE decision = 'auto_link'"))
        if a in truth and b in truth
    ]  # fmt: skip
    auto = pair_scores([a for a, _ in links], [b for _, b in links], truth)
    return {"truth_column": truth_column, "clusters": asdict(clusters),
            "auto_links": asdict(auto)}  # fmt: skip
