"""The `popdb` command, run as a user would: in subprocesses, on fresh data directories."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import sqlalchemy as sa

from popdb.core import embedded
from popdb.ops import migrate


def popdb(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "popdb", *args],
        env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(extra)
    return env


@pytest.fixture
def home(tmp_path: Path):
    home = tmp_path / "home"
    yield home
    embedded.stop(home / "pgdata") if (home / "pgdata").exists() else None


def test_db_url_on_an_empty_home_starts_the_server_and_migrates(home: Path) -> None:
    env = _env(POPDB_HOME=str(home))
    done = popdb("db", "url", env=env)
    assert done.returncode == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("postgresql")
    engine = sa.create_engine(url)
    assert migrate.is_at_head(engine)
    engine.dispose()
    status = json.loads(popdb("db", "status", env=env).stdout)
    assert status["running"] and status["at_head"]
    # the server keeps running until asked to stop
    assert json.loads(popdb("db", "stop", env=env).stdout) == {"stopped": True}
    assert json.loads(popdb("db", "status", env=env).stdout)["running"] is False


def test_two_processes_at_once_start_one_server(home: Path) -> None:
    env = _env(POPDB_HOME=str(home))
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "popdb", "db", "start"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len({o["url"] for o in outs}) == 1
    postmasters = subprocess.run(
        ["pgrep", "-f", f"postgres -D {home / 'pgdata'}"], capture_output=True, text=True
    ).stdout.split()
    assert len(postmasters) == 1


def test_clients_are_created_listed_and_revoked_against_an_external_database(
    scratch_database_url: str,
) -> None:
    env = _env(DATABASE_URL=scratch_database_url)
    created = popdb("clients", "create", "--name", "Commune police 00004", "--role", "police",
                    "--commune", "00004", env=env)  # fmt: skip
    assert created.returncode == 0, created.stderr
    issued = json.loads(created.stdout)
    assert set(issued) == {"client_id", "api_key"}
    listed = popdb("clients", "list", env=env).stdout
    assert issued["api_key"] not in listed and "Commune police 00004" in listed
    assert popdb("clients", "revoke", str(issued["client_id"]), env=env).returncode == 0
    assert '"active": false' in popdb("clients", "list", env=env).stdout


def test_bad_input_gets_a_message_not_a_traceback(scratch_database_url: str) -> None:
    env = _env(DATABASE_URL=scratch_database_url)
    done = popdb("clients", "create", "--name", "x", "--role", "police", env=env)
    assert done.returncode == 2
    assert "commune" in done.stderr and "Traceback" not in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_serve_answers_and_stops_cleanly_with_its_database_on_sigterm(home: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "popdb", "serve", "--port", str(port), "--workers", "1"],
        env=_env(POPDB_HOME=str(home)), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.3)
        else:
            pytest.fail("popdb serve did not answer /healthz within 90 s")
        assert _get(base + "/readyz")[0] == 200
        status, body = _get(base + "/openapi.json")
        assert status == 200 and json.loads(body)["info"]["title"] == "popdb"
        assert _get(base + "/docs")[0] == 200
        assert b"popdb_http_requests_total" in _get(base + "/metrics")[1]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
    assert embedded.status(home / "pgdata").running is False
