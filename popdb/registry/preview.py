"""Match preview: batches held at `loaded` until an administrator has looked at what matching
would make of them, then released (issue 18 item 5).

A batch is held when its upload asked for it, when its commune's setting says so
(`commune_setting.match_preview`) or when POPDB_MATCH_PREVIEW is on; no matching run takes
its records meanwhile (`dedup.run.NOT_HELD`). The preview is a dry run of the very match the
release will run: inside a savepoint the batch is let go, `matching.match` runs (scores,
clusters, persons, review items), each of the batch's records is classified, and the savepoint
is rolled back. So the preview gives the classification the release then gives, as long as the
registry does not change in between.

Each record falls in one class: `review` (a pair of it waits in the review queue), else `link`
(it joins a person who existed before), else `new` (it founds a person or joins one made from
this run's records). Functions take the caller's Session and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dedup.clustering import REFUSALS
from dedup.run import RunOptions
from popdb.core import audit
from popdb.core.errors import Conflict, InvalidInput, NotFound
from popdb.core.models import CommuneSetting, ImportBatch
from popdb.registry.matching import mark_matched, match
from popdb.registry.merges import actor_label
from popdb.registry.reviews import iso_dob

CLASSES = ("link", "new", "review")
#: Examples per class a preview shows unless asked otherwise, and the most it shows.
EXAMPLES = 5
MAX_EXAMPLES = 50


@dataclass
class Outcome:
    """What matching makes (or would make) of one batch's accepted records."""

    batch_id: int
    records: int
    counts: dict[str, int]
    new_persons: int
    review_items: int
    examples: dict[str, list[dict[str, Any]]] | None = None
    match: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        out = dict(vars(self))
        if self.examples is None:
            out.pop("examples")
        return out


def _dedup_lock(connection: sa.Connection) -> None:
    """The matcher's own lock, taken first so no other run makes persons between the
    watermark read and this run."""
    connection.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('popdb.dedup'))"))


def _watermark(connection: sa.Connection) -> int:
    """Persons up to this id existed before the run: ids come from one sequence, and the
    dedup lock keeps every other matching run out meanwhile."""
    return int(connection.scalar(sa.text("SELECT coalesce(max(id), 0) FROM person")) or 0)


def _held_batch(session: Session, batch_id: int, *, lock: bool) -> ImportBatch:
    query = sa.select(ImportBatch).where(ImportBatch.id == batch_id)
    batch = session.scalar(query.with_for_update() if lock else query)
    if batch is None:
        raise NotFound(f"no import batch {batch_id}")
    if not batch.match_hold:
        raise Conflict(f"batch {batch_id} is not held for a match preview (it is {batch.status})")
    if batch.status != "loaded":
        raise Conflict(
            f"batch {batch_id} is {batch.status}; a preview is of a loaded batch "
            "(wait until it has loaded)"
        )
    return batch


def preview(
    session: Session,
    batch_id: int,
    *,
    actor: audit.Actor,
    examples: int = EXAMPLES,
    request_id: str | None = None,
) -> Outcome:
    """Dry-run the match of held batch `batch_id`: counts per class and up to `examples`
    records of each (0: counts only, what a police client sees). Nothing of the run stays;
    the read is an audit event (`batch.preview`), examples being personal data."""
    if not 0 <= examples <= MAX_EXAMPLES:
        raise InvalidInput(f"examples must be between 0 and {MAX_EXAMPLES}",
                           errors={"examples": [f"0 to {MAX_EXAMPLES}"]})  # fmt: skip
    _held_batch(session, batch_id, lock=False)
    savepoint = session.begin_nested()
    # The SAVEPOINT is emitted when the session next hands out its connection: take the
    # connection only now, or the run's statements would land outside it.
    connection = session.connection()
    try:
        _dedup_lock(connection)
        mark = _watermark(connection)
        connection.execute(sa.text("UPDATE import_batch SET match_hold = false WHERE id = :b"),
                           {"b": batch_id})  # fmt: skip
        summary = match(connection, RunOptions(actor="preview"))
        outcome = outcome_of(connection, batch_id, mark, examples=examples)
        outcome.match = _run_figures(summary.as_dict())
    finally:
        savepoint.rollback()
        session.expire_all()
    shown = [e["record_id"] for rows in (outcome.examples or {}).values() for e in rows]
    audit.record(
        session, actor=actor, action="batch.preview", subject_type="import_batch",
        subject_id=batch_id, request_id=request_id,
        detail={"counts": outcome.counts, "example_record_ids": shown},
    )  # fmt: skip
    return outcome


