"""Matching into the registry: the dedup library scores and clusters the records, and this
service turns its clusters into persons and marks the batches it finished.

The one entry point the CLI, the import worker and the demo call, so `dedup/` stays a
library below the registry and the two halves share the caller's transaction.
"""

from __future__ import annotations

import logging
import time

import sqlalchemy as sa

from dedup.run import RunOptions, RunSummary, Say, run
from popdb.registry import households
from popdb.registry.clusters import apply_clusters

log = logging.getLogger(__name__)

__all__ = ["RunOptions", "RunSummary", "is_held", "mark_matched", "match", "match_loaded"]

_MARK_MATCHED = sa.text(
    "UPDATE import_batch b SET status = 'matched' WHERE status = 'loaded' AND NOT match_hold "
    "AND NOT EXISTS (SELECT 1 FROM source_record sr WHERE sr.batch_id = b.id "
    "AND sr.status = 'accepted' AND NOT sr.matched)"
)


#: One open review item per two persons (issue 17): the engine scores pairs of records, so
#: two persons with two records each could wait in the queue up to four times, and a
#: reviewer would decide one question four times. Of the open items between the same two
#: persons (in either order) the one being worked on (claimed, or awaiting a second
#: admin's approval) or else the likeliest stays; the others are superseded, as are open
#: items whose records are one person by now. Set-based, over the open items only (each
#: record's person looked up by its key: stale statistics once made this a nested loop).
_ONE_ITEM_PER_PERSONS = sa.text("""
    WITH open AS MATERIALIZED (
        SELECT mc.id, mc.review_status, mc.merge_requested_by IS NOT NULL AS asked,
               mc.probability,
               (SELECT person_id FROM source_record WHERE id = mc.left_record_id) AS a,
               (SELECT person_id FROM source_record WHERE id = mc.right_record_id) AS b
        FROM match_candidate mc
        WHERE mc.review_status IN ('pending', 'claimed', 'skipped')
    ), ranked AS (
        SELECT id, review_status, a = b AS same,
               row_number() OVER (PARTITION BY least(a, b), greatest(a, b)
                                  ORDER BY review_status = 'claimed' DESC, asked DESC,
                                           probability DESC, id) AS rank
        FROM open WHERE a IS NOT NULL AND b IS NOT NULL
    )
    UPDATE match_candidate mc SET review_status = 'superseded', claimed_until = NULL,
           version = mc.version + 1
    WHERE mc.id IN (SELECT id FROM ranked
                    WHERE (rank > 1 OR same) AND review_status <> 'claimed')
""")


def one_item_per_persons(connection: sa.Connection) -> int:
    """Supersede the open review items that repeat another between the same two persons
    (or whose records are one person now); returns how many."""
    return connection.execute(_ONE_ITEM_PER_PERSONS).rowcount


def mark_matched(connection: sa.Connection) -> None:
    """Loaded batches, not held for a preview, whose every accepted record is matched
    become `matched` (a released batch without accepted records among them)."""
    connection.execute(_MARK_MATCHED)


def match(connection: sa.Connection, options: RunOptions, say: Say = lambda _: None) -> RunSummary:
    """Match what is not yet matched (everything with `rebuild`), in the caller's transaction:
    scored pairs stored, clusters made persons, finished batches `matched` and their rows
    made household memberships (`registry.households`)."""
    result = run(connection, options, say)
    summary = result.summary
    if summary.new_records == 0 and not options.rebuild:
        return summary
    started = time.perf_counter()
    say("writing persons")
    summary.persons = apply_clusters(connection, result.assignments, actor=options.actor)
    mark_matched(connection)
    superseded = one_item_per_persons(connection)
    summary.reviews_superseded = superseded
    summary.review_items = max(0, summary.review_items - superseded)
    # the finished batches' rows become household memberships, now that they have persons
    summary.persons.update(households.derive_pending(connection, actor=options.actor))
    summary.seconds["write"] = round(
        summary.seconds.get("write", 0.0) + time.perf_counter() - started, 2
    )
    return summary


#: Who the persons and merges made by matching right after a load are attributed to.
AFTER_LOAD_ACTOR = "import-worker"


def is_held(connection: sa.Connection, batch_id: int) -> bool:
    """Whether batch `batch_id` waits at `loaded` for a match preview."""
    return bool(connection.scalar(
        sa.text("SELECT match_hold FROM import_batch WHERE id = :b"), {"b": batch_id}
    ))  # fmt: skip


def match_loaded(connection: sa.Connection, batch_id: int) -> RunSummary | None:
    """Match right after batch `batch_id` loaded (the import worker's and `popdb import`'s
    hook): an incremental run over every record not yet matched, this batch's among them, so
    its people exist for agencies and the batch shows `matched` without anyone running
    `popdb dedup run`. A batch held for a match preview is left `loaded` (None): its records
    wait for `popdb.registry.preview.release`, and no other run takes them meanwhile."""
    if is_held(connection, batch_id):
        log.info("held for a match preview", extra={"batch_id": batch_id})
        return None
    summary = match(connection, RunOptions(actor=AFTER_LOAD_ACTOR))
    log.info("matched after load", extra={"batch_id": batch_id, "new_records": summary.new_records,
                                         "auto_links": summary.auto_links,
                                         "reviews": summary.reviews})  # fmt: skip
    return summary
