"""Partitions of source_record and match_candidate (one per import batch) and of audit_event
(one per calendar year, UTC): the load table a batch is copied into and then attached, and
detaching for archive and attaching back (migration 0014, docs/operations.md).

The service role owns no table (popdb.ops.roles): a batch's partitions are made, attached
and dropped through `batch_partition()`, a SECURITY DEFINER function of migration 0014 that
does only that. Archiving, attaching back and the yearly audit partitions are the owner's.

Everything runs on the caller's connection, in the caller's transaction: a batch's partition
is created, filled and attached in its one load transaction, so until the commit no one sees
any of it, and after a crash there is nothing to clean up.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from popdb.core.errors import Conflict, InvalidInput, NotFound

BY_BATCH = ("source_record", "match_candidate")
AUDIT = "audit_event"


#: How long a detach waits for the queries reading the table to end: DETACH takes an ACCESS
#: EXCLUSIVE lock on the parent, and while it waits every new reader queues behind it.
DETACH_LOCK_TIMEOUT = "5s"


class PartitionConflict(Conflict):
    code = "partition_conflict"


def _bounded_wait(connection: sa.Connection) -> None:
    """Fail (lock_timeout) rather than stall the registry behind a long-running reader."""
    connection.execute(sa.text(f"SET LOCAL lock_timeout = '{DETACH_LOCK_TIMEOUT}'"))


def batch_partition(table: str, batch_id: int) -> str:
    """The name of `table`'s partition for one batch."""
    return f"{table}_b{int(batch_id)}"


def audit_partition(year: int) -> str:
    return f"{AUDIT}_y{int(year)}"


def _exists(connection: sa.Connection, name: str) -> bool:
    return connection.scalar(sa.text("SELECT to_regclass(:n) IS NOT NULL"), {"n": name}) is True


def _attached(connection: sa.Connection, name: str) -> bool:
    return bool(
        connection.scalar(
            sa.text("SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(:n))"),
            {"n": name},
        )
    )


def open_batch(connection: sa.Connection, batch_id: int) -> str:
    """Create the table a batch's rows are copied into and return its name.

    A plain table like source_record (columns, defaults — the shared id sequence —, checks)
    without indexes or foreign keys, so COPY pays neither per row: `attach_batch` builds them
    once over the whole batch. A CHECK on batch_id lets ATTACH skip its scan. Created in the
    load's transaction, so COPY may FREEZE its rows. A partition left by an earlier attempt
    must be empty (the batch is not loaded) and is dropped first."""
    for table in BY_BATCH:
        name = batch_partition(table, batch_id)
        if _exists(connection, name):
            if connection.scalar(sa.text(f"SELECT EXISTS (SELECT 1 FROM {name})")):
                raise PartitionConflict(f"{name} already holds rows of batch {batch_id}.")
            _ddl(connection, "drop", table, batch_id)
    name = batch_partition("source_record", batch_id)
    _create_like(connection, "source_record", batch_id)
    return name


def _ddl(connection: sa.Connection, action: str, table: str, batch_id: int) -> None:
    """Create (like `table`, with a CHECK on batch_id), attach or drop a batch's table."""
    connection.execute(
        sa.text("SELECT batch_partition(:a, :t, :b)"),
        {"a": action, "t": table, "b": int(batch_id)},
    )


def _create_like(connection: sa.Connection, table: str, batch_id: int) -> None:
    _ddl(connection, "create", table, batch_id)


def attach_batch(connection: sa.Connection, batch_id: int) -> None:
    """Attach the batch's loaded table to source_record, and an empty partition for its
    match candidates to match_candidate. ATTACH builds the partition's share of every index
    and key, and checks the foreign keys with one query each instead of a trigger per row.

    It takes SHARE UPDATE EXCLUSIVE on the parents (reads and writes go on; another attach
    waits), so call it last, just before the commit."""
    if not _exists(connection, batch_partition("match_candidate", batch_id)):
        _create_like(connection, "match_candidate", batch_id)
    for table in BY_BATCH:
        _ddl(connection, "attach", table, batch_id)


