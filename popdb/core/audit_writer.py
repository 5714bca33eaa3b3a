"""Group commit of audit appends: one writer thread per process, one transaction per group.

A verify's answer may leave only once its audit row is durable. Committing each row on its
own costs a chain lock, four statements and an fsync per answer, and the chain lock is held
through that fsync, so appends queue behind each other's disk writes. Here the requests of a
process hand their entries to one writer thread, which takes what is waiting (up to
`max_batch` entries; after the first it waits at most `max_wait_s` for more, and only while
a request has announced an entry that is not queued yet), appends them with
`audit.append_many` (one lock, one read of the head, one INSERT) and commits once: one fsync
for the group. Each request then gets its own row's `Appended`, or, when the group's
transaction failed, `AuditUnavailable`, and must not answer (the API says 503).

Two steps per group (issue 21, session 10), so that the chain lock is not held through the
fsync and the groups of all processes flush together at the WAL instead of one after another:

1. **append**: lock, head, INSERT, in a transaction committed with `SET LOCAL
   synchronous_commit = off`. PostgreSQL's `RecordTransactionCommit` then inserts the commit
   record into the WAL and returns without `XLogFlush` (it only tells the WAL writer,
   `XLogSetAsyncXactLSN`); the advisory lock is released after that, when the transaction's
   locks are, so the next group (of any process) may take the lock at once.
2. **durable**: a second, tiny transaction (`_STEP2_DURABLE`) with the connection's ordinary
   `synchronous_commit` (on) that writes one transactional logical message
   (`pg_logical_emit_message(true, ...)`: it takes an xid and writes a WAL record, nothing
   else). A transaction that has written WAL commits with `XLogFlush` up to its own commit
   record (and waits for a synchronous replica, `SyncRepWaitForLSN`). The WAL is flushed in
   order, so this makes everything before it durable, the group's rows and commit record
   included. Only then is any entry of the group reported; a failure in either step is
   `AuditUnavailable` (a 503). An xid alone (`pg_current_xact_id()`) is not enough:
   `RecordTransactionCommit` decides `wrote_xlog` before it writes the commit record, and a
   transaction that wrote no WAL of its own commits asynchronously whatever the setting (the
   crash test found this: every answered row lost).

The crash property: the chain order is the commit order, and the commit records are in the
WAL in that order (a group reads the head only once the previous group's commit record is in
the WAL, and writes its own after it). A crash loses at most the WAL past the last flush, so
the rows it loses are always a suffix of the chain: the chain still verifies, and every
answered read's row is durable because its answer waited for step 2. A row that survives
without its answer (the crash came between the steps) is an audited read that was not
answered, the safe side. `audit.anchor` makes the head it reads durable the same way, so an
anchor never names a row a crash can take back.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from popdb.core import audit

log = logging.getLogger(__name__)


class AuditUnavailable(Exception):
    """The group holding this entry was not committed: the answer must not be sent."""


@dataclass
class _Ticket:
    actor: audit.Actor
    entry: audit.Entry
    done: threading.Event = field(default_factory=threading.Event)
    appended: audit.Appended | None = None
    failed: BaseException | None = None


class GroupWriter:
    """Appends audit entries for many threads, committing them in groups."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        max_batch: int = 64,
        max_wait_s: float = 0.001,
        pipeline: bool = True,
    ):
        self.engine = engine
        #: step 2 on a thread (and connection) of its own, one flush for every group appended
        #: since the last: the writer thread appends the next groups meanwhile
        self.pipeline = pipeline
        self._flushq: queue.SimpleQueue[tuple[list[_Ticket], list[audit.Appended]]] = (
            queue.SimpleQueue()
        )
        self._flusher: threading.Thread | None = None
        self._flush_raw: Any = None
        #: flushes done (step 2), for the benchmark and tests
        self.flushes = 0
        self.max_batch = max(1, max_batch)
        self.max_wait_s = max(0.0, max_wait_s)
        self._queue: queue.SimpleQueue[_Ticket] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._raw: Any = None  # the writer thread's own DBAPI connection
        self._coming = 0  # requests that announced an entry they have not queued yet
        self._coming_lock = threading.Lock()
        #: groups committed and entries in them, for the benchmark and tests
        self.groups = 0
        self.entries = 0

    def announce(self) -> None:
        """A request will append soon: the writer may wait for it (`max_wait_s`) before
        committing what it holds. Pair with `append(announced=True)` or `withdraw()`."""
        with self._coming_lock:
            self._coming += 1

    def withdraw(self) -> None:
        """An announced request will not append after all."""
        with self._coming_lock:
            self._coming = max(0, self._coming - 1)

    def append(
        self,
        actor: audit.Actor,
        entry: audit.Entry,
        timeout_s: float = 30.0,
        *,
        announced: bool = False,
    ) -> audit.Appended:
        """Block until `entry` is committed in the chain; `AuditUnavailable` if it was not."""
        ticket = _Ticket(actor, entry)
        self._ensure_thread()
        self._queue.put(ticket)
        if announced:
            self.withdraw()
        if not ticket.done.wait(timeout_s):
            # the group may still commit later: the row would then exist without its answer,
            # which is safe (an audited read that was not answered), never the other way round
            raise AuditUnavailable("the audit writer did not answer in time")
        if ticket.failed is not None or ticket.appended is None:
            raise AuditUnavailable("the audit append failed") from ticket.failed
        return ticket.appended

    def _ensure_thread(self) -> None:
        """Start the thread in this process (after a fork, the parent's thread is not here)."""
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                if self._pid != os.getpid():
                    self._queue = queue.SimpleQueue()
                    self._flushq = queue.SimpleQueue()
                    self._raw = self._flush_raw = None  # the parent's, not ours to close
                    self.engine.dispose(close=False)  # never share the parent's sockets
                self._pid = os.getpid()
                if self.pipeline:
                    self._flusher = threading.Thread(target=self._flush_run, daemon=True,
                                                     name="audit-flusher")  # fmt: skip
                    self._flusher.start()
                self._thread = threading.Thread(target=self._run, name="audit-writer",
                                                daemon=True)  # fmt: skip
                self._thread.start()

    def _take(self) -> list[_Ticket]:
        group = [self._queue.get()]
        deadline = time.monotonic() + self.max_wait_s
        while len(group) < self.max_batch:
            try:
                group.append(self._queue.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if left <= 0 or self._coming <= 0:
                break
            try:
                group.append(self._queue.get(timeout=left))
            except queue.Empty:
                break
        return group

    def _run(self) -> None:
        while True:
            group = self._take()
            try:
                appended = self._step1(group)
                self.between_steps(appended)
                if self.pipeline:
                    self._flushq.put((group, appended))
                    continue
                self._step2()
            except Exception as exc:  # noqa: BLE001 (every failure: no answer, a 503)
                _fail(group, exc)
                continue
            self.groups += 1
            self.entries += len(group)
            _release(group, appended)

    def _flush_run(self) -> None:
        """Step 2 for every group appended since the last flush, then their answers."""
        while True:
            done = [self._flushq.get()]
            while True:
                try:
                    done.append(self._flushq.get_nowait())
                except queue.Empty:
                    break
            try:
                self._step2()
            except Exception as exc:  # noqa: BLE001 (every failure: no answer, a 503)
                for group, _ in done:
                    _fail(group, exc)
                continue
            for group, appended in done:
                self.groups += 1
                self.entries += len(group)
                _release(group, appended)

    def _step1(self, group: Sequence[_Ticket]) -> list[audit.Appended]:
        """Append `group` under the chain lock, released at an asynchronous commit.

        Two round trips on the writer's own connection in autocommit, each a string of
        statements: BEGIN + `SET LOCAL synchronous_commit = off` + `audit_reserve` (lock, head,
        ids); the INSERT of every row + COMMIT. Every round trip is a wait for the GIL on
        return too, so fewer of them is a shorter cycle. On any error the connection is
        dropped (its transaction dies with it)."""
        entries = [dataclasses.replace(t.entry, actor=t.actor) for t in group]
        audit.keyring().require_active()
        raw = self._raw = self._connection(self._raw)
        try:
            cur = raw.cursor()
            cur.execute(_STEP1_RESERVE, (audit.CHAIN_LOCK, len(entries)))
            prev, ids, now = cur.fetchone()
            rows, appended = audit.chain_rows(prev, ids, now, entries)
            cur.execute(_insert_sql(len(rows)), _insert_params(rows))
            cur.close()
        except BaseException:
            _drop(raw)
            self._raw = None
            raise
        return appended

    def _step2(self) -> None:
        """Flush the WAL past every step 1 committed before this call (one round trip)."""
        raw = self._flush_raw if self.pipeline else self._raw
        raw = self._connection(raw)
        if self.pipeline:
            self._flush_raw = raw
        else:
            self._raw = raw
        try:
            with raw.cursor() as cur:
                cur.execute(_STEP2_DURABLE)
        except BaseException:
            _drop(raw)
            if self.pipeline:
                self._flush_raw = None
            else:
                self._raw = None
            raise
        self.flushes += 1

    def _connection(self, raw: Any) -> Any:
        """`raw`, or when None a new DBAPI connection in autocommit (the SQL strings bracket
        their own transactions)."""
        if raw is None:
            raw = self.engine.raw_connection()
            try:
                raw.driver_connection.autocommit = True  # type: ignore[union-attr]
            except BaseException:
                raw.invalidate()
                raise
        return raw

    def between_steps(self, appended: Sequence[audit.Appended]) -> None:
        """Called after step 1's commit, before step 2: a hook for the crash tests."""


def _fail(group: Sequence[_Ticket], exc: BaseException) -> None:
    log.warning("audit group of %d not committed: %s", len(group), type(exc).__name__)
    for ticket in group:
        ticket.failed = exc
        ticket.done.set()


def _release(group: Sequence[_Ticket], appended: Sequence[audit.Appended]) -> None:
    for ticket, row in zip(group, appended, strict=True):
        ticket.appended = row
        ticket.done.set()


def _drop(raw: Any) -> None:
    """Close a connection that failed (never back to the pool mid-transaction)."""
    with contextlib.suppress(Exception):  # the connection is gone either way
        raw.invalidate()


#: step 1's commit does not wait for the WAL flush, so the chain lock goes at once
_STEP1_RESERVE = f"BEGIN; SET LOCAL synchronous_commit = off; {audit.RESERVE_SQL}"
#: step 2: a transaction that writes WAL (an xid and a logical message of no content),
#: committed with the ordinary synchronous_commit: its commit flushes the WAL past step 1's
_STEP2_DURABLE = "BEGIN; SELECT pg_logical_emit_message(true, 'popdb.audit.durable', ''); COMMIT"
_JSON_COLUMNS = frozenset({"fields", "detail"})
_ROW_SQL = (
    "(" + ", ".join("%s::jsonb" if c in _JSON_COLUMNS else "%s" for c in audit.ROW_COLUMNS) + ")"
)


def _insert_sql(n: int) -> str:
    """One INSERT of `n` rows, then the asynchronous COMMIT that releases the chain lock."""
    return (f"INSERT INTO audit_event ({', '.join(audit.ROW_COLUMNS)}) VALUES "
            + ", ".join([_ROW_SQL] * n) + "; COMMIT")  # fmt: skip


def _insert_params(rows: Sequence[dict[str, Any]]) -> list[Any]:
    return [
        json.dumps(row[c], ensure_ascii=False) if c in _JSON_COLUMNS else row[c]
        for row in rows
        for c in audit.ROW_COLUMNS
    ]
