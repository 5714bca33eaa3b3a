"""Two admins at once, on real connections: claims never collide, one decider wins."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.errors import Conflict
from popdb.identity.clients import create_client
from popdb.registry import reviews
from tests.support.scratch import committed_registry

HOLD = dt.timedelta(minutes=5)


@pytest.fixture
def world(scratch_database_url, tmp_path):
    engine, keys = committed_registry(scratch_database_url, tmp_path)
    with Session(engine) as session:
        actors = []
        for name in ("first", "second"):
            issued = create_client(session, name=name, role="admin")
            actors.append(audit.Actor(issued.client_id, name, "admin"))
        session.commit()
    yield engine, actors
    engine.dispose()


def in_threads(*jobs: Callable[[], Any]) -> list[Any]:
    results: list[Any] = [None] * len(jobs)

    def runner(i: int, job: Callable[[], Any]) -> None:
        try:
            results[i] = job()
        except Exception as exc:  # the test looks at what each thread met
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_two_claimants_holding_open_transactions_get_different_items(world):
    engine, actors = world
    both_claimed = threading.Barrier(2, timeout=60)

    def claimant(actor: audit.Actor) -> int | None:
        with Session(engine) as session:
            item = reviews.claim(session, actor=actor, hold=HOLD)
            both_claimed.wait()  # each holds its claim uncommitted while the other claims
            session.commit()
            return item

    first, second = in_threads(*(lambda a=a: claimant(a) for a in actors))
    assert isinstance(first, int) and isinstance(second, int) and first != second
    with Session(engine) as session:
        holders = dict(
            session.execute(
                sa.text(
                    "SELECT id, claimed_by FROM match_candidate WHERE review_status = 'claimed'"
                )
            ).all()
        )
    assert holders == {first: actors[0].id, second: actors[1].id}


def test_two_deciders_on_one_item_one_wins_the_other_gets_a_conflict(world):
    engine, actors = world
    with Session(engine) as session:
        item, version = session.execute(sa.text(
            "SELECT id, version FROM match_candidate WHERE review_status = 'pending' "
            "ORDER BY probability LIMIT 1")).one()  # fmt: skip
    start = threading.Barrier(2, timeout=60)

    def decider(actor: audit.Actor, decision: str) -> str:
        with Session(engine) as session:
            start.wait()
            result = reviews.decide(session, item, decision=decision, version=version,
                                    actor=actor)  # fmt: skip
            session.commit()
            return result.status

    results = in_threads(lambda: decider(actors[0], "merge"),
                         lambda: decider(actors[1], "distinct"))  # fmt: skip
    wins = [r for r in results if isinstance(r, str)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(conflicts) == 1, results
    with Session(engine) as session:
        status = session.scalar(sa.text("SELECT review_status FROM match_candidate WHERE id = :i"),
                                {"i": item})  # fmt: skip
        decisions = session.scalar(sa.text(
            "SELECT count(*) FROM audit_event WHERE action = 'review.decision'"))  # fmt: skip
    assert status == wins[0] and decisions == 1