def ensure_batch(connection: sa.Connection, batch_id: int) -> None:
    """Empty partitions for a batch whose rows come another way than the importer (a
    restore, a hand-made fixture): source_record has no default partition, by design."""
    for table in BY_BATCH:
        name = batch_partition(table, batch_id)
        if not _exists(connection, name):
            _create_like(connection, table, batch_id)
        if not _attached(connection, name):
            _ddl(connection, "attach", table, batch_id)


# --- audit years -------------------------------------------------------------------------------


def _year_bounds(year: int) -> tuple[str, str]:
    return f"{year}-01-01 00:00:00+00", f"{year + 1}-01-01 00:00:00+00"


def ensure_audit_years(
    connection: sa.Connection, through: int | None = None, *, since: int | None = None
) -> list[str]:
    """Create the yearly audit partitions missing from `since` (default: after the newest)
    up to `through` (default: next year); returns their names. Run it yearly
    (docs/operations.md): events of a year without its partition land in
    audit_event_default, and are moved into the new partition here (detach the default,
    create the year, re-insert, a new default): the rows are copied as they are, so the
    chain is unchanged."""
    now = dt.datetime.now(dt.UTC).year
    through = now + 1 if through is None else through
    newest = connection.scalar(
        sa.text(
            "SELECT max(substring(c.relname FROM 'audit_event_y([0-9]{4})$')::int) "
            "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'audit_event'::regclass"
        )
    )
    start = since if since is not None else (newest + 1) if newest else now
    made = []
    for year in range(start, through + 1):
        name = audit_partition(year)
        if _exists(connection, name):
            continue
        low, high = _year_bounds(year)
        stray = connection.scalar(
            sa.text(
                "SELECT count(*) FROM audit_event_default WHERE occurred_at >= CAST(:l AS "
                "timestamptz) AND occurred_at < CAST(:h AS timestamptz)"
            ),
            {"l": low, "h": high},
        )
        if stray:
            connection.execute(sa.text("ALTER TABLE audit_event DETACH PARTITION "
                                       "audit_event_default"))  # fmt: skip
            connection.execute(sa.text("ALTER TABLE audit_event_default RENAME TO "
                                       "audit_event_default_old"))  # fmt: skip
        connection.execute(
            sa.text(f"CREATE TABLE {name} PARTITION OF audit_event "
                    f"FOR VALUES FROM ('{low}') TO ('{high}')")  # fmt: skip
        )
        _no_truncate(connection, name)
        _grants_of_parent(connection, name)
        if stray:
            connection.execute(sa.text("CREATE TABLE audit_event_default PARTITION OF "
                                       "audit_event DEFAULT"))  # fmt: skip
            _no_truncate(connection, "audit_event_default")
            _grants_of_parent(connection, "audit_event_default")
            connection.execute(sa.text("INSERT INTO audit_event SELECT * FROM "
                                       "audit_event_default_old ORDER BY id"))  # fmt: skip
            connection.execute(sa.text("DROP TABLE audit_event_default_old"))
        made.append(name)
    return made


def _no_truncate(connection: sa.Connection, name: str) -> None:
    """TRUNCATE triggers are per table: each audit partition refuses it as the parent does."""
    connection.execute(
        sa.text(
            f"CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON {name} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse_change()"
        )
    )


