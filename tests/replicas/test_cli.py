"""`popdb db replica start|status|stop` as an operator runs them, on a server of its own."""

from __future__ import annotations

import json

from tests.faults.support import own_home
from tests.support.processes import clean_env, popdb_run


def test_replica_start_status_stop_remove() -> None:
    with own_home() as home:
        env = clean_env(POPDB_HOME=str(home))
        started = popdb_run(env, "db", "replica", "start", "--name", "r1")
        assert started.returncode == 0, started.stderr
        out = json.loads(started.stdout)
        assert out["running"] and out["standby"] and out["streaming"] == "streaming"
        assert (home / "replicas" / "r1" / "standby.signal").exists()

        status = json.loads(popdb_run(env, "db", "replica", "status").stdout)
        assert [r["name"] for r in status["embedded"]] == ["r1"]
        assert status["routing"][0]["healthy"] is True

        stopped = popdb_run(env, "db", "replica", "stop", "--name", "r1", "--remove")
        assert stopped.returncode == 0 and json.loads(stopped.stdout)["removed"] is True
        assert not (home / "replicas" / "r1").exists()


def test_replicas_of_an_external_server_are_not_ours_to_start() -> None:
    env = clean_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    refused = popdb_run(env, "db", "replica", "start")
    assert refused.returncode == 2 and "DATABASE_REPLICA_URLS" in refused.stderr
    bad = popdb_run(env, "db", "replica", "start", "--name", "../x")
    assert bad.returncode == 2
