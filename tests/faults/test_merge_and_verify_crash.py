"""PostgreSQL stopped with `pg_ctl -m immediate` while merges commit one after another, and
under a burst of audited identity verifies through `popdb serve`, then started again.

Merges: a thread plays the administrator, each merge its own transaction
(`merges.merge_persons` and its audit event, as a review decision does), acknowledged when
the commit returns; the database is crashed after a seeded number of acknowledgements,
POINTS/4 times (at least 2). Every merge is whole or absent, every acknowledged one is there.

Verifies: 4 client threads post `/api/v1/identity/verify` (each with its own X-Request-Id)
while the database is crashed POINTS/4 times (at least 1) and restarted. Every 200 has its
audit event, nothing but 200 and 503 is answered (503 only while the database is down), the
service is ready again by itself and the audit chain verifies.

Both run on one demo registry (one embedded server), seeded once for the module.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.settings import Settings
from popdb.ops.bootstrap import prepare_database
from popdb.ops.demo import load_demo
from popdb.registry import merges
from tests.faults.support import (
    OwnServer,
    Served,
    fault_points,
    fault_rng,
    http,
    own_home,
    scalar,
    wait_seconds,
)
from tests.support.processes import popdb_run, wait_for

PERSONS = 300
ACTOR = audit.Actor(None, "fault test", "operator")


@pytest.fixture(scope="module")
def registry() -> Iterator[tuple[OwnServer, str]]:
    with own_home() as home:
        server = OwnServer(home)
        url = server.start()
        engine = prepare_database(Settings(database_url=url, home=home))
        load_demo(engine, home.parent / "demo", persons=PERSONS)
        engine.dispose()
        try:
            yield server, url
        finally:
            server.stop()


class MergeLoop(threading.Thread):
    """Merge `pairs` one transaction each until done or the database goes away."""

    def __init__(self, url: str, pairs: list[tuple[int, int]]) -> None:
        super().__init__(daemon=True)
        self.url, self.pairs = url, pairs
        self.acked: list[tuple[int, int]] = []  # (survivor, retired), once committed
        self.error: BaseException | None = None

    def run(self) -> None:
        engine = sa.create_engine(self.url, poolclass=sa.pool.NullPool)
        try:
            for a, b in self.pairs:
                with Session(engine) as session:
                    result = merges.merge_persons(session, a, b, actor=ACTOR, reason="fault test")
                    audit.record(
                        session, actor=ACTOR, action="person.merge", subject_type="person",
                        subject_id=result.survivor_id,
                        detail={"retired_person_id": result.retired_id, "pair": [a, b]},
                    )  # fmt: skip
                    session.commit()
                self.acked.append((result.survivor_id, int(result.retired_id or 0)))
        except sa.exc.DBAPIError as exc:
            self.error = exc
        finally:
            engine.dispose()


def _records(conn: sa.Connection) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for person, record in conn.execute(sa.text("SELECT person_id, id FROM source_record")):
        out.setdefault(person, set()).add(record)
    return out


def _persons(conn: sa.Connection) -> dict[int, Any]:
    rows = conn.execute(sa.text("SELECT id, status, merged_into_id FROM person"))
    return {r.id: r for r in rows}


def _merged_events(conn: sa.Connection) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    sql = "SELECT person_id, data FROM person_event WHERE kind = 'merged'"
    for person, data in conn.execute(sa.text(sql)):
        out.setdefault(person, []).append(data)
    return out


def test_merges_cut_by_a_database_crash_are_whole_or_absent(
    registry: tuple[OwnServer, str],
) -> None:
    server, url = registry
    rng = fault_rng("database crash during merges")
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        before = _records(conn)
        people = sorted(
            p for p, r in _persons(conn).items() if r.status == "active" and p in before
        )
    rng.shuffle(people)
    pairs = [(people[i], people[i + 1]) for i in range(0, len(people) - 1, 2)]
    spare = pairs.pop()  # merged after the last restart
    rounds = max(2, fault_points() // 4)
    per_round = len(pairs) // rounds
    acked: list[tuple[int, int]] = []
    interrupted = 0
    for r in range(rounds):
        chunk = pairs[r * per_round : (r + 1) * per_round]
        target = rng.randint(1, max(1, len(chunk) // 3))
        loop = MergeLoop(url, chunk)
        loop.start()
        wait_for(lambda: len(loop.acked) >= target or not loop.is_alive(),  # noqa: B023
                 f"{target} merges acknowledged", timeout=120)  # fmt: skip
        server.crash()
        loop.join(120)
        assert not loop.is_alive(), "the merge loop hangs after the crash"
        interrupted += loop.error is not None
        server.restart()
        acked += loop.acked
    assert interrupted, "no crash landed while merges were running"

    with engine.connect() as conn:
        after, persons, events = _records(conn), _persons(conn), _merged_events(conn)
        merged_pairs = 0
        for a, b in pairs:
            pa, pb = persons[a], persons[b]
            if pa.status == "active" and pb.status == "active":  # untouched
                assert after.get(a) == before[a] and after.get(b) == before[b], (a, b)
                assert a not in events and b not in events, f"merge events on unmerged {a}, {b}"
                continue
            merged_pairs += 1
            survivor, retired = (a, b) if pa.status == "active" else (b, a)
            assert persons[retired].status == "retired", (a, b, pa, pb)
            assert persons[retired].merged_into_id == survivor, (a, b)
            assert persons[survivor].status == "active", (a, b)
            assert retired not in after, f"records left on retired person {retired}"
            assert after[survivor] == before[a] | before[b], f"records lost merging {a}, {b}"
            assert any(e["from_person_id"] == retired for e in events.get(survivor, [])), (a, b)
            assert any(e["into_person_id"] == survivor for e in events.get(retired, [])), (a, b)
        for survivor, retired in acked:
            assert persons[retired].merged_into_id == survivor, (
                f"acknowledged merge lost: {retired}"
            )
        on_retired = conn.scalar(sa.text(
            "SELECT count(*) FROM source_record s JOIN person p ON p.id = s.person_id "
            "WHERE p.status = 'retired'"))  # fmt: skip
        assert on_retired == 0
        audited = conn.scalar(sa.text("SELECT count(*) FROM audit_event "
                                      "WHERE action = 'person.merge'"))  # fmt: skip
        assert audited == merged_pairs, "a merge without its audit event, or the reverse"
        verdict = audit.verify(conn)
        assert verdict.ok, verdict.summary()
    engine.dispose()
    assert len(acked) <= merged_pairs
    print(f"\nmerge crashes: {rounds}, cut a merge loop: {interrupted}, merges acknowledged: "
          f"{len(acked)}, merged: {merged_pairs} of {len(pairs)} pairs")  # fmt: skip
    # The registry works again: a merge after the last restart commits.
    loop = MergeLoop(url, [spare])
    loop.run()
    assert loop.error is None and len(loop.acked) == 1, loop.error
    retired = loop.acked[0][1]
    assert (
        scalar(url, "SELECT merged_into_id FROM person WHERE id = :p", p=retired)
        == (loop.acked[0][0])
    )


@dataclass
class Answer:
    request_id: str
    status: int | str  # an HTTP status, or the exception's name when there was no answer
    sent: float
    answered: float


def _ready(base: str) -> int | None:
    try:
        return http("GET", base + "/readyz", timeout=5)[0]
    except OSError:
        return None


def test_audited_verifies_cut_by_a_database_crash_are_all_audited(
    registry: tuple[OwnServer, str],
) -> None:
    server, url = registry
    rng = fault_rng("database crash during verifies")
    served = Served(server.home, workers=2).start()
    try:
        done = popdb_run(served.env, "clients", "create", "--name", "fault agency", "--role",
                         "agency", "--rate", "1000000", "--per-day", "1000000000")  # fmt: skip
        assert done.returncode == 0, done.stderr
        headers = {"Authorization": f"Bearer {json.loads(done.stdout)['api_key']}",
                   "Content-Type": "application/json"}  # fmt: skip
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            people = conn.execute(sa.text(
                "SELECT personal_id_number, full_name FROM person WHERE status = 'active' "
                "AND personal_id_number IS NOT NULL AND full_name IS NOT NULL")).all()  # fmt: skip
        engine.dispose()
        answers: list[Answer] = []
        lock, stop = threading.Lock(), threading.Event()

        def burst(seed: int) -> None:
            mine = random.Random(seed)
            while not stop.is_set():
                number, name = mine.choice(people)
                rid = f"fault-{uuid.uuid4().hex}"
                body = {"personal_id_number": number, "full_name": name, "purpose": "fault test"}
                sent = time.monotonic()
                status: int | str
                try:
                    status = http("POST", served.base + "/api/v1/identity/verify",
                                  headers={**headers, "X-Request-Id": rid},
                                  data=json.dumps(body).encode(), timeout=30)[0]  # fmt: skip
                except OSError as exc:
                    status = type(exc).__name__
                with lock:
                    answers.append(Answer(rid, status, sent, time.monotonic()))

        threads = [threading.Thread(target=burst, args=(i,), daemon=True) for i in range(4)]
        for t in threads:
            t.start()
        down: list[tuple[float, float]] = []  # (crash started, ready again)
        for _ in range(max(1, fault_points() // 4)):
            target = len(answers) + rng.randint(20, 150)
            wait_for(lambda: len(answers) >= target, f"{target} verifies answered",  # noqa: B023
                     timeout=120, interval=0.05)  # fmt: skip
            crashed = time.monotonic()
            server.crash()
            wait_for(lambda: _ready(served.base) == 503, "/readyz to go red", timeout=30,
                     interval=0.1)  # fmt: skip
            wait_seconds(rng.uniform(0.2, 2.0))
            server.restart()
            wait_for(lambda: _ready(served.base) == 200, "/readyz to go green", timeout=60,
                     interval=0.1)  # fmt: skip
            down.append((crashed, time.monotonic()))
        settled = len(answers)
        wait_for(lambda: len(answers) >= settled + 40, "verifies after the last restart",
                 timeout=60, interval=0.05)  # fmt: skip
        stop.set()
        for t in threads:
            t.join(60)

        bad = [a for a in answers if a.status not in (200, 503)]
        assert not bad, f"answers other than 200 and 503: {bad[:5]}; log: {served.log()[-6000:]}"
        for a in answers:
            if a.status == 503:
                assert any(a.answered >= c and a.sent <= r for c, r in down), (
                    f"503 while the database was up: {a}"
                )
        ok = {a.request_id for a in answers if a.status == 200}
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            audited = set(conn.scalars(sa.text(
                "SELECT request_id FROM audit_event WHERE action = 'identity.verify' "
                "AND request_id LIKE 'fault-%'")))  # fmt: skip
            verdict = audit.verify(conn)
        engine.dispose()
        missing = ok - audited
        assert not missing, f"{len(missing)} verifies answered 200 without an audit event"
        assert verdict.ok, verdict.summary()
        assert _ready(served.base) == 200
        unavailable = sum(a.status == 503 for a in answers)
        print(f"\nverify crashes: {len(down)}, answers: {len(answers)} ({len(ok)} × 200, "
              f"{unavailable} × 503), audited: {len(audited)}, "
              f"chain: {verdict.checked} events")  # fmt: skip
    finally:
        served.stop()
