"""Households from uploads: each matched batch's rows become dated memberships, set-wise.

How rows are grouped (documented in the README, "Households"):

- Only rows that say something about a household take part: a relation to the head
  (`household_head_relation`) or a household number.
- A household belongs to the uploading batch's commune (the commune that keeps the book).
- Rows with the same household number are one household: the column is the profile's
  top-level `"household_id"`, else a header of `importers.dc01.HOUSEHOLD_NUMBER_HEADERS`
  ("Số hộ", "Mã hộ", ...). Its key is `no:<number>`, so later uploads find it again.
- Otherwise rows with the same normalised address (`dedup.address.address_key` of the
  permanent address, else the current one) are one household: key `addr:<key>`. Two
  households at one address (a shared house) become one; a number in the file avoids it.
- Rows with neither a number nor an address are skipped (counted per batch).
- A person twice in one batch takes their last row.

Each person has at most one current membership. A later upload that places the person in
another household ends the current membership on that upload's collection date and starts
the new one (`moved`); the same household with another relation ends and starts too
(`relation changed`); an upload collected before the current membership began is kept as
an ended membership (`earlier`). Every start and end is a `household` person event with
actor and reason. Memberships follow their source record through re-clustering, merges and
unmerges (`follow_records`). Services never commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dedup.address import address_keys
from importers.dc01 import HOUSEHOLD_NUMBER_HEADERS, header_key
from popdb.core import audit
from popdb.core.bulk import copy_in
from popdb.core.errors import InvalidInput, NotFound
from popdb.registry.events import record_event

_NUMBER_KEYS = frozenset(header_key(h) for h in HOUSEHOLD_NUMBER_HEADERS)

_PENDING = sa.text("""
    SELECT b.id, b.commune_code, b.collected_on, b.options -> 'header' AS header, b.mapping
    FROM import_batch b
    WHERE b.status = 'matched'
      AND NOT EXISTS (SELECT 1 FROM household_batch hb WHERE hb.batch_id = b.id)
    ORDER BY b.collected_on, b.id
""")  # fmt: skip


def number_column(header: Sequence[str] | None, mapping: dict[str, Any] | None) -> int | None:
    """Where a batch's rows carry the household number (an index into `source_record.raw`):
    the profile's `household_id` column, else a recognised "Số hộ" header; None if neither."""
    header = list(header or [])
    named = (mapping or {}).get("household_id")
    if named:
        return header.index(named) if named in header else None
    return next((i for i, h in enumerate(header) if header_key(h) in _NUMBER_KEYS), None)


def derive_pending(connection: sa.Connection, *, actor: str) -> dict[str, int]:
    """Memberships for every matched batch not yet read, oldest collection first (so moves
    come out in the order they happened); counts over all of them."""
    totals = {"households_created": 0, "household_memberships": 0, "household_moves": 0,
              "household_rows_skipped": 0}  # fmt: skip
    for batch in connection.execute(_PENDING).all():
        counts = derive_batch(
            connection, batch.id, commune_code=batch.commune_code, day=batch.collected_on,
            number_at=number_column(batch.header, batch.mapping), actor=actor,
        )  # fmt: skip
        for k, v in counts.items():
            totals[k] += v
    return totals


