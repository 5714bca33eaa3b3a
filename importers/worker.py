"""The background import worker: loads the batches uploaded through the API.

An upload only stores the file and registers the batch (status received), then NOTIFYs this
channel; the worker, a separate process started by `popdb serve` (or `popdb worker`), takes
batches one at a time. Advisory locks keep two workers off one batch, and a batch left in
"validating" by a killed worker is picked up again, because its lock died with it.

A batch that loads is then handed to `after_load`, a hook the caller injects (`popdb worker`
passes one that matches the new records into persons, `popdb.registry.matching`): importers/
stays below the registry (import-linter forbids importers → popdb.registry), and the one call
is the single place a setting may hold a batch at `loaded` instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import select
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2
import sqlalchemy as sa
from sqlalchemy.orm import Session

from importers.limits import Limits
from importers.pipeline import BatchBusy, SessionScope, run_batch
from popdb.core.models import ImportBatch

log = logging.getLogger(__name__)

#: Called with the scope and the id of a batch that just loaded; runs in its own unit of work.
#: An exception is logged and leaves the batch `loaded` (the next run matches its records).
AfterLoad = Callable[[SessionScope, int], None]

CHANNEL = "popdb_imports"


def notify(session: Session) -> None:
    """Wake the workers once the caller's transaction commits (NOTIFY is transactional)."""
    session.execute(sa.text(f"NOTIFY {CHANNEL}"))


def pending(session: Session) -> list[tuple[int, str]]:
    """Uploaded batches not yet loaded, oldest first: (id, stored file)."""
    rows = session.execute(
        sa.select(ImportBatch.id, ImportBatch.stored_path)
        .where(
            ImportBatch.status.in_(("received", "validating")),
            ImportBatch.stored_path.is_not(None),
        )
        .order_by(ImportBatch.id)
    ).all()
    return [(batch_id, path) for batch_id, path in rows if path is not None]


def process_pending(
    scope: SessionScope, *, limits: Limits | None = None, after_load: AfterLoad | None = None
) -> int:
    """Load every pending batch this process can lock, each then passed to `after_load`
    (matching, in production); return how many it finished."""
    with scope() as session:
        todo = pending(session)
    done = 0
    for batch_id, stored in todo:
        try:
            summary = run_batch(scope, batch_id, Path(stored), limits=limits)
        except BatchBusy:
            continue  # another worker has it
        except Exception:
            continue  # recorded as failed and logged by run_batch
        log.info(
            "import batch finished",
            extra={"batch_id": batch_id, "status": summary["status"], "rows": summary["rows"]},
        )
        if after_load is not None and summary["status"] == "loaded":
            try:
                after_load(scope, batch_id)
            except (sa.exc.OperationalError, sa.exc.InterfaceError):
                raise  # the database went away: run_forever waits for it
            except Exception:
                log.exception("matching after load failed", extra={"batch_id": batch_id})
        done += 1
    return done


#: An upload that no batch refers to this long after it was saved was cut off: its web worker
#: died between saving the file and committing the batch (any error on the way removes it).
STRAY_AFTER = dt.timedelta(hours=1)


def sweep_stray_uploads(
    session: Session, uploads: Path, *, older_than: dt.timedelta = STRAY_AFTER
) -> list[Path]:
    """Delete the files under `uploads` that no batch refers to, once older than `older_than`
    (a younger one may be an upload whose batch is being committed right now)."""
    if not uploads.is_dir():
        return []
    stored = session.scalars(
        sa.select(ImportBatch.stored_path).where(ImportBatch.stored_path.is_not(None))
    )
    known = {Path(p).name for p in stored if p}
    cutoff = time.time() - older_than.total_seconds()
    removed = []
    for path in uploads.iterdir():
        if path.is_file() and path.name not in known and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path)
    if removed:
        log.info("removed stray uploads", extra={"files": len(removed)})
    return removed


#: Longest wait between attempts to reach a database that went away.
MAX_BACKOFF_SECONDS = 30.0


def run_forever(
    engine: sa.Engine,
    scope: SessionScope,
    *,
    stop: threading.Event,
    limits: Limits | None = None,
    poll_seconds: float = 5.0,
    after_load: AfterLoad | None = None,
) -> None:
    """Process pending batches, then sleep until a NOTIFY (or `poll_seconds`), until `stop`.

    A database that goes away (a restart, a failover) does not end the worker: it waits,
    longer each time up to MAX_BACKOFF_SECONDS, and listens again once the database is back;
    the batch it was loading was rolled back and is pending again. `after_load` is given
    each batch that loads (see `process_pending`)."""
    backoff = 0.5

    def listening() -> None:
        nonlocal backoff
        backoff = 0.5

    while not stop.is_set():
        try:
            _listen_and_process(engine, scope, stop=stop, limits=limits,
                                poll_seconds=poll_seconds, listening=listening,
                                after_load=after_load)  # fmt: skip
        except (sa.exc.DBAPIError, psycopg2.Error) as exc:
            if not _disconnected(exc):
                raise
            log.warning("import worker: database unavailable (%s); retrying in %.1f s",
                        type(exc).__name__, backoff)  # fmt: skip
            stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        else:
            return


def _disconnected(exc: sa.exc.DBAPIError | psycopg2.Error) -> bool:
    """The database went away (refused, restarted, the connection cut mid-statement)?

    psycopg2 reports a connection cut mid-statement as a plain DatabaseError; SQLAlchemy
    recognises it and marks the connection invalidated. Other database errors are bugs."""
    if isinstance(exc, sa.exc.DBAPIError):
        return exc.connection_invalidated or isinstance(
            exc, sa.exc.OperationalError | sa.exc.InterfaceError
        )
    return isinstance(exc, psycopg2.OperationalError | psycopg2.InterfaceError) or (
        type(exc) is psycopg2.DatabaseError  # raw connection (LISTEN): the same cut connection
    )


def _listen_and_process(
    engine: sa.Engine,
    scope: SessionScope,
    *,
    stop: threading.Event,
    limits: Limits | None,
    poll_seconds: float,
    listening: Callable[[], None],
    after_load: AfterLoad | None = None,
) -> None:
    raw = engine.raw_connection()
    try:
        dbapi: Any = raw.dbapi_connection  # psycopg2: poll() and notifies
        dbapi.set_isolation_level(0)  # autocommit: LISTEN takes effect at once
        cursor = dbapi.cursor()
        cursor.execute(f"LISTEN {CHANNEL}")
        cursor.close()
        listening()
        while not stop.is_set():
            process_pending(scope, limits=limits, after_load=after_load)
            if select.select([dbapi], [], [], poll_seconds) != ([], [], []):
                dbapi.poll()
                dbapi.notifies.clear()
    finally:
        with contextlib.suppress(psycopg2.Error, sa.exc.DBAPIError):  # died with the server
            raw.close()
