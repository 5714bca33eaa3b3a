"""Agency reads on a streaming replica of a primary of this module's own (real PostgreSQL,
Unix sockets only): written on the primary, read on the replica, audited on the primary;
a replica past the lag limit is skipped; lag shows in /readyz and /metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from api import create_app
from popdb.core import replicas
from tests.replicas.support import Cluster, audit_count, cluster, served_delta, verify

HOA = "001190000101"
LAN = "001190000102"
THU = "001190000103"


@pytest.fixture(scope="module")
def c() -> Iterator[Cluster]:
    with cluster("r1") as made:
        yield made


def test_written_on_the_primary_read_on_the_replica_audited_on_the_primary(c: Cluster) -> None:
    c.add_person(HOA, "Nguyễn Thị Hòa")
    c.wait_replayed()
    http = create_app(c.settings).test_client()
    r, served = served_delta(lambda: verify(http, c.agency, HOA, "Nguyễn Thị Hòa"))
    assert r.status_code == 200 and r.get_json()["match"] is True
    assert served == {"replica": 1, "primary": 0}
    # The answer left only after its audit row committed on the primary.
    assert audit_count(c.primary, HOA) == 1
    lookup, served = served_delta(lambda: http.get(
        f"/api/v1/identity/persons/{HOA}?purpose=kyc", headers=c.agency))  # fmt: skip
    assert lookup.status_code == 200 and lookup.get_json()["full_name"] == "Nguyễn Thị Hòa"
    assert served == {"replica": 1, "primary": 0}
    assert audit_count(c.primary, HOA) == 2
    # The replica is a read-only copy: the audit append could never have gone there.
    with pytest.raises(sa.exc.InternalError), c.replica_engine().begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_event")


def test_a_lagging_replica_is_skipped_and_reported(c: Cluster) -> None:
    # A replica that has replayed no transaction yet has no replay time, so its lag is
    # unknown (never used). Under xdist this test may be the module's first on its worker:
    # let the replica replay one commit before pausing it.
    c.add_person(THU, "Lê Thị Thu")
    c.wait_replayed()
    with c.replica_engine().connect() as conn:
        conn.exec_driver_sql("SELECT pg_wal_replay_pause()")
        conn.commit()
    try:
        c.add_person(LAN, "Trần Văn Lan")  # on the primary; the paused replica lacks it
        # A generous limit keeps using the replica: the answer is stale by design (and
        # proves where it was read), while its audit row still lands on the primary.
        loose = c.with_limits(replica_max_lag_s=3600.0)
        http = create_app(loose).test_client()
        r, served = served_delta(lambda: verify(http, c.agency, LAN, "Trần Văn Lan"))
        assert r.get_json()["match"] is False and served["replica"] == 1
        assert audit_count(c.primary, LAN) == 1

        strict = c.with_limits(replica_max_lag_s=0.2)
        route = replicas.router(strict)
        while True:  # until the paused replica is measurably past the limit
            (state,) = route.states()
            if state.lag_s is not None and state.lag_s > 0.2:
                break
            time.sleep(0.05)
        http = create_app(strict).test_client()
        r, served = served_delta(lambda: verify(http, c.agency, LAN, "Trần Văn Lan"))
        assert r.get_json()["match"] is True
        assert served == {"replica": 0, "primary": 1}

        ready = http.get("/readyz")
        assert ready.status_code == 200  # a lagging replica never makes the service unready
        (reported,) = ready.get_json()["replicas"]
        assert reported["name"] == "r1" and reported["used"] is False
        assert reported["lag_s"] > 0.2
        text = http.get("/metrics").get_data(as_text=True)
        assert 'popdb_replica_up{replica="r1"} 0.0' in text
        lag_line = next(x for x in text.splitlines()
                        if x.startswith('popdb_replica_lag_seconds{replica="r1"}'))  # fmt: skip
        assert float(lag_line.split()[-1]) > 0.2
    finally:
        with c.replica_engine().connect() as conn:
            conn.exec_driver_sql("SELECT pg_wal_replay_resume()")
            conn.commit()
    c.wait_replayed()
    ready = create_app(c.settings).test_client().get("/readyz").get_json()
    assert ready["replicas"][0]["used"] is True  # caught up again: back in use


def test_admin_routes_and_writes_stay_on_the_primary(c: Cluster) -> None:
    """Only the three agency reads are routed; nothing else consults the router."""
    http = create_app(c.settings).test_client()
    _, served = served_delta(lambda: http.get("/readyz"))
    assert served == {"replica": 0, "primary": 0}
