"""Kill -9 the import process at several points: no partial batch, no worker process left
behind, and a retry loads it all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.dc01 import fake_rows, write_csv

ROWS = 60_000


def _popdb(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "popdb", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the import finished before {what}: {process.stderr.read()}")  # type: ignore[union-attr]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def _descendants(pid: int) -> list[int]:
    """The processes `pid` started (its import workers), and theirs (Linux /proc)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left to collect


def _wait_until_gone(pids: list[int], point: str) -> None:
    deadline = time.monotonic() + 30
    while left := [p for p in pids if _alive(p)]:
        if time.monotonic() > deadline:
            pytest.fail(f"after a kill when {point}, worker processes were left: {left}")
        time.sleep(0.05)


def _wait_until_alone(engine: sa.Engine, point: str) -> None:
    """The killed client's server process rolls back and exits; wait for it to be gone.

    A new transaction per look: pg_stat_activity is a snapshot within one transaction."""
    deadline = time.monotonic() + 60
    while True:
        with engine.connect() as conn:
            others = conn.execute(
                sa.text(
                    "SELECT pid, state, left(query, 60) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
            ).all()
        if not others:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"after a kill when {point}, a server process stayed: {others}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("atomicity") / "dc01.csv", fake_rows(ROWS))


def test_a_killed_import_leaves_nothing_and_a_retry_loads_every_row(
    scratch_database_url: str, big_file: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "DATABASE_URL": scratch_database_url, "POPDB_HOME": str(tmp_path),
           "POPDB_IMPORT_WORKERS": "2"}  # fmt: skip
    assert (
        subprocess.run(
            [sys.executable, "-m", "popdb", "db", "upgrade"], env=env, capture_output=True
        ).returncode
        == 0
    )
    engine = sa.create_engine(scratch_database_url)

    def scalar(sql: str) -> object:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()

    kill_points: dict[str, Callable[[], bool]] = {
        "the batch is validating": lambda: scalar(
            "SELECT count(*) FROM import_batch WHERE status = 'validating'"
        ) == 1,
        "COPY is half way": lambda: (scalar(
            "SELECT max(tuples_processed) FROM pg_stat_progress_copy"
        ) or 0) > ROWS // 2,
        "COPY is nearly done": lambda: (scalar(
            "SELECT max(tuples_processed) FROM pg_stat_progress_copy"
        ) or 0) > ROWS * 9 // 10,
    }  # fmt: skip
    try:
        for point, reached in kill_points.items():
            process = _popdb(env, "import", str(big_file), "--commune", "00004")
            _wait_for(reached, process, point)
            workers = _descendants(process.pid)
            if point != "the batch is validating":
                assert workers, "the import has no worker processes to check"
            process.send_signal(signal.SIGKILL)
            process.wait()
            _wait_until_gone(workers, point)
            _wait_until_alone(engine, point)
            assert scalar("SELECT count(*) FROM source_record") == 0, point
            assert scalar("SELECT count(*) FROM import_issue") == 0, point
            assert scalar("SELECT count(*) FROM import_batch WHERE status = 'loaded'") == 0

        retry = _popdb(env, "import", str(big_file), "--commune", "00004")
        out, err = retry.communicate(timeout=300)
        assert retry.returncode == 0, err
        summary = json.loads(out)
        assert summary["status"] == "loaded" and summary["rows"] == ROWS
        assert scalar("SELECT count(*) FROM import_batch") == 1
        assert scalar("SELECT count(*) FROM source_record") == ROWS
        assert scalar("SELECT count(DISTINCT row_number) FROM source_record") == ROWS
    finally:
        engine.dispose()