def _grants_of_parent(connection: sa.Connection, name: str) -> None:
    """A new audit partition grants exactly what audit_event grants: the owner's default
    privileges would give the service role UPDATE and DELETE on it (popdb.ops.roles)."""
    for (grantee,) in connection.execute(
        sa.text("SELECT DISTINCT quote_ident(pg_get_userbyid(a.grantee)) FROM pg_class c, "
                "aclexplode(c.relacl) a WHERE c.oid = CAST(:t AS regclass) "
                "AND a.grantee <> c.relowner AND a.grantee <> 0"), {"t": name}
    ):  # fmt: skip
        connection.execute(sa.text(f"REVOKE ALL ON {name} FROM {grantee}"))
    for privilege, grantee in connection.execute(
        sa.text("SELECT a.privilege_type, quote_ident(pg_get_userbyid(a.grantee)) FROM pg_class c, "
                "aclexplode(c.relacl) a WHERE c.oid = 'audit_event'::regclass "
                "AND a.grantee <> c.relowner AND a.grantee <> 0"),
    ):  # fmt: skip
        connection.execute(sa.text(f"GRANT {privilege} ON {name} TO {grantee}"))


# --- archive: detach and attach back --------------------------------------------------------------


@dataclass(frozen=True)
class Detached:
    name: str
    parent: str
    rows: int

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "parent": self.parent, "rows": self.rows}


def province_batches(connection: sa.Connection, province: str, *, archived: bool) -> list[int]:
    """The batches of a province's communes (in any vintage of the unit list) that have
    records in the registry (`archived` False) or archived (True)."""
    batches = connection.scalars(
        sa.text(
            "SELECT DISTINCT b.id FROM import_batch b JOIN admin_unit u "
            "ON u.code = b.commune_code AND u.level = 'commune' "
            "WHERE u.province_code = :p ORDER BY b.id"
        ),
        {"p": province},
    )
    shelved = set(
        connection.scalars(sa.text("SELECT batch_id FROM archived_partition "
                                   "WHERE parent = 'source_record'"))  # fmt: skip
    )
    if archived:
        return [b for b in batches if b in shelved]
    return [b for b in batches if _attached(connection, batch_partition("source_record", b))]


def _record(connection: sa.Connection, name: str, parent: str, **values: object) -> int:
    rows = int(connection.scalar(sa.text(f"SELECT count(*) FROM {name}")) or 0)
    columns = ["name", "parent", "rows", *values]
    connection.execute(
        sa.text(
            f"INSERT INTO archived_partition ({', '.join(columns)}) "
            f"VALUES ({', '.join(':' + c for c in columns)})"
        ),
        {"name": name, "parent": parent, "rows": rows, **values},
    )
    return rows


