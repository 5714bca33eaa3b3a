"""One dedup run against the database: keys → frame → block → compare → score → cluster.
The only module of `dedup` that touches the database besides `store`. It writes the scored
pairs and returns the clusters; turning clusters into persons is the registry's work
(`popdb.registry.matching`), so this library never reaches above the ground.

Incremental by default: only records not yet matched are compared, against the registry
records that share a blocking key with them (found by SQL joins on the match keys, so a batch
is matched without reading the whole registry). `rebuild` re-scores and re-clusters all.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sqlalchemy as sa

from dedup import store
from dedup.blocking import DEFAULT_RULES, BlockingRule, candidate_pairs
from dedup.clustering import cluster
from dedup.comparisons import comparisons_for, compute_gammas
from dedup.features import INT_UNKNOWN
from dedup.model import MatchModel, Thresholds
from dedup.scoring import (
    AUTO_LINK,
    DISTINCT,
    REVIEW,
    clean,
    decide,
    disagrees,
    hold_reasons,
    household_once,
    match_weights,
    similar_names,
    tf_adjustments,
    vouched,
)
from dedup.training import train
from dedup.types import Frame

log = logging.getLogger(__name__)

#: Distinct pairs are stored too when at least this probable (for explain and export);
#: the mass of clearly different pairs is not.
STORE_DISTINCT_ABOVE = 0.01

Say = Callable[[str], None]

#: Records of batches held for a match preview (`import_batch.match_hold`) are left out of
#: every run, as if not yet loaded, until an administrator releases the batch.
NOT_HELD = "batch_id NOT IN (SELECT id FROM import_batch WHERE match_hold)"


@dataclass
class RunOptions:
    rebuild: bool = False
    retrain: bool = False
    thresholds: Thresholds | None = None
    rules: tuple[BlockingRule, ...] = DEFAULT_RULES
    actor: str = "dedup"
    seed: int = 0


@dataclass
class RunSummary:
    records: int = 0
    new_records: int = 0
    keys_computed: int = 0
    model_version: int | None = None
    trained: bool = False
    pairs: int = 0
    pairs_per_rule: list[dict] = field(default_factory=list)
    auto_links: int = 0
    reviews: int = 0
    distinct: int = 0
    refused_links: int = 0
    #: Review items this run left open (pairs of records in two clusters), and of those the
    #: ones superseded as repeats between the same two persons (`popdb.registry.matching`).
    review_items: int = 0
    reviews_superseded: int = 0
    persons: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def review_items_per_1000(self) -> float:
        """The reviewers' load: open items per 1,000 new records (all records on a rebuild),
        what a batch brings to the queue (issue 17)."""
        records = self.new_records or self.records
        return round(1000 * self.review_items / records, 2) if records else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**vars(self), "review_items_per_1000": self.review_items_per_1000}


@dataclass
class RunResult:
    """What a run decided: its summary, and the `(record id, cluster)` assignments the
    registry makes persons of (only clusters holding a new record; all on a rebuild)."""

    summary: RunSummary
    assignments: list[tuple[int, int]]


def active_model(connection: sa.Connection) -> tuple[int, int, MatchModel] | None:
    """(id, version, model) of the active model, if any."""
    row = connection.execute(
        sa.text(
            "SELECT id, version, params FROM match_model WHERE active ORDER BY version DESC LIMIT 1"
        )  # fmt: skip
    ).first()
    if row is None:
        return None
    return row[0], row[1], MatchModel.from_params(row[2])


def save_model(connection: sa.Connection, model: MatchModel, notes: str) -> tuple[int, int]:
    """Store `model` as the next version and make it the active one."""
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('popdb.match_model'))"))
    connection.execute(sa.text("UPDATE match_model SET active = false WHERE active"))
    row = connection.execute(
        sa.text(
            "INSERT INTO match_model (version, params, active, notes) SELECT "
            "coalesce(max(version), 0) + 1, CAST(:params AS jsonb), true, :notes "
            "FROM match_model RETURNING id, version"
        ),
        {"params": json.dumps(model.to_params(), ensure_ascii=False), "notes": notes},
    ).one()
    return row[0], row[1]


def _related_query(rules: tuple[BlockingRule, ...]) -> str:
    """Registry records sharing any rule's key with an unmatched record."""
    parts = []
    for rule in rules:
        known = " AND ".join(
            f"n.{c} <> {INT_UNKNOWN[c]}" if c in INT_UNKNOWN else f"n.{c} IS NOT NULL"
            for c in rule.on
            if c not in rule.unknown_is_value
        )
        cols = ", ".join(f"n.{c}" for c in rule.on)
        join = " AND ".join(
            f"k.{c} IS NOT DISTINCT FROM n.{c}" if c in rule.unknown_is_value else f"k.{c} = n.{c}"
            for c in rule.on
        )
        parts.append(
            f"SELECT k.record_id FROM match_key k JOIN (SELECT DISTINCT {cols} FROM match_key n "
            f"JOIN source_record s ON s.id = n.record_id WHERE NOT s.matched AND s.{NOT_HELD} "
            f"AND {known}) n "
            f"ON {join}"
        )
    return " UNION ".join(parts)


