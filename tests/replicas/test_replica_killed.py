"""A replica killed under a running service: verify keeps answering, from the primary."""

from __future__ import annotations

import dataclasses

from api import create_app
from popdb.core import embedded
from popdb.ops import replicas as ops
from tests.replicas.support import audit_count, cluster, served_delta, verify

HOA = "001190000201"


def test_verify_answers_from_the_primary_when_the_replica_dies() -> None:
    with cluster("r1") as c:
        c.add_person(HOA, "Nguyễn Thị Hòa")
        c.wait_replayed()
        # The router measures once an hour here: it still believes in the replica after
        # the kill, so the read itself fails on the replica and is run on the primary.
        settings = dataclasses.replace(c.settings, replica_check_s=3600.0)
        http = create_app(settings).test_client()
        r, served = served_delta(lambda: verify(http, c.agency, HOA, "Nguyễn Thị Hòa"))
        assert r.get_json()["match"] is True and served["replica"] == 1

        assert embedded.stop(ops.pgdata_of(c.settings, "r1"), mode="immediate")
        for _attempt in ("the failing try on the replica", "straight to the primary"):
            r, served = served_delta(lambda: verify(http, c.agency, HOA, "Nguyễn Thị Hòa"))
            assert r.status_code == 200 and r.get_json()["match"] is True
            assert served == {"replica": 0, "primary": 1}
        assert audit_count(c.primary, HOA) == 3

        ready = http.get("/readyz")
        assert ready.status_code == 200
        assert ready.get_json()["replicas"][0]["healthy"] is False
