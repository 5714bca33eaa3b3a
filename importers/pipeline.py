"""Read → map → validate → load one registered batch, with its status kept honest.

`process` does the work inside the caller's transaction (all or nothing). `run_batch` is what
the CLI and the background worker call: it moves the batch through received → validating →
loaded in separate short transactions around that one long one, and records a failure with a
reason the clerk can act on.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from importers.batches import DONE, get_batch, summary
from importers.chunks import ChunkWork
from importers.conventions import conventions
from importers.limits import Limits
from importers.loader import load
from importers.mapping import MappingError, parse_profile
from importers.notes import unread_columns, widespread
from importers.parallel import OrderedPool
from importers.readers import open_table
from importers.recognise import resolve_profile
from importers.rejections import FileRejected
from importers.validate import RowValidator
from popdb.core import admin_units, partitions
from popdb.core.errors import Conflict
from popdb.core.models import AdminUnit, ImportBatch

log = logging.getLogger(__name__)

#: Namespace of the advisory locks that keep two processes off one batch.
LOCK_NAMESPACE = 0x1B0A
#: Records per unit of work: big enough that handing one to a worker costs little, small
#: enough that a few per worker in flight is a few MB.
CHUNK_ROWS = 2_000
#: Files smaller than this are imported in one process: workers would cost more than they
#: save.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
#: Environment variable naming how many worker processes an import uses (default: one per
#: CPU core; 1 validates in the importing process itself).
WORKERS_ENV = "POPDB_IMPORT_WORKERS"

Progress = Callable[[int], None]
SessionScope = Callable[[], AbstractContextManager[Session]]


class BatchBusy(Conflict):
    code = "batch_busy"


@dataclass(frozen=True)
class ReferenceCodes:
    """What the validator needs of the administrative units, read once per vintage."""

    vintage: str
    communes_in_force: frozenset[str]
    known_codes: frozenset[str]
    province_of: dict[str, str]


def reference_codes(session: Session, on: dt.date) -> ReferenceCodes:
    """Commune codes in force on `on`, every code of every vintage, and pre-2025 provinces."""
    vintage = admin_units.vintage_in_force(on).key
    rows = session.execute(
        sa.select(AdminUnit.vintage, AdminUnit.level, AdminUnit.code, AdminUnit.province_code)
    ).all()
    pre_2025 = {v.key for v in admin_units.VINTAGES if v.has_districts}
    province_of: dict[str, str] = {}
    for v, level, code, province in sorted(rows):  # later vintages override earlier ones
        if v in pre_2025 and level != "province":
            province_of[code] = province
    return ReferenceCodes(
        vintage=vintage,
        communes_in_force=frozenset(
            code for v, level, code, _ in rows if v == vintage and level == "commune"
        ),
        known_codes=frozenset(code for _, _, code, _ in rows),
        province_of=province_of,
    )


def import_workers(path: Path, workers: int | None = None) -> int:
    """How many processes validate the rows of `path`: `workers`, else $POPDB_IMPORT_WORKERS,
    else one per CPU core; 1 (this process) for a small file."""
    if workers is None:
        configured = os.environ.get(WORKERS_ENV, "").strip()
        if configured.isdigit():
            workers = int(configured)
        else:
            if configured:
                log.warning("ignored %s=%r: not a number of processes", WORKERS_ENV, configured)
            workers = os.cpu_count() or 1
        if path.stat().st_size < PARALLEL_MIN_BYTES:
            return 1
    return max(1, workers)


def process(
    session: Session,
    batch_id: int,
    path: Path,
    *,
    progress: Progress | None = None,
    limits: Limits | None = None,
    today: dt.date | None = None,
    workers: int | None = None,
) -> ImportBatch:
    """Load the batch's file in the caller's transaction and mark it loaded.

    The rows are parsed, validated and formatted in `workers` processes (see
    `import_workers`), and written in file order through one COPY into the batch's own table,
    which is then attached as its partition of source_record (popdb.core.partitions).

    Raises FileRejected or MappingError for a file that cannot be imported (the caller rolls
    back and records the reason), BatchBusy when another process holds the batch.
    """
    locked = session.execute(
        sa.select(sa.func.pg_try_advisory_xact_lock(LOCK_NAMESPACE, batch_id))
    ).scalar_one()
    if not locked:
        raise BatchBusy(f"Import batch {batch_id} is being processed by another process.")
    batch = get_batch(session, batch_id)
    session.refresh(batch)
    if batch.status in DONE:
        return batch
    options = batch.options or {}
    profile = parse_profile(batch.mapping) if batch.mapping is not None else None
    reference = reference_codes(session, batch.collected_on)
    opening: dict[str, Any] = {
        "encoding": options.get("encoding"),
        "delimiter": options.get("delimiter"),
        "sheet": options.get("sheet"),
        **({"limits": limits} if limits else {}),
    }
    with open_table(path, **opening) as table:
        bound = resolve_profile(table.header, profile)
        found = conventions(path, opening, bound)
        validator = _validator(batch, reference, bound, found, today)
        assert table.parser is not None  # open_table gives every table one
        work = ChunkWork(batch_id, table.parser, bound, validator)
        counts = _load_rows(session, work, table, import_workers(path, workers), progress)
        batch.options = {
            **options,
            "format": table.format,
            "encoding": table.encoding,
            "delimiter": table.delimiter,
            "sheet": table.sheet,
            "header": table.header,
            "mapping_profile": bound.profile.name,
            "unmapped_columns": bound.unmapped_columns,
            "vintage": reference.vintage,
            "notes": [
                *table.notes,
                *found.notes,
                *unread_columns(bound, batch.mapping),
                *widespread(counts),
            ],  # fmt: skip
        }
    batch.rows, batch.accepted, batch.rejected = counts.rows, counts.accepted, counts.rejected
    batch.warnings = counts.warnings
    batch.status = "loaded"
    batch.failure_reason = None
    batch.finished_at = sa.func.clock_timestamp()  # now() is the transaction start
    session.flush()
    session.refresh(batch)
    return batch


def _validator(
    batch: ImportBatch, reference: Any, bound: Any, found: Any, today: dt.date | None
) -> RowValidator:
    """The batch's validator: its collection date and unit list, the file's conventions."""
    return RowValidator(
        collected_on=batch.collected_on,
        communes_in_force=reference.communes_in_force,
        vintage=reference.vintage,
        known_codes=reference.known_codes,
        province_of=reference.province_of,
        name_order=bound.profile.name_order,
        dob_month_first=found.dob_month_first,
        sex_zero_is_female=found.sex_zero_is_female,
        name_columns=" + ".join(
            c
            for f in ("full_name", "family_name", "middle_name", "given_name")
            for c in bound.field_columns.get(f, ())
        ),
        today=today,
    )


def _load_rows(
    session: Session, work: ChunkWork, table: Any, workers: int, progress: Progress | None
) -> Any:
    """Every block of the table validated in the workers and copied in file order."""
    # Millions of short-lived, acyclic row objects: reference counting frees them, and the
    # cycle collector would only rescan the growing caches over and over (~20 % of time).
    # Workers are forked with it off, and with the validator as it is now.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with OrderedPool(work, workers=workers) as pool:
            chunks = pool.map(table.blocks(CHUNK_ROWS))
            connection = session.connection()
            # the batch's own table, no indexes or foreign keys while it fills; attached as
            # a partition of source_record in this transaction, so it appears all at once
            target = partitions.open_batch(connection, work.batch_id)
            counts = load(connection, work.batch_id, work.typed_columns, chunks, progress,
                          table=target, freeze=True)  # fmt: skip
            partitions.attach_batch(connection, work.batch_id)
    finally:
        if collecting:
            gc.enable()
    if progress is not None:
        progress(counts.rows)
    return counts


def run_batch(
    scope: SessionScope,
    batch_id: int,
    path: Path,
    *,
    progress: Progress | None = None,
    limits: Limits | None = None,
    workers: int | None = None,
) -> dict[str, Any]:
    """Validate and load a registered batch; return its summary, loaded or failed.

    `scope()` opens one unit of work (a committed session in production, a savepoint in
    tests). Status moves to validating in its own short transaction, so a client polling the
    batch sees it while the long load runs.
    """
    with scope() as session:
        batch = get_batch(session, batch_id)
        if batch.status in DONE:
            return summary(batch)
        batch.status = "validating"
        batch.started_at = sa.func.now()
        batch.failure_reason = None
    try:
        with scope() as session:
            batch = process(
                session, batch_id, path, progress=progress, limits=limits, workers=workers
            )
            return summary(batch)
    except BatchBusy:
        raise
    except (sa.exc.OperationalError, sa.exc.InterfaceError):
        # The database went away: the load was rolled back with the connection, and the failure
        # cannot be recorded. The batch stays "validating"; a retry, or the worker, takes it up.
        log.warning("import batch interrupted: database unavailable", extra={"batch_id": batch_id})
        raise
    except (FileRejected, MappingError) as exc:
        reason = exc.message if isinstance(exc, FileRejected) else str(exc)
        _fail(scope, batch_id, reason)
    except Exception:
        log.exception("import batch failed", extra={"batch_id": batch_id})
        _fail(scope, batch_id, "The import failed because of an internal error; it was logged. "
              "Nothing from the file was kept; try again later.")  # fmt: skip
        raise
    with scope() as session:
        return summary(get_batch(session, batch_id))


def _fail(scope: SessionScope, batch_id: int, reason: str) -> None:
    with scope() as session:
        batch = get_batch(session, batch_id)
        batch.status = "failed"
        batch.failure_reason = reason
        batch.finished_at = sa.func.clock_timestamp()  # now() is the transaction start
