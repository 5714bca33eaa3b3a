"""Merge two persons into one, and split records back out: an administrator's corrections.

A merge moves the records of one person (the retired one) into the other (the survivor),
recomputes the survivor's golden fields and retires the other: `status = 'retired'`,
`merged_into_id` = the survivor. The retired person keeps its personal ID number on its row
and in `person_pin`, so a lookup of that number follows `merged_into_id` to the survivor.

An unmerge moves chosen records out again. When they are exactly the records a retired
person brought in, that person comes back (its number with it); otherwise a new person is
made and numbered like any other. The pairs across the split are remembered as distinct, so
a later dedup run does not join them again.

Rows are locked in ascending id order, so two merges touching the same persons wait for each
other instead of deadlocking. Services flush, never commit; the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.errors import Conflict, InvalidInput, NotFound
from popdb.core.models import Person, SourceRecord
from popdb.core.pin import PinError, parse_pin
from popdb.registry import clusters, households
from popdb.registry.events import record_event
from popdb.registry.staging import staged_persons

#: Review items still open: a merge that puts both records in one person settles them.
OPEN_REVIEW = ("pending", "claimed", "skipped")


@dataclass(frozen=True)
class MergeResult:
    survivor_id: int
    retired_id: int | None  # None when the two records already shared a person
    moved_record_ids: tuple[int, ...]


@dataclass(frozen=True)
class UnmergeResult:
    from_person_id: int
    person_id: int
    revived: bool
    moved_record_ids: tuple[int, ...]
    personal_id_number: str | None


def actor_label(actor: audit.Actor) -> str:
    """How an actor is named in `person_event.actor`."""
    return f"{actor.role}:{actor.name}" + (f" (#{actor.id})" if actor.id is not None else "")


def lock_persons(session: Session, ids: Sequence[int]) -> dict[int, sa.Row]:
    """Lock the persons `ids` in ascending id order (the one order every writer uses)."""
    rows = session.execute(
        sa.text(
            "SELECT id, status, merged_into_id, personal_id_number, version FROM person "
            "WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"
        ),
        {"ids": sorted(set(ids))},
    ).all()
    found = {r.id: r for r in rows}
    missing = sorted(set(ids) - set(found))
    if missing:
        raise NotFound(f"no person {', '.join(map(str, missing))}")
    return found


def valid_pin(number: str | None) -> bool:
    if not number:
        return False
    try:
        parse_pin(number)
    except PinError:
        return False
    return True


def needs_second_admin(a: sa.Row, b: sa.Row) -> bool:
    """Four eyes: two persons that both hold valid, different numbers are two documented
    citizens; joining them takes a second, different administrator."""
    return (
        valid_pin(a.personal_id_number)
        and valid_pin(b.personal_id_number)
        and a.personal_id_number != b.personal_id_number
    )


def _record_counts(session: Session, ids: Sequence[int]) -> dict[int, int]:
    rows = session.execute(
        sa.text(
            "SELECT person_id, count(*) FROM source_record WHERE person_id = ANY(:ids) "
            "GROUP BY person_id"
        ),
        {"ids": list(ids)},
    ).all()
    return {int(p): int(n) for p, n in rows}


def choose_survivor(session: Session, a: sa.Row, b: sa.Row) -> tuple[int, int]:
    """(survivor, retired): the person with a number, then the one with more records, then
    the older one. Keeping the numbered person means nobody's number changes."""
    counts = _record_counts(session, [a.id, b.id])

    def rank(p: sa.Row) -> tuple[bool, int, int]:
        return (p.personal_id_number is not None, counts.get(p.id, 0), -p.id)

    first, second = sorted((a, b), key=rank, reverse=True)
    return first.id, second.id