def release(
    session: Session,
    batch_id: int,
    *,
    actor: audit.Actor,
    reason: str,
    request_id: str | None = None,
) -> Outcome:
    """Let held batch `batch_id` go and match it now, in the caller's transaction (a failure
    leaves it held): who released it and why is kept on the batch and in the audit chain;
    persons and links made are attributed to the releasing administrator. Returns what the
    match made of the batch, in the preview's classes."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why the batch is released", errors={"reason": ["required"]})
    batch = _held_batch(session, batch_id, lock=True)
    label = actor_label(actor)
    connection = session.connection()
    _dedup_lock(connection)
    mark = _watermark(connection)
    batch.match_hold = False
    batch.match_released_at = sa.func.now()
    batch.match_released_by = label
    batch.match_release_reason = reason
    session.flush()
    summary = match(connection, RunOptions(actor=label))
    mark_matched(connection)  # a batch without accepted records has nothing to match
    outcome = outcome_of(connection, batch_id, mark, examples=0)
    outcome.match = _run_figures(summary.as_dict())
    audit.record(
        session, actor=actor, action="batch.release", subject_type="import_batch",
        subject_id=batch_id, request_id=request_id,
        detail={"reason": reason, "counts": outcome.counts, "new_persons": outcome.new_persons,
                "review_items": outcome.review_items},
    )  # fmt: skip
    session.expire_all()
    return outcome


def _run_figures(summary: dict[str, Any]) -> dict[str, Any]:
    keep = ("new_records", "auto_links", "reviews", "persons")
    return {k: v for k, v in summary.items() if k in keep}


_CLASSIFIED = """
    WITH rec AS (
        SELECT id, person_id FROM source_record WHERE batch_id = :b AND status = 'accepted'),
    waiting AS (
        SELECT mc.left_record_id AS record_id, mc.id AS item FROM match_candidate mc
        JOIN rec ON rec.id = mc.left_record_id WHERE mc.review_status IN ('pending', 'claimed')
        UNION ALL
        SELECT mc.right_record_id, mc.id FROM match_candidate mc
        JOIN rec ON rec.id = mc.right_record_id WHERE mc.review_status IN ('pending', 'claimed')),
    classified AS (
        SELECT rec.id, rec.person_id,
               CASE WHEN rec.id IN (SELECT record_id FROM waiting) THEN 'review'
                    WHEN rec.person_id <= :mark THEN 'link' ELSE 'new' END AS class
        FROM rec)
"""


def outcome_of(connection: sa.Connection, batch_id: int, mark: int, *, examples: int) -> Outcome:
    """Classify the batch's accepted records as matching left them, persons up to id `mark`
    counting as existing: counts, new persons, open review items, and examples."""
    counts = dict.fromkeys(CLASSES, 0)
    for cls, n in connection.execute(
        sa.text(_CLASSIFIED + "SELECT class, count(*) FROM classified GROUP BY class"),
        {"b": batch_id, "mark": mark},
    ):
        counts[cls] = n
    new_persons, review_items = connection.execute(
        sa.text(_CLASSIFIED + "SELECT (SELECT count(DISTINCT person_id) FROM classified "
                "WHERE person_id > :mark), (SELECT count(DISTINCT item) FROM waiting)"),
        {"b": batch_id, "mark": mark},
    ).one()  # fmt: skip
    return Outcome(
        batch_id=batch_id, records=sum(counts.values()), counts=counts,
        new_persons=new_persons, review_items=review_items,
        examples=_examples(connection, batch_id, mark, examples) if examples else None,
    )  # fmt: skip


_EXAMPLES = _CLASSIFIED + """,
    shown AS (
        SELECT *, row_number() OVER (PARTITION BY class ORDER BY id) AS n FROM classified)
    SELECT e.class, e.id AS record_id, sr.row_number, sr.source_key, sr.full_name,
           sr.dob_year, sr.dob_month, sr.dob_day, e.person_id, p.other,
           o.person_id AS other_person,
           p.probability, p.match_weight, p.decision, p.review_status, p.review_reason,
           p.gammas
    FROM shown e JOIN source_record sr ON sr.id = e.id
    LEFT JOIN LATERAL (
        SELECT CASE WHEN mc.left_record_id = e.id THEN mc.right_record_id
                    ELSE mc.left_record_id END AS other,
               mc.probability, mc.match_weight, mc.decision, mc.review_status,
               mc.review_reason, mc.gammas
        FROM match_candidate mc
        WHERE mc.left_record_id = e.id OR mc.right_record_id = e.id
        ORDER BY (e.class = 'review'
                  AND coalesce(mc.review_status IN ('pending', 'claimed'), false)) DESC,
                 (e.class = 'link' AND mc.decision = 'auto_link') DESC,
                 mc.probability DESC
        LIMIT 1) p ON true
    LEFT JOIN source_record o ON o.id = p.other
    WHERE e.n <= :n
    ORDER BY e.class, e.id
