"""What fault tests share: how many faults to inject, and the faults themselves.

- `fault_points()`, `fault_rng()`: POPDB_FAULT_POINTS (default a CI-sized few) and
  POPDB_FAULT_SEED, so any failing run can be replayed exactly.
- `OwnServer`: an embedded PostgreSQL of the test's own (never the shared test server) that
  can be stopped with `pg_ctl -m immediate`, as a power cut would, and started again.
- `Served`: `popdb serve` in a subprocess on a free loopback port, its gunicorn workers and
  import worker found by process tree, and plain HTTP helpers.

Tests of faults during merges and audited verifies slot in beside the import tests, with
`OwnServer.crash()`/`.restart()` around the work and the same "all or nothing" checks.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from popdb.core import embedded
from tests.conftest import TEST_HOME
from tests.support.processes import children, clean_env, cmdline, popdb_run, wait_for

#: Faults injected per test in CI; set POPDB_FAULT_POINTS higher for a thorough run.
DEFAULT_POINTS = 8
DEFAULT_SEED = 20261123


def fault_points(default: int = DEFAULT_POINTS) -> int:
    raw = os.environ.get("POPDB_FAULT_POINTS", "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        pytest.fail(f"POPDB_FAULT_POINTS must be a positive whole number, not {raw!r}")
    return int(raw)


def fault_seed() -> int:
    raw = os.environ.get("POPDB_FAULT_SEED", "").strip()
    return int(raw) if raw.isdigit() else DEFAULT_SEED


def fault_rng(salt: str) -> random.Random:
    """A generator per test, seeded from POPDB_FAULT_SEED and the test's name."""
    return random.Random(f"{fault_seed()}:{salt}")


@contextmanager
def own_home() -> Iterator[Path]:
    """A POPDB_HOME for a server of the test's own, under the repository's .popdb-test/.

    Not under pytest's tmp_path: when tests run as root the embedded server runs as another
    user, who must reach its data directory, and pytest makes its temporary root private
    again whenever another pytest run starts."""
    base = TEST_HOME / "faults"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="home-", dir=base))
    path.chmod(0o755)
    try:
        yield path / "home"
    finally:
        if (path / "home" / "pgdata").exists():
            embedded.stop(path / "home" / "pgdata")
        if os.environ.get("POPDB_FAULT_KEEP"):  # to read the server logs after a failure
            print(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


@dataclass
class OwnServer:
    """An embedded PostgreSQL under `home/pgdata`, for tests that crash the database."""

    home: Path

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    def start(self) -> str:
        """Start (or find) the server; its URL. The socket directory, hence the URL, is the
        same after every restart, so clients holding it reconnect to the new server."""
        return embedded.ensure_running(self.pgdata)

    def crash(self) -> None:
        """`pg_ctl -m immediate stop`: every backend killed, no checkpoint; the next start
        replays the WAL."""
        if not embedded.stop(self.pgdata, mode="immediate"):
            pytest.fail(f"no PostgreSQL was running on {self.pgdata} to crash")

    def restart(self) -> str:
        return self.start()

    def stop(self) -> None:
        if self.pgdata.exists():
            embedded.stop(self.pgdata)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ready(base: str) -> bool:
    """Does the service at `base` answer /readyz with 200 (its database reachable)?"""
    try:
        return http("GET", base + "/readyz", timeout=2)[0] == 200
    except OSError:
        return False


def http(method: str, url: str, *, headers: dict[str, str] | None = None,
         data: bytes | None = None, timeout: float = 10) -> tuple[int, Any]:  # fmt: skip
    """(status, JSON body or text); a refused connection raises OSError."""
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body.decode(errors="replace")


@dataclass
class Served:
    """`popdb serve` with its own POPDB_HOME (and so its own embedded server)."""

    home: Path
    workers: int = 1
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        return clean_env(POPDB_HOME=str(self.home), POPDB_IMPORT_WORKERS="1")

    @property
    def server(self) -> OwnServer:
        return OwnServer(self.home)

    def start(self) -> Served:
        log = (self.home.parent / f"serve-{self.port}.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "popdb", "serve", "--port", str(self.port),
             "--workers", str(self.workers)],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(self._answers, "popdb serve to answer /healthz", timeout=120, interval=0.2)
        wait_for(lambda: len(self.web_workers()) == self.workers,
                 f"{self.workers} gunicorn workers", timeout=60, interval=0.1)  # fmt: skip
        return self

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            pytest.fail(f"popdb serve exited with {self.process.returncode}: {self.log()[-2000:]}")
        try:
            return http("GET", self.base + "/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    def log(self) -> str:
        path = self.home.parent / f"serve-{self.port}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def web_workers(self) -> list[int]:
        """gunicorn's workers: the master's children forked with its own command line (the
        import worker is `python -m popdb worker`)."""
        assert self.process is not None
        master = cmdline(self.process.pid)
        return [p for p in children(self.process.pid) if cmdline(p) == master]

    def import_workers(self) -> list[int]:
        assert self.process is not None
        return [p for p in children(self.process.pid) if cmdline(p)[-1:] == ["worker"]]

    def police_headers(self, commune: str = "00004") -> dict[str, str]:
        done = popdb_run(self.env, "clients", "create", "--name", f"police {commune}",
                         "--role", "police", "--commune", commune)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return {"Authorization": f"Bearer {json.loads(done.stdout)['api_key']}"}

    def database_url(self) -> str:
        url = embedded.status(self.home / "pgdata").url
        assert url is not None, "the served database is not running"
        return url

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.server.stop()
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.server.stop()


def scalar(url: str, sql: str, **params: Any) -> Any:
    """One value from a fresh connection (so a crashed server's old connections do not matter)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()
    finally:
        engine.dispose()


def wait_seconds(seconds: float) -> None:
    """Sleep before injecting a fault at a random moment (never an assertion about time)."""
    time.sleep(seconds)


#: The rows of pg_stat_progress_copy that are a COPY of source records: into the batch's load
#: table (popdb.core.partitions), which other sessions cannot name until it commits.
INTO_RECORDS = (
    "pid IN (SELECT pid FROM pg_stat_activity WHERE query LIKE 'COPY source\\_record%')"
)
