"""Where the engine meets the database: match keys in, frames out, scored pairs back.

Bulk paths only (COPY and set-based SQL); the stages themselves never see a connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import sqlalchemy as sa

from dedup.comparisons import Comparison
from dedup.features import COLUMNS, INT_COLUMNS, SOURCE_COLUMNS, features, frame_from_columns
from dedup.scoring import DECISIONS, REVIEW
from dedup.types import Frame, Gammas, Pairs, Scores
from popdb.core.bulk import copy_in, copy_out

_INT_SOURCE = {"id", "dob_year", "dob_month", "dob_day", "sex"}


def compute_missing_keys(connection: sa.Connection) -> int:
    """Match keys for every accepted record that has none yet; returns how many."""
    query = (
        f"SELECT {', '.join('sr.' + c for c in SOURCE_COLUMNS)}, b.commune_code "
        "FROM source_record sr JOIN import_batch b ON b.id = sr.batch_id "
        "LEFT JOIN match_key k ON k.record_id = sr.id "
        "WHERE k.record_id IS NULL AND sr.status = 'accepted' ORDER BY sr.id"
    )

    def rows() -> Iterator[list]:
        for *cells, batch_commune in copy_out(connection, query):
            row = {
                name: (int(v) if v is not None and name in _INT_SOURCE else v)
                for name, v in zip(SOURCE_COLUMNS, cells, strict=True)
            }
            row["batch_commune_code"] = batch_commune
            keys = features(row)
            yield [row["id"], *(keys[c] for c in COLUMNS)]

    return copy_in(connection, "match_key", ("record_id", *COLUMNS), rows())


def load_frame(
    connection: sa.Connection, where: str = "TRUE", params: dict | None = None
) -> tuple[Frame, np.ndarray, np.ndarray]:
    """Records (with match keys) satisfying `where` over `sr` (source_record) and `k`
    (match_key): the frame, each record's person id (-1 for none) and its matched flag."""
    query = sa.text(
        f"SELECT k.record_id, {', '.join('k.' + c for c in COLUMNS)}, "
        f"coalesce(sr.person_id, -1), sr.matched "
        f"FROM match_key k JOIN source_record sr ON sr.id = k.record_id WHERE {where} "
        "ORDER BY k.record_id"
    )
    compiled = query.bindparams(**(params or {})).compile(
        dialect=connection.dialect, compile_kwargs={"literal_binds": True}
    )
    ids: list[int] = []
    persons: list[int] = []
    matched: list[bool] = []
    columns: dict[str, list] = {name: [] for name in COLUMNS}
    appenders = [columns[name].append for name in COLUMNS]
    # Keys repeat (family names, communes, years): keep one string object per value.
    interned: list[dict] = [{} for _ in COLUMNS]
    ints = [name in INT_COLUMNS for name in COLUMNS]
    for row in copy_out(connection, str(compiled)):
        ids.append(int(row[0]))  # type: ignore[arg-type]
        for offset, (append, table, is_int) in enumerate(
            zip(appenders, interned, ints, strict=True), start=1
        ):
            value = row[offset]
            append(int(value) if is_int else table.setdefault(value, value))  # type: ignore[arg-type]
        persons.append(int(row[-2]))  # type: ignore[arg-type]
        matched.append(row[-1] == "t")
    frame = frame_from_columns(ids, columns)
    return frame, np.asarray(persons, dtype=np.int64), np.asarray(matched, dtype=bool)


def write_candidates(
    connection: sa.Connection,
    frame: Frame,
    pairs: Pairs,
    gammas: Gammas,
    scores: Scores,
    decision: np.ndarray,
    pending: np.ndarray,
    *,
    model_id: int,
    rule_names: Sequence[str],
    comparisons: Sequence[Comparison],
    keep: np.ndarray,
    reasons: Mapping[int, str] | None = None,
) -> int:
    """Upsert the pairs selected by `keep` into match_candidate. A pair a person already
    decided keeps that decision; others take the new score. `reasons`: by pair index, why a
    link was refused and the pair sent to review."""
    connection.execute(
        sa.text(
            "CREATE TEMP TABLE dedup_pair (left_record_id bigint, right_record_id bigint, "
            "blocking_rule text, gammas jsonb, match_weight float8, probability float8, "
            "decision match_decision, review_status review_status, review_reason text) "
            "ON COMMIT DROP"
        )
    )
    labels = [c.levels for c in comparisons]
    index = np.flatnonzero(keep)
    # Comparison vectors repeat (thousands of kinds for millions of pairs): one JSON text
    # per kind, and plain Python lists per column rather than a numpy scalar per cell.
    kinds, kind_of = np.unique(gammas.matrix[index], axis=0, return_inverse=True)
    texts = [
        json.dumps(
            {name: (None if g[c] < 0 else labels[c][g[c]]) for c, name in enumerate(gammas.names)},
            ensure_ascii=False,
        )
        for g in kinds.tolist()
    ]
    reasons = reasons or {}
    columns = zip(
        index.tolist(),
        frame.ids[pairs.left[index]].tolist(),
        frame.ids[pairs.right[index]].tolist(),
        pairs.rule[index].tolist(),
        kind_of.reshape(-1).tolist(),
        np.round(scores.weight[index], 4).tolist(),
        np.clip(scores.probability[index], 0.0, 1.0).tolist(),
        decision[index].tolist(),
        (pending[index] & (decision[index] == REVIEW)).tolist(),
        strict=True,
    )

    def rows() -> Iterator[list]:
        for k, left, right, rule, kind, weight, probability, decided, waiting in columns:
            yield [
                left, right, rule_names[rule], texts[kind], weight, probability,
                DECISIONS[decided], "pending" if waiting else None, reasons.get(k),
            ]  # fmt: skip

    count = copy_in(
        connection,
        "dedup_pair",
        (
            "left_record_id",
            "right_record_id",
            "blocking_rule",
            "gammas",
            "match_weight",
            "probability",
            "decision",
            "review_status",
            "review_reason",
        ),  # fmt: skip
        rows(),
    )
    connection.execute(
        sa.text(
            # batch_id: the right (newer) record's, match_candidate's partition key (0014)
            "INSERT INTO match_candidate (left_record_id, right_record_id, batch_id, model_id, "
            "blocking_rule, gammas, match_weight, probability, decision, review_status, "
            "review_reason) "
            "SELECT p.left_record_id, p.right_record_id, r.batch_id, :model_id, "
            "p.blocking_rule, p.gammas, p.match_weight, p.probability, p.decision, "
            "p.review_status, p.review_reason FROM dedup_pair p "
            "JOIN source_record r ON r.id = p.right_record_id "
            "ON CONFLICT (left_record_id, right_record_id, batch_id) DO UPDATE SET "
            "model_id = excluded.model_id, blocking_rule = excluded.blocking_rule, "
            "gammas = excluded.gammas, match_weight = excluded.match_weight, "
            "probability = excluded.probability, decision = excluded.decision, "
            "review_status = excluded.review_status, review_reason = excluded.review_reason, "
            "version = match_candidate.version + 1 "
            "WHERE match_candidate.decided_by IS NULL"
        ),
        {"model_id": model_id},
    )
    connection.execute(sa.text("DROP TABLE dedup_pair"))
    return count


def reviewer_distinct_pairs(connection: sa.Connection) -> list[tuple[int, int]]:
    """Record-id pairs people called distinct: never linked again by the engine."""
    return [
        (int(a), int(b))
        for a, b in connection.execute(
            sa.text(
                "SELECT left_record_id, right_record_id FROM match_candidate "
                "WHERE review_status = 'distinct'"
            )
        )
    ]