def derive_batch(
    connection: sa.Connection,
    batch_id: int,
    *,
    commune_code: str,
    day: dt.date,
    number_at: int | None,
    actor: str,
) -> dict[str, int]:
    """One batch's rows (already matched into persons) into households and memberships."""
    run = connection.execute
    number = (f"nullif(btrim(sr.raw ->> {int(number_at)}), '')" if number_at is not None
              else "NULL::text")  # fmt: skip
    run(sa.text(f"""
        CREATE TEMP TABLE hh_rows ON COMMIT DROP AS
        SELECT DISTINCT ON (sr.person_id) sr.id AS record_id, sr.person_id,
               sr.household_head_relation AS relation, {number} AS number,
               coalesce(sr.permanent_address, sr.current_address) AS address,
               NULL::text AS household_key
        FROM source_record sr
        WHERE sr.batch_id = :b AND sr.status = 'accepted' AND sr.person_id IS NOT NULL
          AND (sr.household_head_relation IS NOT NULL OR {number} IS NOT NULL)
        ORDER BY sr.person_id, sr.row_number DESC
    """), {"b": batch_id})  # fmt: skip
    run(sa.text("UPDATE hh_rows SET household_key = 'no:' || number WHERE number IS NOT NULL"))
    addresses = list(run(sa.text(
        "SELECT DISTINCT address FROM hh_rows WHERE number IS NULL AND address IS NOT NULL"
    )).scalars())  # fmt: skip
    run(sa.text("CREATE TEMP TABLE hh_address (address text PRIMARY KEY, key text) "
                "ON COMMIT DROP"))  # fmt: skip
    copy_in(connection, "hh_address", ("address", "key"),
            zip(addresses, address_keys(addresses), strict=True))  # fmt: skip
    run(sa.text("""
        UPDATE hh_rows r SET household_key = 'addr:' || a.key FROM hh_address a
        WHERE r.number IS NULL AND a.address = r.address AND a.key IS NOT NULL
    """))  # fmt: skip
    skipped = run(sa.text("DELETE FROM hh_rows WHERE household_key IS NULL")).rowcount
    run(sa.text("ANALYZE hh_rows"))
    created = run(sa.text("""
        INSERT INTO household (commune_code, household_key, household_number, address,
                               created_batch_id)
        SELECT DISTINCT ON (household_key) :c, household_key, number, address, :b FROM hh_rows
        ORDER BY household_key, relation = 'head' DESC NULLS LAST, record_id
        ON CONFLICT (commune_code, household_key) DO NOTHING
    """), {"c": commune_code, "b": batch_id}).rowcount  # fmt: skip
    # what each placed person's current membership says, and what this upload changes
    run(sa.text("""
        CREATE TEMP TABLE hh_plan ON COMMIT DROP AS
        SELECT r.record_id, r.person_id, h.id AS household_id, r.relation,
               m.id AS current_id, m.household_id AS current_household,
               m.valid_from AS current_from,
               CASE WHEN m.id IS NULL THEN 'joined'
                    WHEN m.household_id = h.id
                         AND (r.relation IS NULL OR r.relation IS NOT DISTINCT FROM m.relation)
                         THEN 'same'
                    WHEN CAST(:day AS date) < m.valid_from THEN 'earlier'
                    WHEN m.household_id = h.id THEN 'relation changed'
                    ELSE 'moved' END AS change
        FROM hh_rows r JOIN household h ON h.commune_code = :c AND h.household_key = r.household_key
        LEFT JOIN household_membership m ON m.person_id = r.person_id AND m.valid_to IS NULL
    """), {"c": commune_code, "day": day})  # fmt: skip
    # ended before the new ones start: one current membership per person at every statement
    moves = run(sa.text("""
        UPDATE household_membership m SET valid_to = greatest(CAST(:day AS date), m.valid_from),
               ended_at = now(), ended_by = :actor, end_reason = p.change
        FROM hh_plan p WHERE m.id = p.current_id AND p.change IN ('moved', 'relation changed')
    """), {"day": day, "actor": actor}).rowcount  # fmt: skip
    placed = run(sa.text("""
        WITH started AS (
            INSERT INTO household_membership (household_id, person_id, relation, valid_from,
                valid_to, source_record_id, batch_id, started_by, start_reason, ended_at,
                ended_by, end_reason)
            SELECT household_id, person_id, relation, :day,
                   CASE WHEN change = 'earlier' THEN current_from END, record_id, :b, :actor,
                   change, CASE WHEN change = 'earlier' THEN now() END,
                   CASE WHEN change = 'earlier' THEN :actor END,
                   CASE WHEN change = 'earlier' THEN 'a later upload placed the person' END
            FROM hh_plan WHERE change <> 'same'
            RETURNING id, person_id)
        INSERT INTO person_event (person_id, kind, actor, reason, data)
        SELECT p.person_id, 'household', :actor, p.change,
               jsonb_build_object(
                   'membership_id', s.id, 'household_id', p.household_id,
                   'relation', p.relation, 'valid_from', CAST(:day AS date),
                   'ended_membership_id',
                   CASE WHEN p.change IN ('moved', 'relation changed') THEN p.current_id END,
                   'from_household_id',
                   CASE WHEN p.change IN ('moved', 'relation changed') THEN p.current_household END,
                   'source_record_id', p.record_id, 'batch_id', CAST(:b AS bigint))
        FROM started s JOIN hh_plan p USING (person_id)
    """), {"day": day, "b": batch_id, "actor": actor}).rowcount  # fmt: skip
    run(sa.text("INSERT INTO household_batch (batch_id, households, memberships, skipped) "
                "VALUES (:b, :h, :m, :s)"),
        {"b": batch_id, "h": created, "m": placed, "s": skipped})  # fmt: skip
    run(sa.text("DROP TABLE hh_plan, hh_address, hh_rows"))
    return {"households_created": created, "household_memberships": placed,
            "household_moves": moves, "household_rows_skipped": skipped}  # fmt: skip


