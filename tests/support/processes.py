"""Processes for tests that run popdb as a user would, and kill it: start, wait, find children.

Waits are bounded and fail with a message saying what never happened; nothing here asserts
how long anything took."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa


def popdb_process(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    """`python -m popdb ARGS` in the background, its output captured."""
    return subprocess.Popen(
        [sys.executable, "-m", "popdb", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def popdb_run(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "popdb", *args], env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without a database or home of its own, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "POPDB_HOME")}
    return {**env, **extra}


def wait_for(
    condition: Callable[[], bool],
    what: str,
    *,
    process: subprocess.Popen[str] | None = None,
    timeout: float = 120,
    interval: float = 0.01,
) -> None:
    """Poll `condition` until true; fail naming `what` if `process` ends first or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process is not None and process.poll() is not None:
            err = process.stderr.read() if process.stderr else ""
            pytest.fail(f"the process ended before {what}: {err[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def children(pid: int) -> list[int]:
    """The processes `pid` started directly (Linux /proc)."""
    found: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    """The processes `pid` started (its import workers), and theirs."""
    found: list[int] = []
    todo = [pid]
    while todo:
        kids = children(todo.pop())
        found += kids
        todo += kids
    return found


def cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
    except OSError:
        return []


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left to collect


def wait_until_gone(pids: list[int], point: str) -> None:
    deadline = time.monotonic() + 30
    while left := [p for p in pids if alive(p)]:
        if time.monotonic() > deadline:
            pytest.fail(f"after a kill when {point}, worker processes were left: {left}")
        time.sleep(0.05)


def wait_until_alone(engine: sa.Engine, point: str) -> None:
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
