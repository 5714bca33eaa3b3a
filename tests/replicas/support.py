"""A primary of the test module's own (never the shared test server) with its replicas."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import db, replicas
from popdb.core.settings import Settings
from popdb.identity.clients import create_client
from popdb.ops import replicas as ops
from popdb.ops.bootstrap import prepare_database
from tests.faults.support import own_home
from tests.support.persons import add_person

PURPOSE = "mở tài khoản ngân hàng"


@dataclass
class Cluster:
    settings: Settings
    primary: sa.Engine
    agency: dict[str, str]

    def with_limits(self, **changes: Any) -> Settings:
        return dataclasses.replace(self.settings, **changes)

    def replica_engine(self, name: str = "r1") -> sa.Engine:
        url = ops.status_of(self.settings, name)["url"]
        assert url, f"replica {name} is not running"
        return replicas.replica_engine(url)

    def add_person(self, number: str, name: str) -> int:
        with db.session_scope(self.primary) as session:
            return add_person(session, personal_id_number=number, full_name=name).id

    def wait_replayed(self, name: str = "r1", timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with self.primary.connect() as conn:
            target = conn.scalar(sa.text("SELECT pg_current_wal_lsn()::text"))
        deadline = time.monotonic() + timeout
        with self.replica_engine(name).connect() as conn:
            while True:
                behind = conn.scalar(sa.text(
                    "SELECT pg_wal_lsn_diff(CAST(:t AS pg_lsn), pg_last_wal_replay_lsn())"),
                    {"t": target})  # fmt: skip
                if behind is not None and behind <= 0:
                    return
                assert time.monotonic() < deadline, f"replica {name} did not replay in time"
                time.sleep(0.05)
                conn.rollback()


@contextmanager
def cluster(*names: str, synchronous: bool = False) -> Iterator[Cluster]:
    """A migrated primary with an agency client, and replicas `names` started."""
    with own_home() as home:
        settings = Settings(database_url=None, home=home, replica_check_s=0.0)
        # migrated as the owner, used as the service role (as `popdb serve` does)
        primary = prepare_database(settings)
        with db.session_scope(primary) as session:
            issued = create_client(
                session, name="replica test agency", role="agency", commune_code=None,
                policy={"legal_basis": "a", "operations": ["verify", "verify_batch", "lookup"],
                        "fields": ["full_name", "dob", "sex"], "rate_per_second": 100000},
            )  # fmt: skip
        for name in names:
            ops.start(settings, name, synchronous=synchronous)
        try:
            yield Cluster(settings, primary, {"Authorization": f"Bearer {issued.api_key}"})
        finally:
            for name in names:
                ops.stop(settings, name, remove=True)
            primary.dispose()


def audit_count(engine: sa.Engine, number: str) -> int:
    with Session(engine) as session:
        return session.scalar(sa.text(
            "SELECT count(*) FROM audit_event WHERE detail->>'personal_id_number' = :n"),
            {"n": number})  # fmt: skip


def verify(http: Any, headers: dict[str, str], number: str, name: str) -> Any:
    body = {"personal_id_number": number, "full_name": name, "purpose": PURPOSE}
    return http.post("/api/v1/identity/verify", headers=headers, json=body)


def served_delta(action: Callable[[], Any]) -> tuple[Any, dict[str, int]]:
    before = dict(replicas.served)
    result = action()
    return result, {k: replicas.served[k] - before[k] for k in before}
