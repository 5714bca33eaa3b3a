"""Backups: pg_dump (custom format) of the database in use, and pg_restore back into one.

The server's own client tools (shipped with the embedded server, `embedded.bin_path()`) are
used when present, since pg_dump must be at least as new as the server; else those on PATH.
The password of an external `DATABASE_URL` goes to the tools through PGPASSWORD, never on a
command line. A backup is written beside its target and renamed into place when complete,
so a failed or interrupted backup never leaves a file that looks whole. A restore runs in one
transaction: if it fails, the database is as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit, embedded
from popdb.core.errors import ConfigError, InvalidInput, PopdbError
from popdb.ops import migrate

#: The first bytes of a pg_dump custom-format archive.
ARCHIVE_MAGIC = b"PGDMP"
#: SQLAlchemy URL query parameters that are libpq connection options too.
_LIBPQ_OPTIONS = frozenset(
    {"host", "port", "sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword",
     "sslcrl", "application_name", "connect_timeout", "options", "target_session_attrs",
     "gssencmode", "channel_binding", "service"}
)  # fmt: skip
#: pg_dump -v and pg_restore -v print one of these per table whose rows they move.
_TABLE_DATA = re.compile(r'(?:dumping contents of|processing data for) table "([^"]+)"')
#: Schemas that every database has; anything else in pg_class is the user's.
_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

#: Called with (tables moved, tables in all).
Progress = Callable[[int, int], None]


class BackupFailed(PopdbError):
    code = "backup_failed"


class DatabaseNotEmpty(PopdbError):
    code = "database_not_empty"


@dataclass(frozen=True)
class Outcome:
    """What a backup or restore did, for the CLI's one-line summary."""

    file: str
    bytes: int
    seconds: float
    tables: int
    database: str
    audit_head_id: int
    audit_head_hash: str
    audit_events: int
    revision: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def client_tool(name: str) -> Path:
    """The embedded server's `name` (pg_dump, pg_restore), else the one on PATH."""
    try:
        bundled = embedded.bin_path() / name
    except (ImportError, OSError):
        bundled = None
    if bundled is not None and bundled.is_file() and os.access(bundled, os.X_OK):
        return bundled
    found = shutil.which(name)
    if found is None:
        raise ConfigError(
            f"{name} was not found: neither the embedded PostgreSQL's tools nor PATH have it. "
            f"Install the PostgreSQL client tools (the server's major version or newer)."
        )
    return Path(found)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def connection_args(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the tools' --dbname, and the environment holding the
    password (kept off the command line, where `ps` would show it)."""
    parsed = sa.make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        raise ConfigError(f"backups need a PostgreSQL database, not {parsed.drivername}")
    if not parsed.database:
        raise ConfigError("the database URL names no database")
    options: dict[str, str] = {"dbname": parsed.database}
    if parsed.host:
        options["host"] = parsed.host
    if parsed.port:
        options["port"] = str(parsed.port)
    if parsed.username:
        options["user"] = parsed.username
    for key, value in parsed.query.items():
        if key not in _LIBPQ_OPTIONS:
            raise ConfigError(f"the database URL option {key!r} is not one pg_dump understands")
        options[key] = value if isinstance(value, str) else value[-1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    return " ".join(f"{k}={_quote(v)}" for k, v in options.items()), env


def _user_tables(connection: sa.Connection) -> list[str]:
    return list(
        connection.execute(
            sa.text(
                "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p') AND n.nspname <> ALL(:system) "
                "AND n.nspname NOT LIKE 'pg_temp%' ORDER BY 1"
            ),
            {"system": list(_SYSTEM_SCHEMAS)},
        ).scalars()
    )


def _describe(engine: sa.Engine) -> tuple[int, audit.Anchor | None, str | None]:
    """Tables, audit head and schema revision of the database (None where it has none)."""
    with Session(engine) as session:
        tables = _user_tables(session.connection())
        head = audit.anchor(session) if "public.audit_event" in tables else None
        revision = migrate.current_revision(engine) if "public.alembic_version" in tables else None
    return len(tables), head, revision


def _run(command: list[str], env: dict[str, str], tables: int, progress: Progress | None) -> None:
    """Run a pg tool with -v, counting the tables it has moved for `progress`."""
    process = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, errors="replace",
    )  # fmt: skip
    assert process.stderr is not None
    done, problems = 0, []
    for line in process.stderr:
        if _TABLE_DATA.search(line):
            done += 1
            if progress is not None:
                progress(min(done, tables), tables)
        elif "error" in line.lower() or "fatal" in line.lower():
            problems.append(line.strip())
    if process.wait() != 0:
        detail = "; ".join(problems[-3:]) or f"exit status {process.returncode}"
        raise BackupFailed(f"{Path(command[0]).name} failed: {detail}")


def _replace(
    tool: str, path: Path, dsn: str, env: dict[str, str], tables: int,
    progress: Progress | None,
) -> None:  # fmt: skip
    """Restore over existing tables. `pg_restore --clean` cannot drop a partition's inherited
    keys (migration 0014), so the backup is written out as SQL (whole, before anything is
    touched), then one psql transaction drops the schema and runs it: all or nothing."""
    with tempfile.TemporaryDirectory(prefix="popdb-restore-") as spool:
        script = Path(spool) / "restore.sql"
        _run([tool, "--verbose", "--no-owner", "--no-privileges", f"--file={script}",
              str(path)], env, tables, progress)  # fmt: skip
        done = subprocess.run(
            [str(client_tool("psql")), "--no-psqlrc", "--quiet", "--single-transaction",
             "--set=ON_ERROR_STOP=1", f"--dbname={dsn}", "--command=DROP SCHEMA public CASCADE",
             "--command=CREATE SCHEMA public", f"--file={script}"],
            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, errors="replace",
        )  # fmt: skip
    if done.returncode != 0:
        lines = [x.strip() for x in done.stderr.splitlines() if "ERROR" in x or "FATAL" in x]
        raise BackupFailed(f"psql failed: {'; '.join(lines[-3:]) or done.returncode}")


def _outcome(path: Path, started: float, url: str, engine: sa.Engine) -> Outcome:
    tables, head, revision = _describe(engine)
    return Outcome(
        file=str(path),
        bytes=path.stat().st_size,
        seconds=round(time.monotonic() - started, 2),
        tables=tables,
        database=sa.make_url(url).render_as_string(hide_password=True),
        audit_head_id=head.head_id if head else 0,
        audit_head_hash=head.head_hash if head else audit.GENESIS,
        audit_events=head.events if head else 0,
        revision=revision,
    )


def backup(url: str, path: Path, *, progress: Progress | None = None) -> Outcome:
    """Dump the database at `url` to `path` (custom format, compressed); replaces `path`.

    pg_dump reads one consistent snapshot, so uploads and reads may go on meanwhile."""
    if path.is_dir():
        raise InvalidInput(f"{path} is a directory; give the backup file's name")
    if not path.parent.is_dir():
        raise InvalidInput(f"the folder {path.parent} does not exist")
    dsn, env = connection_args(url)
    engine = sa.create_engine(url)
    try:
        tables = len(_user_tables_of(engine))
        started = time.monotonic()
        partial = path.with_name(f".{path.name}.partial")
        try:
            _run(
                [str(client_tool("pg_dump")), "--format=custom", "--verbose",
                 f"--file={partial}", f"--dbname={dsn}"],
                env, tables, progress,
            )  # fmt: skip
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
        return _outcome(path, started, url, engine)
    finally:
        engine.dispose()


def _user_tables_of(engine: sa.Engine) -> list[str]:
    try:
        with engine.connect() as conn:
            return _user_tables(conn)
    except sa.exc.OperationalError as exc:
        raise BackupFailed(
            f"the database is not reachable: {str(exc.orig).strip().splitlines()[0]}"
        ) from None


def check_archive(path: Path) -> None:
    """Refuse a file that is not a pg_dump custom-format archive, before touching anything."""
    try:
        with path.open("rb") as f:
            magic = f.read(len(ARCHIVE_MAGIC))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    if magic != ARCHIVE_MAGIC:
        raise InvalidInput(
            f"{path} is not a popdb backup (a pg_dump custom-format archive, made by "
            f"`popdb backup`)"
        )


def restore(url: str, path: Path, *, force: bool = False,
            progress: Progress | None = None) -> Outcome:  # fmt: skip
    """Restore the archive `path` into the database at `url`, in one transaction.

    Refuses a database that already holds tables unless `force`; with `force`, the objects
    the archive holds are dropped and recreated (others are left as they are). Owners and
    grants are not restored: roles differ between servers, so the restoring user owns all."""
    check_archive(path)
    dsn, env = connection_args(url)
    engine = sa.create_engine(url)
    try:
        existing = _user_tables_of(engine)
        if existing and not force:
            shown = ", ".join(t.removeprefix("public.") for t in existing[:4])
            raise DatabaseNotEmpty(
                f"the database {sa.make_url(url).database} is not empty ({len(existing)} "
                f"tables: {shown}{', …' if len(existing) > 4 else ''}); restoring would "
                f"replace them: pass --force to do so"
            )
        tool = str(client_tool("pg_restore"))
        listing = subprocess.run(
            [tool, "--list", str(path)], env=env, capture_output=True, text=True, errors="replace"
        )
        if listing.returncode != 0:
            raise InvalidInput(f"{path} cannot be read as a backup: {listing.stderr.strip()}")
        tables = sum(1 for line in listing.stdout.splitlines() if " TABLE DATA " in line)
        started = time.monotonic()
        if existing:
            _replace(tool, path, dsn, env, tables, progress)
        else:
            _run(
                [tool, "--verbose", "--single-transaction", "--exit-on-error", "--no-owner",
                 "--no-privileges", f"--dbname={dsn}", str(path)],
                env, tables, progress,
            )  # fmt: skip
        return _outcome(path, started, url, engine)
    finally:
        engine.dispose()