def merge_persons(
    session: Session,
    person_a: int,
    person_b: int,
    *,
    actor: audit.Actor,
    reason: str,
    candidate_id: int | None = None,
    locked: dict[int, sa.Row] | None = None,
) -> MergeResult:
    """Move every record of one person into the other and retire it (see the module doc).

    Writes `merged` events on both persons; no audit event (the caller's action records
    one, with what led to the merge)."""
    session.flush()
    rows = locked or lock_persons(session, [person_a, person_b])
    if person_a == person_b:
        return MergeResult(person_a, None, ())
    a, b = rows[person_a], rows[person_b]
    for p in (a, b):
        if p.status == "retired":
            raise Conflict(
                f"person {p.id} was merged into person {p.merged_into_id}; reload and decide "
                "on the current persons"
            )
    survivor, retired = choose_survivor(session, a, b)
    run = session.execute
    moved = [r[0] for r in run(sa.text(
        "UPDATE source_record SET person_id = :survivor WHERE person_id = :retired "
        "RETURNING id"), {"survivor": survivor, "retired": retired})]  # fmt: skip
    moved.sort()
    # Persons merged into the retired one earlier now point at the survivor directly, so a
    # number is resolved in one step; an unmerge that revives `retired` points them back.
    repointed = sorted(r[0] for r in run(sa.text(
        "UPDATE person SET merged_into_id = :survivor, version = version + 1 "
        "WHERE merged_into_id = :retired RETURNING id"),
        {"survivor": survivor, "retired": retired}))  # fmt: skip
    run(sa.text(
        "UPDATE person SET status = 'retired', merged_into_id = :survivor, "
        "version = version + 1, updated_at = now() WHERE id = :retired"),
        {"survivor": survivor, "retired": retired})  # fmt: skip
    label = actor_label(actor)
    data_in = {"from_person_id": retired, "source_record_ids": moved, "candidate_id": candidate_id}
    data_out = {"into_person_id": survivor, "source_record_ids": moved,
                "candidate_id": candidate_id, "repointed_person_ids": repointed}  # fmt: skip
    _event(session, survivor, "merged", label, reason, data_in)
    _event(session, retired, "merged", label, reason, data_out)
    households.follow_records(session.connection(), moved, actor=label)
    _refresh(session, [survivor], actor=label)
    # Open review items now inside one person have nothing left to decide.
    run(sa.text("""
        UPDATE match_candidate mc SET review_status = 'superseded', claimed_until = NULL,
               version = mc.version + 1
        FROM source_record l, source_record r
        WHERE l.id = mc.left_record_id AND r.id = mc.right_record_id
          AND l.person_id = :survivor AND r.person_id = :survivor
          AND mc.review_status = ANY(CAST(:open AS review_status[]))
          AND mc.id IS DISTINCT FROM :candidate
    """), {"survivor": survivor, "open": list(OPEN_REVIEW), "candidate": candidate_id})  # fmt: skip
    session.expire_all()
    return MergeResult(survivor, retired, tuple(moved))


def unmerge(
    session: Session,
    person_id: int,
    record_ids: Sequence[int],
    *,
    actor: audit.Actor,
    reason: str,
    request_id: str | None = None,
) -> UnmergeResult:
    """Split `record_ids` out of `person_id` into a person of their own (the former person,
    number included, when they come back whole); audited."""
    wanted = sorted(set(record_ids))
    if not wanted:
        raise InvalidInput(
            "name the source records to split out", errors={"source_record_ids": ["empty"]}
        )
    if not reason or not reason.strip():
        raise InvalidInput("say why (reason)", errors={"reason": ["required"]})
    session.flush()
    revivable = _revivable(session, person_id, wanted)
    rows = lock_persons(session, [person_id] + ([revivable] if revivable else []))
    _check_split(session, rows[person_id], wanted)
    label = actor_label(actor)
    revived = revivable is not None and rows[revivable].merged_into_id == person_id
    if revived:
        target = int(revivable)  # type: ignore[arg-type]
        _revive(session, target, person_id)
    else:
        target = int(session.execute(_NEW_PERSON).scalar_one())
        _event(session, target, "created", label, reason,
               {"source_record_ids": wanted, "from_person_id": person_id})  # fmt: skip
    session.execute(_MOVE_RECORDS, {"t": target, "ids": wanted})
    households.follow_records(session.connection(), wanted, actor=label)
    _event(session, person_id, "unmerged", label, reason,
           {"source_record_ids": wanted, "to_person_id": target})  # fmt: skip
    moved_in = {"source_record_ids": wanted, "from_person_id": person_id, "revived": revived}
    _event(session, target, "unmerged", label, reason, moved_in)
    # The pairs across the split are the administrator's "distinct": dedup must not re-join.
    session.execute(
        _SPLIT_PAIRS_DISTINCT, {"actor": actor.id, "moved": wanted, "source": person_id}
    )
    _refresh(session, [person_id, target], actor=label)
    number = session.scalar(sa.select(Person.personal_id_number).where(Person.id == target))
    session.expire_all()
    audit.record(
        session, actor=actor, action="person.unmerge", subject_type="person",
        subject_id=person_id, request_id=request_id,
        detail={"source_record_ids": wanted, "to_person_id": target, "revived": revived,
                "reason": reason},
    )  # fmt: skip
    return UnmergeResult(person_id, target, revived, tuple(wanted), number)


