"""The review queue: pairs the dedup engine was unsure of, settled by administrators.

An item is a `match_candidate` with a `review_status`. Admins list the queue, claim the next
item (held for a while, `SELECT ... FOR UPDATE SKIP LOCKED` so two admins never get one
item), read both sides with each field's weight, and decide merge, distinct or skip against
the item's `version` (a stale one is a conflict). A merge of two persons that both hold valid,
different personal ID numbers waits for a second, different admin (four eyes).

Every read of an item's personal data and every decision is written to the audit chain.
Services flush, never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from popdb.core.models import MatchCandidate, SourceRecord
from popdb.core.models.citizen import CANONICAL_FIELDS
from popdb.core.pages import fetch_size, page_of
from popdb.registry import merges

STATUSES = ("pending", "claimed", "merged", "distinct", "skipped", "superseded")
#: A filter, not a stored status: open items a first admin asked to merge (four eyes).
AWAITING_APPROVAL = "awaiting_approval"
#: A filter: every item still to settle (pending, claimed or skipped).
OPEN_FILTER = "open"
DECISIONS = ("merge", "distinct", "skip")
OPEN = ("pending", "claimed", "skipped")
#: Fields shown side by side (the parsed columns; codes where the text is not kept).
SHOWN_FIELDS = tuple(f for f in CANONICAL_FIELDS if f not in ("dob", "ethnicity", "religion")) + (
    "ethnicity_code",
    "religion_code",
)

_ITEM = """
    SELECT mc.id, mc.left_record_id, mc.right_record_id, mc.probability, mc.match_weight,
           mc.decision, mc.review_status, mc.review_reason, mc.blocking_rule, mc.model_id,
           mm.version AS
           model_version, mc.claimed_by, mc.claimed_until, mc.decided_by, mc.decided_at,
           mc.merge_requested_by, mc.merge_requested_at, mc.version, mc.created_at,
           l.person_id AS left_person_id, r.person_id AS right_person_id,
           lb.commune_code AS left_commune, rb.commune_code AS right_commune
    FROM match_candidate mc
    JOIN match_model mm ON mm.id = mc.model_id
    JOIN source_record l ON l.id = mc.left_record_id
    JOIN source_record r ON r.id = mc.right_record_id
    JOIN import_batch lb ON lb.id = l.batch_id
    JOIN import_batch rb ON rb.id = r.batch_id