class _Laps:
    """Seconds per stage, into the run's summary."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self.clock, 2)
        self.clock = now


def run(connection: sa.Connection, options: RunOptions, say: Say = lambda _: None) -> RunResult:
    """Score and cluster what is not yet matched (or everything with `rebuild`), in the
    caller's transaction: keys → frame → block → compare (training first, without a model)
    → score → cluster → scored pairs stored."""
    summary = RunSummary()
    lap = _Laps(summary.seconds)
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('popdb.dedup'))"))
    say("computing match keys")
    summary.keys_computed = store.compute_missing_keys(connection)
    lap("keys")
    summary.new_records = connection.scalar(_UNMATCHED) or 0
    if summary.new_records == 0 and not options.rebuild:
        return RunResult(summary, [])

    found = None if options.retrain else active_model(connection)
    say("reading records")
    frame, persons, matched = _read(connection, found, rebuild=options.rebuild)
    summary.records = len(frame)
    lap("read")
    new = None if options.rebuild else ~matched
    rules = found[2].rules if found is not None else options.rules

    say(f"blocking {len(frame):,} records")
    pairs, report = candidate_pairs(frame, rules, new=new)
    summary.pairs = len(pairs)
    summary.pairs_per_rule = report.as_dict()
    lap("block")

    model_id, model, gammas = _model_and_gammas(
        connection, frame, pairs, found, rules, options, summary, say, lap
    )
    adjust = tf_adjustments(model, frame, pairs, gammas)
    similar = similar_names(frame, pairs, gammas, model)
    scores = household_once(gammas, model, match_weights(gammas, model, adjust, tags=pairs.rule),
                            adjust, similar)  # fmt: skip
    decision = decide(gammas, scores, model, similar)
    holds = hold_reasons(gammas, model, decision, similar)
    # the term-frequency adjustments are in the scores now: at 1M records they are two
    # arrays of tens of millions of pairs, held otherwise through clustering and the write
    del adjust
    lap("score")

    say("clustering")
    result = _cluster(connection, frame, pairs, scores, decision, gammas, model, similar,
                      persons=None if options.rebuild else persons)  # fmt: skip
    decision = result.decision
    summary.refused_links = len(result.refused)
    summary.auto_links = int((decision == AUTO_LINK).sum())
    summary.reviews = int((decision == REVIEW).sum())
    summary.distinct = int((decision == DISTINCT).sum())
    lap("cluster")

    say("writing pairs")
    if options.rebuild:  # scores no person decided are all replaced
        connection.execute(sa.text("DELETE FROM match_candidate WHERE decided_by IS NULL"))
    pending = result.labels[pairs.left] != result.labels[pairs.right]
    keep = (decision != DISTINCT) | (scores.probability >= STORE_DISTINCT_ABOVE)
    summary.review_items = int((pending & (decision == REVIEW) & keep).sum())
    store.write_candidates(
        connection, frame, pairs, gammas, scores, decision, pending,
        model_id=model_id, rule_names=[r.name for r in rules],
        comparisons=model.comparisons, keep=keep, reasons={**holds, **result.refused},
    )  # fmt: skip
    lap("write")
    return RunResult(summary, _assignments(frame, result.labels, new))


_UNMATCHED = sa.text(
    f"SELECT count(*) FROM source_record WHERE status = 'accepted' AND NOT matched AND {NOT_HELD}"
)


def _read(
    connection: sa.Connection, found: tuple[int, int, MatchModel] | None, *, rebuild: bool
) -> tuple[Frame, np.ndarray, np.ndarray]:
    """The records to compare: all of them (no model yet, or a rebuild), else the unmatched
    ones and the registry records sharing a blocking key with them."""
    if found is None or rebuild:
        return store.load_frame(connection, f"sr.{NOT_HELD}")
    # One set of ids, analysed, joined once: "NOT matched OR id IN (related)" made the
    # planner test each of a million registry records against the related list in turn.
    connection.execute(sa.text(
        "CREATE TEMP TABLE dedup_related ON COMMIT DROP AS "
        f"SELECT id AS record_id FROM source_record WHERE NOT matched AND {NOT_HELD} "
        f"UNION {_related_query(found[2].rules)}"
    ))  # fmt: skip
    connection.execute(sa.text("ANALYZE dedup_related"))
    loaded = store.load_frame(
        connection, f"k.record_id IN (SELECT record_id FROM dedup_related) AND sr.{NOT_HELD}"
    )
    connection.execute(sa.text("DROP TABLE dedup_related"))
    return loaded


def _model_and_gammas(
    connection: sa.Connection,
    frame: Frame,
    pairs: Any,
    found: tuple[int, int, MatchModel] | None,
    rules: tuple[BlockingRule, ...],
    options: RunOptions,
    summary: RunSummary,
    say: Say,
    lap: _Laps,
) -> tuple[int, MatchModel, Any]:
    """The active model (a new one trained by EM when there is none) and the pairs' gammas."""
    if found is None:
        comparisons = comparisons_for(frame)
        say(f"comparing {len(pairs):,} pairs")
        gammas = compute_gammas(frame, pairs, comparisons)
        lap("compare")
        say("training the model")
        model = train(frame, pairs, comparisons, rules=rules, thresholds=options.thresholds,
                      seed=options.seed, gammas=gammas)  # fmt: skip
        model_id, version = save_model(connection, model, "trained without labels (EM)")
        summary.trained = True
        lap("train")
    else:
        model_id, version, model = found
        if options.thresholds is not None:
            model = model.with_thresholds(options.thresholds)
        say(f"comparing {len(pairs):,} pairs")
        gammas = compute_gammas(frame, pairs, model.comparisons)
        lap("compare")
    summary.model_version = version
    return model_id, model, gammas


