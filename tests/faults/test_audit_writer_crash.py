"""PostgreSQL stopped with `pg_ctl -m immediate` between the group commit's two steps
(popdb.core.audit_writer): a group appended and committed asynchronously (the chain lock
released, its rows visible, not yet flushed) while its entries still wait for step 2.

Two writers play two gunicorn processes. Writer A is held between its steps; writer B then
appends a group of its own after A's (its rows chain onto A's) and answers it (B's step 2
flushed the WAL, in order, past A's commit record). Then the power cut. After the restart:

- every answered entry's row is there, with the hash its caller was given;
- A's held rows are there too (a later durable row implies every earlier one durable), and
  A's callers got `AuditUnavailable` (no answer), never a row;
- the chain verifies, and a cut anywhere could only have been a suffix.

Then a seeded number of further rounds crash while many threads append through both writers
at once, one of them held between the steps at the moment of the crash: every answered row
survives and the chain verifies each time.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator, Sequence

import pytest
import sqlalchemy as sa

from popdb.core import audit
from popdb.core.audit_writer import AuditUnavailable, GroupWriter
from popdb.core.models import AuditEvent
from popdb.core.settings import Settings
from popdb.ops.bootstrap import prepare_database
from tests.faults.support import OwnServer, fault_points, fault_rng, own_home
from tests.support.processes import wait_for

ACTOR = audit.Actor(None, "crash test", "operator")


class HeldWriter(GroupWriter):
    """A writer that, when armed, stops between step 1 and step 2 until released."""

    def __init__(self, engine: sa.Engine, pipeline: bool = True) -> None:
        super().__init__(engine, max_wait_s=0.0, pipeline=pipeline)
        self.armed = threading.Event()
        self.held = threading.Event()
        self.release = threading.Event()
        self.held_rows: list[audit.Appended] = []

    def between_steps(self, appended: Sequence[audit.Appended]) -> None:
        if self.armed.is_set():
            self.armed.clear()
            self.held_rows = list(appended)
            self.held.set()
            self.release.wait(60)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[OwnServer, str]]:
    with own_home() as home:
        own = OwnServer(home)
        url = own.start()
        prepare_database(Settings(database_url=url, home=home)).dispose()
        try:
            yield own, url
        finally:
            own.stop()


def _stored(url: str) -> tuple[dict[int, str], audit.ChainVerdict]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            rows = dict(conn.execute(sa.select(AuditEvent.id, AuditEvent.hash)).tuples().all())
            return rows, audit.verify(conn)
    finally:
        engine.dispose()


def _append_in_thread(writer: GroupWriter, tag: str, out: dict[str, object]) -> threading.Thread:
    def run() -> None:
        try:
            out[tag] = writer.append(ACTOR, audit.Entry("test.crash", request_id=tag), 60)
        except AuditUnavailable as exc:
            out[tag] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("pipeline", [True, False], ids=["pipelined", "one-group-at-a-time"])
def test_a_crash_between_the_steps_keeps_every_answered_row_and_the_chain(
    server: tuple[OwnServer, str], pipeline: bool
) -> None:
    own, url = server
    a = HeldWriter(sa.create_engine(url, poolclass=sa.pool.NullPool), pipeline)
    b = GroupWriter(sa.create_engine(url, poolclass=sa.pool.NullPool), pipeline=pipeline)
    answered = {f"before-{i}": b.append(ACTOR, audit.Entry("test.crash")) for i in range(3)}
    out: dict[str, object] = {}
    a.armed.set()
    held_thread = _append_in_thread(a, "held", out)
    assert a.held.wait(30), "writer A never reached the point between its steps"
    after = b.append(ACTOR, audit.Entry("test.crash", request_id="after"))  # answered
    assert after.prev_hash == a.held_rows[-1].hash, "B's row does not chain onto A's"
    answered["after"] = after

    own.crash()
    a.release.set()
    held_thread.join(60)
    assert isinstance(out["held"], AuditUnavailable), "A answered across the crash"
    own.restart()

    rows, verdict = _stored(url)
    assert verdict.ok, verdict.summary()
    for tag, row in answered.items():
        assert rows.get(row.id) == row.hash, f"answered row {tag} lost or changed"
    for row in a.held_rows:  # before a durable row, hence durable itself
        assert rows.get(row.id) == row.hash
    for w in (a, b):
        w.engine.dispose()


def _crash_round(own: OwnServer, url: str, rng: random.Random) -> None:
    """Six threads append through two writers; one writer is held between its steps when the
    server is crashed. Every answered row must survive, and the chain must verify."""
    writers = [HeldWriter(sa.create_engine(url, poolclass=sa.pool.NullPool)) for _ in range(2)]
    answered: list[audit.Appended] = []
    lock, stop = threading.Lock(), threading.Event()

    def client(i: int) -> None:
        while not stop.is_set():
            try:
                row = writers[i % 2].append(ACTOR, audit.Entry("test.crash.many"), 30)
            except AuditUnavailable:
                return
            with lock:
                answered.append(row)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(6)]
    for t in threads:
        t.start()
    target = rng.randint(20, 120)
    wait_for(lambda: len(answered) >= target, f"{target} appends answered", timeout=120,
             interval=0.01)  # fmt: skip
    held = writers[rng.randrange(2)]
    held.armed.set()
    assert held.held.wait(30)
    own.crash()
    stop.set()
    held.release.set()
    for t in threads:
        t.join(60)
    own.restart()
    rows, verdict = _stored(url)
    assert verdict.ok, verdict.summary()
    with lock:
        lost = [r.id for r in answered if rows.get(r.id) != r.hash]
    assert not lost, (
        f"{len(lost)} of {len(answered)} answered rows lost in the crash: {sorted(lost)[:5]}; "
        f"stored {len(rows)} rows, ids {min(rows, default=0)}..{max(rows, default=0)}"
    )
    for w in writers:
        w.engine.dispose()


def test_crashes_under_concurrent_appends_lose_no_answered_row(
    server: tuple[OwnServer, str],
) -> None:
    own, url = server
    rng = fault_rng("audit writer crash")
    for _ in range(max(1, fault_points() // 4)):
        _crash_round(own, url, rng)