"""


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None
    commune: str | None = None
    min_probability: float | None = None
    max_probability: float | None = None


@dataclass(frozen=True)
class DecisionResult:
    item_id: int
    status: str
    decision: str
    person_id: int | None
    retired_person_id: int | None
    awaiting_approval: bool
    version: int


def _summary(row: Any) -> dict[str, Any]:
    """An item without personal data: what the queue lists."""
    status = row.review_status
    return {
        "id": row.id,
        "status": status,
        "awaiting_approval": row.merge_requested_by is not None and status in OPEN,
        "probability": row.probability,
        "match_weight": row.match_weight,
        "decision": row.decision,
        "review_reason": row.review_reason,
        "blocking_rule": row.blocking_rule,
        "model_version": row.model_version,
        "left_record_id": row.left_record_id,
        "right_record_id": row.right_record_id,
        "left_person_id": row.left_person_id,
        "right_person_id": row.right_person_id,
        "communes": sorted({row.left_commune, row.right_commune}),
        "claimed_by": row.claimed_by,
        "claimed_until": row.claimed_until,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at,
        "merge_requested_by": row.merge_requested_by,
        "version": row.version,
    }


def _where(filters: QueueFilter) -> tuple[list[str], dict[str, Any]]:
    where = ["mc.review_status IS NOT NULL"]
    params: dict[str, Any] = {}
    if filters.status == OPEN_FILTER:
        where.append("mc.review_status IN ('pending', 'claimed', 'skipped')")
    elif filters.status == AWAITING_APPROVAL:
        where.append("mc.merge_requested_by IS NOT NULL AND mc.review_status IN "
                     "('pending', 'claimed', 'skipped')")  # fmt: skip
    elif filters.status is not None:
        if filters.status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}, "
                               f"{AWAITING_APPROVAL}, {OPEN_FILTER}")  # fmt: skip
        where.append("mc.review_status = CAST(:status AS review_status)")
        params["status"] = filters.status
    if filters.commune:
        where.append("(lb.commune_code = :commune OR rb.commune_code = :commune)")
        params["commune"] = filters.commune
    if filters.min_probability is not None:
        where.append("mc.probability >= :lo")
        params["lo"] = filters.min_probability
    if filters.max_probability is not None and filters.max_probability < 1:
        where.append("mc.probability < :hi")  # below, exclusive; 1 means no upper bound
        params["hi"] = filters.max_probability
    return where, params


def encode_cursor(probability: float, item_id: int) -> str:
    return f"{probability!r}_{item_id}"


def decode_cursor(cursor: str) -> tuple[float, int]:
    try:
        probability, item_id = cursor.rsplit("_", 1)
        return float(probability), int(item_id)
    except ValueError:
        raise InvalidInput(
            "the cursor is not one this API gave out: pass `next` from the previous page",
            errors={"after": ["unknown cursor"]},
        ) from None


def list_items(
    session: Session, filters: QueueFilter, *, after: str | None = None, limit: int = 50
) -> dict[str, Any]:
    """A page of the queue, most probable first: `{"items", "next"}`."""
    where, params = _where(filters)
    if after:
        probability, item_id = decode_cursor(after)
        where.append("(mc.probability, mc.id) < (:after_p, :after_id)")
        params.update(after_p=probability, after_id=item_id)
    rows = session.execute(
        sa.text(f"{_ITEM} WHERE {' AND '.join(where)} "
                "ORDER BY mc.probability DESC, mc.id DESC LIMIT :limit"),
        {**params, "limit": fetch_size(limit)},
    ).all()  # fmt: skip
    page = page_of(rows, limit, lambda r: encode_cursor(r.probability, r.id))
    return {"items": [_summary(r) for r in page.items], "next": page.next}


def counts(session: Session, *, commune: str | None = None) -> dict[str, int]:
    """How many items in each status (and awaiting a second admin)."""
    where, params = _where(QueueFilter(commune=commune))
    rows = session.execute(
        sa.text(f"""
            SELECT mc.review_status::text, count(*),
                   count(*) FILTER (WHERE mc.merge_requested_by IS NOT NULL
                                    AND mc.review_status IN ('pending', 'claimed', 'skipped'))
            FROM match_candidate mc
            JOIN source_record l ON l.id = mc.left_record_id
            JOIN source_record r ON r.id = mc.right_record_id
            JOIN import_batch lb ON lb.id = l.batch_id
            JOIN import_batch rb ON rb.id = r.batch_id
            WHERE {" AND ".join(where)} GROUP BY 1"""),
        params,
    ).all()
    out = dict.fromkeys(STATUSES, 0)
    out[AWAITING_APPROVAL] = 0
    for status, n, awaiting in rows:
        out[status] = n
        out[AWAITING_APPROVAL] += awaiting
    out[OPEN_FILTER] = sum(out[s] for s in OPEN)
    return out


def _item_row(session: Session, item_id: int, *, lock: bool = False) -> Any:
    if lock:  # lock the item alone: FOR UPDATE over the join would lock the records too
        session.execute(
            sa.text("SELECT 1 FROM match_candidate WHERE id = :id FOR UPDATE"), {"id": item_id}
        )
    row = session.execute(sa.text(f"{_ITEM} WHERE mc.id = :id"), {"id": item_id}).first()
    if row is None or row.review_status is None:
        raise NotFound(f"no review item {item_id}")
    return row


def claim_next(session: Session, *, actor: audit.Actor, hold: dt.timedelta,
               request_id: str | None = None) -> dict[str, Any] | None:  # fmt: skip
    """Claim an item (see `claim`) and read it (audited); None when nothing is left."""
    item_id = claim(session, actor=actor, hold=hold)
    if item_id is None:
        return None
    return detail(session, item_id, actor=actor, request_id=request_id)


def claim(session: Session, *, actor: audit.Actor, hold: dt.timedelta) -> int | None:
    """The claimant's live item, else the most probable open item nobody holds, claimed for
    `hold`. Locked rows are skipped, so concurrent claimants get different items. An item
    the claimant skipped, or asked to merge (four eyes), goes to someone else."""
    if actor.id is None:
        raise Forbidden("only an API client can claim review items")
    mine = session.scalar(
        sa.text("SELECT id FROM match_candidate WHERE review_status = 'claimed' "
                "AND claimed_by = :me AND claimed_until > now() ORDER BY id LIMIT 1"),
        {"me": actor.id},
    )  # fmt: skip
    if mine is None:
        mine = session.scalar(
            sa.text("""
                UPDATE match_candidate SET review_status = 'claimed', claimed_by = :me,
                       claimed_until = now() + :hold, version = version + 1
                WHERE id = (
                    SELECT id FROM match_candidate
                    WHERE (review_status = 'pending'
                           OR (review_status = 'claimed' AND claimed_until <= now())
                           OR (review_status = 'skipped' AND claimed_by IS DISTINCT FROM :me))
                      AND merge_requested_by IS DISTINCT FROM :me
                    ORDER BY review_status = 'skipped', probability DESC, id
                    LIMIT 1 FOR UPDATE SKIP LOCKED)
                RETURNING id
            """),
            {"me": actor.id, "hold": hold},
        )
    return None if mine is None else int(mine)


def detail(
    session: Session, item_id: int, *, actor: audit.Actor, request_id: str | None = None
) -> dict[str, Any]:
    """Both sides of an item: source records, their persons' golden records, each field's
    level and match weight (from `dedup.report.explain`, under the item's model), the
    probability and the `version` to decide against. Audited: it shows personal data."""
    from dedup.model import MatchModel
    from dedup.report import explain

    row = _item_row(session, item_id)
    params = session.scalar(
        sa.text("SELECT params FROM match_model WHERE id = :id"), {"id": row.model_id}
    )
    explained = explain(session.connection(), MatchModel.from_params(params),
                        row.left_record_id, row.right_record_id)  # fmt: skip
    left = source_record(session, row.left_record_id)
    right = source_record(session, row.right_record_id)
    left_person = golden(session, row.left_person_id)
    right_person = golden(session, row.right_person_id)
    out = _summary(row)
    out.update(
        prior_weight=explained["prior_weight"],
        explained_weight=explained["match_weight"],
        explained_probability=explained["match_probability"],
        comparisons=explained["fields"],
        left=left,
        right=right,
        left_person=left_person,
        right_person=right_person,
        differences=[
            f for f in ("dob", *SHOWN_FIELDS) if left["fields"].get(f) != right["fields"].get(f)
        ],
        four_eyes=_four_eyes(left_person, right_person),
    )
    audit.record(
        session, actor=actor, action="review.read", subject_type="review", subject_id=item_id,
        request_id=request_id,
        detail={"person_ids": sorted({row.left_person_id, row.right_person_id} - {None})},
    )  # fmt: skip
    return out


def _four_eyes(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    if a is None or b is None or a["id"] == b["id"]:
        return False
    na, nb = a.get("personal_id_number"), b.get("personal_id_number")
    return merges.valid_pin(na) and merges.valid_pin(nb) and na != nb


def _fields(row: Any) -> dict[str, Any]:
    values = {f: getattr(row, f) for f in SHOWN_FIELDS}
    values["dob"] = iso_dob(row.dob_year, row.dob_month, row.dob_day)
    return values


def iso_dob(year: int | None, month: int | None, day: int | None) -> str | None:
    """`1950`, `1950-05` or `1950-05-12`, as precise as known."""
    if year is None:
        return None
    if month is None:
        return f"{year:04d}"
    if day is None:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def source_record(session: Session, record_id: int) -> dict[str, Any]:
    row = session.execute(
        sa.text("""
            SELECT sr.*, b.commune_code AS batch_commune, b.file_name, b.collected_on
            FROM source_record sr JOIN import_batch b ON b.id = sr.batch_id WHERE sr.id = :id
        """),
        {"id": record_id},
    ).first()
    if row is None:
        raise NotFound(f"no source record {record_id}")
    return {
        "id": row.id,
        "person_id": row.person_id,
        "source_key": row.source_key,
        "status": row.status,
        "batch": {
            "id": row.batch_id,
            "commune_code": row.batch_commune,
            "file_name": row.file_name,
            "collected_on": row.collected_on.isoformat(),
            "row_number": row.row_number,
        },  # fmt: skip
        "warnings": row.warnings,
        "fields": _fields(row),
    }


def golden(session: Session, person_id: int | None) -> dict[str, Any] | None:
    if person_id is None:
        return None
    row = session.execute(sa.text("SELECT * FROM person WHERE id = :id"), {"id": person_id}).first()
    if row is None:
        return None
    return {
        "id": row.id,
        "personal_id_number": row.personal_id_number,
        "pin_state": row.pin_state,
        "status": row.status,
        "merged_into_id": row.merged_into_id,
        "version": row.version,
        "fields": _fields(row),
    }


def decide(
    session: Session,
    item_id: int,
    *,
    decision: str,
    version: int,
    actor: audit.Actor,
    reason: str | None = None,
    request_id: str | None = None,
) -> DecisionResult:
    """Settle an item. `version` must be the item's current one (else Conflict): the item is
    locked first, so of two deciders one wins and the other sees a newer version."""
    if decision not in DECISIONS:
        raise InvalidInput(f"decision must be one of {', '.join(DECISIONS)}",
                           errors={"decision": [f"not one of {', '.join(DECISIONS)}"]})  # fmt: skip
    if actor.id is None:
        raise Forbidden("only an API client can decide review items")
    row = _item_row(session, item_id, lock=True)
    _check_open(session, row, item_id, version, actor)
    why = reason or f"review item {item_id}"
    detail: dict[str, Any] = {"decision": decision, "version": version, "reason": reason}
    outcome = _Outcome(status="skipped" if decision == "skip" else "distinct")
    if decision == "skip":
        outcome.version = _update(session, item_id, review_status="skipped", claimed_by=actor.id,
                                  claimed_until=None)  # fmt: skip
    elif decision == "distinct":
        outcome.version = _update(session, item_id, review_status="distinct", claimed_until=None,
                                  decided_by=actor.id, decided_at=sa.func.now())  # fmt: skip
    else:
        outcome = _merge(session, row, item_id, actor=actor, why=why, detail=detail)
    if outcome.status == "merged" and outcome.retired_id is not None:
        audit.record(session, actor=actor, action="person.merge", subject_type="person",
                     subject_id=outcome.person_id, request_id=request_id,
                     detail={"retired_person_id": outcome.retired_id, "review_item_id": item_id,
                             "reason": why})  # fmt: skip
    audit.record(session, actor=actor, action="review.decision", subject_type="review",
                 subject_id=item_id, request_id=request_id, detail=detail)  # fmt: skip
    return DecisionResult(item_id, outcome.status, decision, outcome.person_id,
                          outcome.retired_id, outcome.awaiting, outcome.version)  # fmt: skip


@dataclass
class _Outcome:
    status: str
    version: int = 0
    person_id: int | None = None
    retired_id: int | None = None
    awaiting: bool = False


def _check_open(
    session: Session, row: Any, item_id: int, version: int, actor: audit.Actor
) -> None:
    """The item is at `version`, still open, and not held by another administrator."""
    if row.version != version:
        raise Conflict(
            f"review item {item_id} changed since you read it (version {version}, now "
            f"{row.version}): reload it and decide again",
            errors={"version": [f"stale: current is {row.version}"]},
        )
    if row.review_status not in OPEN:
        raise Conflict(f"review item {item_id} is already settled ({row.review_status})")
    now = session.scalar(sa.select(sa.func.now()))
    if (row.review_status == "claimed" and row.claimed_by != actor.id
            and row.claimed_until is not None and row.claimed_until > now):  # fmt: skip
        raise Conflict(
            f"review item {item_id} is claimed by another administrator until "
            f"{row.claimed_until.isoformat(timespec='seconds')}"
        )


def _merge(
    session: Session, row: Any, item_id: int, *, actor: audit.Actor, why: str,
    detail: dict[str, Any],
) -> _Outcome:  # fmt: skip
    """Merge the item's two persons, or record the first of the four eyes a merge of two
    valid, different personal ID numbers needs."""
    ids = [p for p in (row.left_person_id, row.right_person_id) if p is not None]
    if len(ids) != 2:
        raise Conflict("both records must belong to a person: run `popdb dedup run` first")
    locked = merges.lock_persons(session, ids)
    current = session.scalars(
        sa.select(SourceRecord.person_id)
        .where(SourceRecord.id.in_((row.left_record_id, row.right_record_id)))
        .order_by(SourceRecord.id)
    ).all()
    if sorted(current) != sorted(ids):
        raise Conflict("the records moved to other persons meanwhile: reload and decide again")
    a, b = locked[ids[0]], locked[ids[1]]
    four_eyes = a.id != b.id and merges.needs_second_admin(a, b)
    if four_eyes and row.merge_requested_by is None:
        detail["four_eyes"] = "requested"
        version = _update(session, item_id, review_status="pending", merge_requested_by=actor.id,
                          merge_requested_at=sa.func.now(), claimed_by=None,
                          claimed_until=None)  # fmt: skip
        return _Outcome(status="pending", version=version, awaiting=True)
    if four_eyes:
        if row.merge_requested_by == actor.id:
            raise Forbidden(
                "both persons hold valid, different personal ID numbers: a second, "
                "different administrator must approve this merge",
                errors={"decision": ["needs a second administrator"]},
            )
        detail["four_eyes"] = {"requested_by": row.merge_requested_by, "approved_by": actor.id}
    result = merges.merge_persons(session, ids[0], ids[1], actor=actor, reason=why,
                                  candidate_id=item_id, locked=locked)  # fmt: skip
    version = _update(session, item_id, review_status="merged", decided_by=actor.id,
                      decided_at=sa.func.now(), claimed_until=None)  # fmt: skip
    detail.update(person_id=result.survivor_id, retired_person_id=result.retired_id,
                  moved_record_ids=list(result.moved_record_ids))  # fmt: skip
    return _Outcome(status="merged", version=version, person_id=result.survivor_id,
                    retired_id=result.retired_id)  # fmt: skip


def _update(session: Session, item_id: int, **values: Any) -> int:
    """Set `values` on the item and bump its version; the new version."""
    return int(
        session.execute(
            sa.update(MatchCandidate)
            .where(MatchCandidate.id == item_id)
            .values(version=MatchCandidate.version + 1, **values)
            .returning(MatchCandidate.version)
        ).scalar_one()
    )