def detach_batches(connection: sa.Connection, batch_ids: Sequence[int]) -> list[Detached]:
    """Detach the batches' source_record and match_candidate partitions: the tables stay,
    outside the registry's view, to be dumped and dropped (docs/operations.md), or attached
    back with `attach_archived_batches`. Recorded in archived_partition."""
    _bounded_wait(connection)
    out = []
    for batch_id in sorted({int(b) for b in batch_ids}):
        for table in BY_BATCH:
            name = batch_partition(table, batch_id)
            if not _attached(connection, name):
                raise NotFound(f"{table} has no attached partition of batch {batch_id} of its "
                               "own (folded into its province's? archive the province).")
            connection.execute(sa.text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
            out.append(Detached(name, table, _record(connection, name, table,
                                                     batch_id=batch_id)))  # fmt: skip
    return out


def attach_archived_batches(connection: sa.Connection, batch_ids: Sequence[int]) -> list[str]:
    """Attach back the partitions of archived batches (restored from a dump if dropped)."""
    names = []
    for batch_id in sorted({int(b) for b in batch_ids}):
        for table in BY_BATCH:
            name = batch_partition(table, batch_id)
            if not _exists(connection, name):
                raise NotFound(f"{name} is not in the database: restore it from its dump.")
            connection.execute(sa.text(f"ALTER TABLE {table} ATTACH PARTITION {name} "
                                       f"FOR VALUES IN ({batch_id})"))  # fmt: skip
            connection.execute(sa.text("DELETE FROM archived_partition WHERE name = :n"),
                               {"n": name})  # fmt: skip
            names.append(name)
    return names


def detach_audit_before(connection: sa.Connection, year: int) -> list[Detached]:
    """Detach the yearly audit partitions of the years before `year`, oldest first.

    Only the oldest part of the chain can go (a gap inside it could not be verified): the
    partitions detached must hold only events older than every event left. For each, the
    hash before its first event and its last event's hash are recorded, so `audit.verify`
    starts the remaining chain from the cut and checks the archives fit end to end."""
    years = sorted(
        connection.scalars(
            sa.text(
                "SELECT substring(c.relname FROM 'audit_event_y([0-9]{4})$')::int "
                "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'audit_event'::regclass AND c.relname ~ '_y[0-9]{4}$'"
            )
        )
    )
    doomed = [y for y in years if y < year]
    if not doomed:
        return []
    cut = _year_bounds(doomed[-1])[1]
    left_behind = connection.scalar(
        sa.text("SELECT count(*) FROM audit_event_default WHERE occurred_at < CAST(:c AS "
                "timestamptz)"), {"c": cut}
    )  # fmt: skip
    newest_cut = connection.scalar(
        sa.text("SELECT max(id) FROM audit_event WHERE occurred_at < CAST(:c AS timestamptz)"),
        {"c": cut},
    )
    oldest_kept = connection.scalar(
        sa.text("SELECT min(id) FROM audit_event WHERE occurred_at >= CAST(:c AS timestamptz)"),
        {"c": cut},
    )
    if left_behind or (newest_cut and oldest_kept and newest_cut > oldest_kept):
        raise InvalidInput(
            "The audit events before the cut are not all older than the ones after it; "
            "nothing was detached."
        )
    _bounded_wait(connection)
    out = []
    for y in doomed:
        name = audit_partition(y)
        ends = connection.execute(
            sa.text(
                f"SELECT (SELECT id FROM {name} ORDER BY id LIMIT 1), "
                f"(SELECT prev_hash FROM {name} ORDER BY id LIMIT 1), "
                f"(SELECT id FROM {name} ORDER BY id DESC LIMIT 1), "
                f"(SELECT hash FROM {name} ORDER BY id DESC LIMIT 1)"
            )
        ).one()
        connection.execute(sa.text(f"ALTER TABLE audit_event DETACH PARTITION {name}"))
        low, high = _year_bounds(y)
        rows = _record(connection, name, AUDIT, range_from=dt.datetime.fromisoformat(low),
                       range_to=dt.datetime.fromisoformat(high), first_id=ends[0],
                       first_prev_hash=ends[1], last_id=ends[2], last_hash=ends[3])  # fmt: skip
        out.append(Detached(name, AUDIT, rows))
    return out


def attach_archived_audit(connection: sa.Connection) -> list[str]:
    """Attach every archived audit year back (restored from its dump if it was dropped)."""
    names = list(
        connection.scalars(
            sa.text("SELECT name FROM archived_partition WHERE parent = 'audit_event' "
                    "ORDER BY range_from")  # fmt: skip
        )
    )
    for name in names:
        if not _exists(connection, name):
            raise NotFound(f"{name} is not in the database: restore it from its dump.")
        low, high = connection.execute(
            sa.text("SELECT range_from, range_to FROM archived_partition WHERE name = :n"),
            {"n": name},
        ).one()
        connection.execute(
            sa.text(
                f"ALTER TABLE audit_event ATTACH PARTITION {name} FOR VALUES FROM "
                "(CAST(:l AS timestamptz)) TO (CAST(:h AS timestamptz))"
            ),
            {"l": low.isoformat(), "h": high.isoformat()},
        )
        connection.execute(sa.text("DELETE FROM archived_partition WHERE name = :n"), {"n": name})
    return names


# --- fold: a province's closed batches into one partition ------------------------------------


def province_partition(table: str, province: str) -> str:
    """The name of `table`'s partition holding a province's folded batches."""
    if not (province.isascii() and province.isdigit() and len(province) <= 3):
        raise InvalidInput(f"not a province code: {province!r}")
    return f"{table}_p{province}"


@dataclass(frozen=True)
class Folded:
    province: str
    batches: list[int]
    partitions_before: int
    partitions_after: int
    rows: dict[str, int]

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def _bound(connection: sa.Connection, name: str) -> list[int]:
    """The batch ids of an attached LIST partition's bound."""
    bound = connection.scalar(
        sa.text("SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_class c WHERE c.oid = "
                "CAST(:n AS regclass)"), {"n": name}
    )  # fmt: skip
    return [int(v) for v in re.findall(r"\d+", (bound or "").removeprefix("FOR VALUES IN"))]


def _partition_count(connection: sa.Connection) -> int:
    return int(
        connection.scalar(
            sa.text("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                    "'source_record'::regclass")  # fmt: skip
        )
        or 0
    )


def _same_indexes_and_keys(connection: sa.Connection, table: str, name: str) -> None:
    """Give `name` the parent's indexes and foreign keys before it is attached: ATTACH then
    adopts them instead of building them while it holds the parent's lock."""
    for k, definition in enumerate(connection.scalars(
        sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype IN "
                "('p', 'u') AND conrelid = CAST(:t AS regclass) ORDER BY conname"),
        {"t": table},
    ).all()):  # fmt: skip
        connection.execute(sa.text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_k{k} {definition}"))
    indexes = connection.scalars(
        sa.text("SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = "
                "CAST(:t AS regclass) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE "
                "c.conindid = i.indexrelid) ORDER BY i.indexrelid"), {"t": table}
    ).all()  # fmt: skip
    pattern = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON ONLY public\.\w+ ")
    for i, definition in enumerate(indexes):
        unique = pattern.match(definition)
        if unique is None:
            raise PartitionConflict(f"an index of {table} this fold does not read: {definition}")
        made = f"CREATE {unique.group(1) or ''}INDEX {name}_i{i} ON {name} " + definition[
            unique.end():]
        connection.execute(sa.text(made))
    keys = connection.scalars(
        sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid = CAST(:t AS regclass) AND conparentid = 0 ORDER BY conname"),
        {"t": table},
    ).all()  # fmt: skip
    for j, definition in enumerate(keys):
        connection.execute(sa.text(f"ALTER TABLE {name} ADD CONSTRAINT {name}_fk{j} {definition}"))


def provinces_to_fold(connection: sa.Connection) -> list[str]:
    """Provinces with a matched batch still in a partition of its own."""
    return list(
        connection.scalars(
            sa.text(
                "SELECT DISTINCT u.province_code FROM import_batch b JOIN admin_unit u "
                "ON u.code = b.commune_code AND u.level = 'commune' JOIN pg_class c "
                "ON c.relname = 'source_record_b' || b.id JOIN pg_inherits i "
                "ON i.inhrelid = c.oid WHERE b.status = 'matched' ORDER BY 1"
            )
        )
    )


#: Batches folded in one transaction: each partition and its indexes take locks until the
#: commit, and a thousand at once overflowed `max_locks_per_transaction` = 256
#: (tests/bench/fold.py). Callers fold again, after a commit, while batches remain.
FOLD_BATCHES = 200


def fold_province(connection: sa.Connection, province: str, limit: int = FOLD_BATCHES) -> Folded:
    """Fold a province's matched batches into its one partition of each batch table.

    One partition per batch makes every read that does not name a batch plan over all of
    them (docs/operations.md, "Limits"); folded, the count stays about one per province.
    The rows are copied while the batches' partitions are locked against writes (reads go
    on); the new table gets the parent's indexes and keys first, so the swap (detach the
    old, attach the new: the only moment the parent is locked against readers) adopts them
    and checks nothing row by row. Ids, and every reference to them, are unchanged. A
    province folded before is folded again with its new batches. At most `limit` batches,
    oldest first (commit and call again while `batches` comes back non-empty). Run it as
    the owner."""
    batches = [
        b for b in province_batches(connection, province, archived=False)
        if connection.scalar(sa.text("SELECT status FROM import_batch WHERE id = :b"),
                             {"b": b}) == "matched"
    ][: max(1, limit)]  # fmt: skip
    before = _partition_count(connection)
    if not batches:
        return Folded(province, [], before, before, {})
    rows: dict[str, int] = {}
    for table in BY_BATCH:
        target = province_partition(table, province)
        parts = [batch_partition(table, b) for b in batches]
        values = list(batches)
        if _attached(connection, target):
            parts.append(target)
            values += _bound(connection, target)
        values = sorted(set(values))
        connection.execute(sa.text(f"LOCK TABLE {', '.join(parts)} IN SHARE MODE"))
        # a name of its own: the indexes made now must not clash with the old partition's
        new = f"{target}_f{secrets.token_hex(4)}"
        connection.execute(
            sa.text(
                f"CREATE TABLE {new} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
                f"INCLUDING GENERATED INCLUDING STORAGE, CONSTRAINT {target}_batches "
                f"CHECK (batch_id IN ({', '.join(map(str, values))})))"
            )
        )
        columns = ", ".join(
            connection.scalars(
                sa.text("SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = "
                        "CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped "
                        "ORDER BY attnum"), {"t": table}
            )
        )  # fmt: skip
        for part in parts:
            connection.execute(sa.text(f"INSERT INTO {new} ({columns}) SELECT {columns} "
                                       f"FROM {part}"))  # fmt: skip
        connection.execute(sa.text(f"ANALYZE {new}"))
        _same_indexes_and_keys(connection, table, new)
        rows[table] = int(connection.scalar(sa.text(f"SELECT count(*) FROM {new}")) or 0)
        _bounded_wait(connection)
        for part in parts:
            connection.execute(sa.text(f"ALTER TABLE {table} DETACH PARTITION {part}"))
            connection.execute(sa.text(f"DROP TABLE {part}"))
        connection.execute(sa.text(f"ALTER TABLE {new} RENAME TO {target}"))
        connection.execute(sa.text(f"ALTER TABLE {table} ATTACH PARTITION {target} "
                                   f"FOR VALUES IN ({', '.join(map(str, values))})"))  # fmt: skip
    return Folded(province, batches, before, _partition_count(connection), rows)


def _check_values(connection: sa.Connection, name: str) -> list[int]:
    """The batch ids a folded partition's CHECK allows (its bound when attached)."""
    definition = connection.scalar(
        sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                "CAST(:n AS regclass) AND conname LIKE '%\\_batches'"), {"n": name}
    )  # fmt: skip
    return [int(v) for v in re.findall(r"\d+", definition or "")]


def detach_province(connection: sa.Connection, province: str) -> list[Detached]:
    """Detach a province's batches: those still in partitions of their own and its folded
    partition, if any (`detach_batches` for what that records)."""
    out = detach_batches(connection, province_batches(connection, province, archived=False))
    for table in BY_BATCH:
        name = province_partition(table, province)
        if _attached(connection, name):
            connection.execute(sa.text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
            out.append(Detached(name, table, _record(connection, name, table)))
    return out


def attach_archived_province(connection: sa.Connection, province: str) -> list[str]:
    """Attach back what `detach_province` detached (restored from dumps if dropped)."""
    names = attach_archived_batches(
        connection, province_batches(connection, province, archived=True)
    )
    for table in BY_BATCH:
        name = province_partition(table, province)
        if connection.scalar(sa.text("SELECT count(*) FROM archived_partition WHERE name = :n"),
                             {"n": name}) == 0:  # fmt: skip
            continue
        if not _exists(connection, name):
            raise NotFound(f"{name} is not in the database: restore it from its dump.")
        values = ", ".join(map(str, _check_values(connection, name)))
        connection.execute(sa.text(f"ALTER TABLE {table} ATTACH PARTITION {name} "
                                   f"FOR VALUES IN ({values})"))  # fmt: skip
        connection.execute(sa.text("DELETE FROM archived_partition WHERE name = :n"),
                           {"n": name})  # fmt: skip
        names.append(name)
    return names