_NEW_PERSON = sa.text("INSERT INTO person DEFAULT VALUES RETURNING id")
_MOVE_RECORDS = sa.text("UPDATE source_record SET person_id = :t WHERE id = ANY(:ids)")
_SPLIT_PAIRS_DISTINCT = sa.text("""
    UPDATE match_candidate SET review_status = 'distinct', decided_by = :actor,
           decided_at = now(), claimed_until = NULL, version = version + 1
    WHERE (left_record_id = ANY(:moved) AND right_record_id IN
             (SELECT id FROM source_record WHERE person_id = :source))
       OR (right_record_id = ANY(:moved) AND left_record_id IN
             (SELECT id FROM source_record WHERE person_id = :source))
""")


def _check_split(session: Session, source: Any, wanted: list[int]) -> None:
    """`wanted` are some, not all, of the records of a person that is not retired."""
    if source.status == "retired":
        raise Conflict(
            f"person {source.id} was merged into person {source.merged_into_id}; unmerge from "
            "that person"
        )
    held = set(
        session.scalars(sa.select(SourceRecord.id).where(SourceRecord.person_id == source.id))
    )
    strangers = [i for i in wanted if i not in held]
    if strangers:
        raise InvalidInput(
            f"source records {', '.join(map(str, strangers))} do not belong to person {source.id}",
            errors={"source_record_ids": [f"not of person {source.id}: {strangers}"]},
        )
    if len(wanted) == len(held):
        raise InvalidInput(
            "that is every record of the person: leave at least one",
            errors={"source_record_ids": ["all records of the person"]},
        )


def _revive(session: Session, target: int, person_id: int) -> None:
    """The person merged into `person_id` comes back, with the persons its merge repointed."""
    session.execute(
        sa.update(Person)
        .where(Person.id == target)
        .values(
            status="active",
            merged_into_id=None,
            version=Person.version + 1,
            updated_at=sa.func.now(),
        )  # fmt: skip
    )
    repointed = _last_merge(session, target, person_id).get("repointed_person_ids") or []
    if repointed:
        session.execute(
            sa.update(Person)
            .where(Person.id.in_(repointed), Person.merged_into_id == person_id)
            .values(merged_into_id=target, version=Person.version + 1)
        )


def _revivable(session: Session, person_id: int, wanted: list[int]) -> int | None:
    """The retired person whose merge into `person_id` brought exactly `wanted`, if any."""
    rows = session.execute(
        sa.text("""
            SELECT DISTINCT ON (e.person_id) e.person_id, e.data
            FROM person p JOIN person_event e ON e.person_id = p.id AND e.kind = 'merged'
            WHERE p.merged_into_id = :p AND p.status = 'retired'
              AND (e.data ->> 'into_person_id')::bigint = :p
            ORDER BY e.person_id, e.id DESC
        """),
        {"p": person_id},
    ).all()
    for retired, data in rows:
        if sorted(data.get("source_record_ids") or []) == wanted:
            return int(retired)
    return None


def _last_merge(session: Session, retired: int, survivor: int) -> dict:
    data = session.scalar(
        sa.text(
            "SELECT data FROM person_event WHERE person_id = :r AND kind = 'merged' "
            "AND (data ->> 'into_person_id')::bigint = :s ORDER BY id DESC LIMIT 1"
        ),
        {"r": retired, "s": survivor},
    )
    return data or {}


def _event(
    session: Session, person_id: int, kind: str, actor: str, reason: str | None, data: dict
) -> None:
    record_event(session, person_id, kind, actor=actor, reason=reason, data=data)


def _refresh(session: Session, ids: Sequence[int], *, actor: str) -> None:
    """Golden fields by survivorship, then a number for whoever has none."""
    connection = session.connection()
    with staged_persons(connection, ids):
        clusters.refresh_golden(connection)
        clusters.assign_numbers(connection, actor=actor)