def _cluster(
    connection: sa.Connection, frame: Frame, pairs: Any, scores: Any, decision: np.ndarray,
    gammas: Any, model: MatchModel, similar: np.ndarray, *, persons: np.ndarray | None,
) -> Any:  # fmt: skip
    """Clusters under the hard rules, with the reviewers' distinct pairs kept apart."""
    position = {int(i): k for k, i in enumerate(frame.ids.tolist())}
    cannot = [
        (position[a], position[b])
        for a, b in store.reviewer_distinct_pairs(connection)
        if a in position and b in position
    ]
    return cluster(
        frame, pairs, scores.probability, decision,
        disagree=disagrees(gammas, model) | similar,
        vouched=vouched(gammas, model), clean=clean(gammas, model), persons=persons,
        cannot_link=cannot,
    )  # fmt: skip


def _assignments(frame: Frame, labels: np.ndarray, new: np.ndarray | None) -> list[tuple[int, int]]:
    """(record id, cluster) for every record whose cluster holds a new record (all records on
    a rebuild): clusters of old records only have nothing to change."""
    touched = np.ones(len(frame), dtype=bool) if new is None else np.isin(labels, labels[new])
    index = np.flatnonzero(touched)
    return list(zip(frame.ids[index].tolist(), labels[index].tolist(), strict=True))