"""


def _examples(
    connection: sa.Connection, batch_id: int, mark: int, n: int
) -> dict[str, list[dict[str, Any]]]:
    """Up to `n` records per class, each with the person it joins (an existing one; a person
    this run would make has no id yet), its best pair (the review item's, the link's, or the
    closest candidate of a new person) and that pair's reason words."""
    out: dict[str, list[dict[str, Any]]] = {c: [] for c in CLASSES}
    rows = connection.execute(sa.text(_EXAMPLES), {"b": batch_id, "mark": mark, "n": n})
    for r in rows.mappings():
        existing = r["person_id"] if r["person_id"] is not None and r["person_id"] <= mark else None
        other_person = r["other_person"]
        out[r["class"]].append({
            "record_id": r["record_id"], "row_number": r["row_number"],
            "source_key": r["source_key"], "full_name": r["full_name"],
            "dob": iso_dob(r["dob_year"], r["dob_month"], r["dob_day"]),
            "person_id": existing,
            "candidate_record_id": r["other"],
            "candidate_person_id": other_person
            if other_person is not None and other_person <= mark else None,
            "probability": r["probability"], "match_weight": r["match_weight"],
            "decision": r["decision"], "review_status": r["review_status"],
            "reasons": _reasons(r["gammas"], r["review_reason"]),
        })  # fmt: skip
    return out


def _reasons(gammas: dict[str, Any] | None, refusal: str | None) -> list[str]:
    """A pair's reason words: why a link was refused, then each comparison's level."""
    words = [REFUSALS.get(refusal, refusal)] if refusal else []
    return words + [f"{name}: {level}" for name, level in (gammas or {}).items() if level]


def held_batches(session: Session, *, commune_code: str | None = None) -> list[dict[str, Any]]:
    """Batches waiting for a preview (loaded or still loading), oldest first."""
    query = (
        sa.select(ImportBatch)
        .where(ImportBatch.match_hold, ImportBatch.status.in_(("received", "validating", "loaded")))
        .order_by(ImportBatch.id)
    )
    if commune_code is not None:
        query = query.where(ImportBatch.commune_code == commune_code)
    return [
        {"batch_id": b.id, "commune_code": b.commune_code, "file_name": b.file_name,
         "status": b.status, "collected_on": b.collected_on.isoformat(), "rows": b.rows,
         "accepted": b.accepted, "created_at": b.created_at.isoformat()}
        for b in session.scalars(query)
    ]  # fmt: skip


def commune_settings(session: Session) -> list[dict[str, Any]]:
    """Every commune with a setting, by code."""
    return [
        _setting(s)
        for s in session.scalars(sa.select(CommuneSetting).order_by(CommuneSetting.commune_code))
    ]


def commune_setting(session: Session, commune_code: str) -> dict[str, Any]:
    """One commune's setting (off, by nobody, when none was ever set)."""
    found = session.get(CommuneSetting, commune_code)
    if found is None:
        return {"commune_code": commune_code, "match_preview": False, "set_by": None,
                "reason": None, "set_at": None}  # fmt: skip
    return _setting(found)


def set_commune_preview(
    session: Session,
    commune_code: str,
    on: bool,
    *,
    actor: audit.Actor,
    reason: str,
    request_id: str | None = None,
) -> dict[str, Any]:
    """Turn the match preview on or off for the commune's future uploads (batches already
    registered keep their hold or lack of it). An audit event with actor and reason."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("say why the setting changes", errors={"reason": ["required"]})
    code = (commune_code or "").strip()
    if not (len(code) == 5 and code.isascii() and code.isdigit()):
        raise InvalidInput(f"A commune code has 5 digits (e.g. 00004); got {commune_code!r}.",
                           errors={"commune_code": ["must be 5 digits"]})  # fmt: skip
    before = commune_setting(session, code)["match_preview"]
    label = actor_label(actor)
    session.execute(
        sa.text("INSERT INTO commune_setting (commune_code, match_preview, set_by, reason) "
                "VALUES (:c, :on, :by, :r) ON CONFLICT (commune_code) DO UPDATE SET "
                "match_preview = excluded.match_preview, set_by = excluded.set_by, "
                "reason = excluded.reason, set_at = now()"),
        {"c": code, "on": on, "by": label, "r": reason},
    )  # fmt: skip
    session.expire_all()
    audit.record(
        session, actor=actor, action="commune_setting.match_preview", subject_type="commune",
        subject_id=code, request_id=request_id,
        detail={"old": before, "new": on, "reason": reason},
    )  # fmt: skip
    return commune_setting(session, code)


def _setting(s: CommuneSetting) -> dict[str, Any]:
    return {"commune_code": s.commune_code, "match_preview": s.match_preview,
            "set_by": s.set_by, "reason": s.reason, "set_at": s.set_at.isoformat()}  # fmt: skip