def follow_records(
    connection: sa.Connection, records: Sequence[int] | sa.TextClause, *, actor: str
) -> int:
    """Point the memberships of `records` (ids, or a statement selecting them) at the person
    each record now belongs to, after re-clustering, a merge or an unmerge.

    A person who so ends up with two current memberships keeps the one that began last; the
    other ends (`merged`). A person left without a current one whose latest membership was
    ended by a merge gets it back (`unmerged`): what the merge ended, the split undoes.
    Each end and restoration is a `household` event. Returns the memberships moved."""
    run = connection.execute
    if isinstance(records, sa.TextClause):
        scope, params = records.text, {}
    else:
        scope, params = "SELECT unnest(CAST(:ids AS bigint[]))", {"ids": sorted(set(records))}
    moved = run(sa.text(f"""
        CREATE TEMP TABLE hh_follow ON COMMIT DROP AS
        SELECT m.id, m.person_id AS old_person, sr.person_id AS new_person
        FROM household_membership m JOIN source_record sr ON sr.id = m.source_record_id
        WHERE m.source_record_id IN ({scope}) AND sr.person_id <> m.person_id
    """), params).rowcount  # fmt: skip
    if moved:
        run(sa.text("""
            WITH open AS (
                SELECT m.id, m.household_id, coalesce(f.new_person, m.person_id) AS person,
                       m.valid_from
                FROM household_membership m LEFT JOIN hh_follow f ON f.id = m.id
                WHERE m.valid_to IS NULL
                  AND (f.id IS NOT NULL OR m.person_id IN (SELECT new_person FROM hh_follow))),
            ranked AS (
                SELECT *, first_value(valid_from) OVER w AS kept_from,
                       first_value(id) OVER w AS kept_id, row_number() OVER w AS rn
                FROM open WINDOW w AS (PARTITION BY person ORDER BY valid_from DESC, id DESC)),
            ended AS (
                UPDATE household_membership m SET valid_to = greatest(r.kept_from, m.valid_from),
                       ended_at = now(), ended_by = :actor, end_reason = 'merged'
                FROM ranked r WHERE r.rn > 1 AND m.id = r.id
                RETURNING m.id, r.person, m.household_id, r.kept_id)
            INSERT INTO person_event (person_id, kind, actor, reason, data)
            SELECT person, 'household', :actor, 'merged',
                   jsonb_build_object('ended_membership_id', id, 'from_household_id',
                                      household_id, 'kept_membership_id', kept_id)
            FROM ended
        """), {"actor": actor})  # fmt: skip
        run(sa.text("UPDATE household_membership m SET person_id = f.new_person "
                    "FROM hh_follow f WHERE m.id = f.id"))  # fmt: skip
        run(sa.text("""
            WITH touched AS (
                SELECT old_person AS person FROM hh_follow
                UNION SELECT new_person FROM hh_follow),
            latest AS (
                SELECT DISTINCT ON (m.person_id) m.id, m.person_id, m.household_id,
                       m.end_reason, m.valid_to
                FROM household_membership m JOIN touched t ON t.person = m.person_id
                ORDER BY m.person_id, m.valid_from DESC, m.id DESC),
            restored AS (
                UPDATE household_membership m SET valid_to = NULL, ended_at = NULL,
                       ended_by = NULL, end_reason = NULL
                FROM latest l
                WHERE m.id = l.id AND l.end_reason = 'merged'
                  AND NOT EXISTS (SELECT 1 FROM household_membership o
                                  WHERE o.person_id = l.person_id AND o.valid_to IS NULL)
                RETURNING m.id, m.person_id, m.household_id, l.valid_to)
            INSERT INTO person_event (person_id, kind, actor, reason, data)
            SELECT person_id, 'household', :actor, 'unmerged',
                   jsonb_build_object('membership_id', id, 'household_id', household_id,
                                      'restored', true, 'had_ended_on', valid_to)
            FROM restored
        """), {"actor": actor})  # fmt: skip
    run(sa.text("DROP TABLE hh_follow"))
    return moved


def end_membership(
    session: Session,
    person_id: int,
    *,
    actor: audit.Actor,
    reason: str,
    valid_to: dt.date | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """An administrator ends a person's current membership (they left the household, say, a
    move abroad the uploads will not show), on `valid_to` (today by default); an event and an
    audit entry. The next upload that places the person starts a new one."""
    from popdb.registry.merges import actor_label

    if not reason or not reason.strip():
        raise InvalidInput("say why (reason)", errors={"reason": ["required"]})
    session.flush()
    row = session.execute(sa.text(
        "SELECT id, household_id, valid_from FROM household_membership "
        "WHERE person_id = :p AND valid_to IS NULL FOR UPDATE"), {"p": person_id},
    ).first()  # fmt: skip
    if row is None:
        raise NotFound(f"person {person_id} has no current household")
    day = valid_to or dt.date.today()
    if day < row.valid_from:
        raise InvalidInput(
            f"the membership began on {row.valid_from.isoformat()}: it cannot end before",
            errors={"valid_to": [f"before {row.valid_from.isoformat()}"]},
        )
    label = actor_label(actor)
    session.execute(sa.text(
        "UPDATE household_membership SET valid_to = :d, ended_at = now(), ended_by = :a, "
        "end_reason = :r WHERE id = :m"), {"d": day, "a": label, "r": reason, "m": row.id},
    )  # fmt: skip
    data = {"ended_membership_id": row.id, "from_household_id": row.household_id,
            "valid_to": day.isoformat()}  # fmt: skip
    record_event(session, person_id, "household", actor=label, reason=reason, data=data)
    audit.record(session, actor=actor, action="person.household.end", subject_type="person",
                 subject_id=person_id, request_id=request_id,
                 detail={**data, "reason": reason})  # fmt: skip
    return {"person_id": person_id, "membership_id": row.id, "household_id": row.household_id,
            "valid_to": day.isoformat()}  # fmt: skip
