"""Read routing: agency reads go to a streaming replica that is close enough behind, else to
the primary.

Which replicas: `DATABASE_REPLICA_URLS` (comma-separated) for an external server; with the
embedded server, every hot standby running under `POPDB_HOME/replicas/` (made by `popdb db
replica start`, popdb/ops/replicas.py). Writes never go here: the audit append of a verify
or lookup stays on the primary session and commits there before the answer leaves.

Lag is measured at most every `POPDB_REPLICA_CHECK_S` (1 s) per process, by whichever
request finds the measurement stale (the others keep using the last one, never waiting):

- the primary's WAL position (`pg_current_wal_lsn()`) is read first, then the replica's
  replay position; a replica that has replayed at least that far is 0 s behind;
- otherwise its lag is `now() - pg_last_xact_replay_timestamp()`, the age of the last
  transaction it replayed. That errs on the side of the primary: after a long quiet spell
  the first write makes a replica look as old as the quiet spell until it replays it
  (milliseconds), and a read in that window goes to the primary.

A replica further behind than `POPDB_REPLICA_MAX_LAG_S` (5 s), one that does not answer, or
one no longer in recovery (promoted: it is no copy of this primary any more) is skipped.
A read that fails on a replica is run again on the primary and the replica is marked down
until the next measurement (`read_on_replica`).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import db, embedded
from popdb.core.settings import Settings

T = TypeVar("T")

#: Where `popdb db replica start` keeps the embedded server's replicas, one directory each.
REPLICAS_DIR = "replicas"
#: How long a replica may take to answer the lag query before it counts as down.
CONNECT_TIMEOUT_S = 2


def replicas_home(settings: Settings) -> Path:
    return settings.home / REPLICAS_DIR


@dataclass(frozen=True)
class ReplicaState:
    """One replica as last measured. `name` is safe to show (never a password)."""

    name: str
    url: str
    healthy: bool
    lag_s: float | None
    checked_at: float
    error: str | None = None

    def usable(self, max_lag_s: float) -> bool:
        return self.healthy and self.lag_s is not None and self.lag_s <= max_lag_s

    def summary(self, max_lag_s: float) -> dict[str, object]:
        lag = None if self.lag_s is None or math.isinf(self.lag_s) else round(self.lag_s, 3)
        out: dict[str, object] = {"name": self.name, "healthy": self.healthy, "lag_s": lag,
                                  "used": self.usable(max_lag_s)}  # fmt: skip
        if self.error:
            out["error"] = self.error
        return out


def _name_of(url: str) -> str:
    parsed = sa.make_url(url)
    host = parsed.query.get("host") or parsed.host or "local"
    if isinstance(host, tuple):
        host = host[0]
    if parsed.host is None and str(host).startswith("/"):  # an embedded replica's socket dir
        return Path(str(host)).name
    return f"{host}:{parsed.port or 5432}/{parsed.database}"


def _normalise(url: str) -> str:
    return "postgresql://" + url[len("postgres://") :] if url.startswith("postgres://") else url


def _discover(settings: Settings) -> list[tuple[str, str]]:
    """(name, url) of each replica: the configured ones, or the embedded server's."""
    if settings.database_replica_urls:
        return [(_name_of(u), _normalise(u)) for u in settings.database_replica_urls]
    if settings.database_url:
        return []
    out = []
    root = replicas_home(settings)
    for pgdata in sorted(root.iterdir()) if root.is_dir() else []:
        if (pgdata / "standby.signal").exists():
            st = embedded.status(pgdata)
            if st.running and st.url:  # a copy of the primary: its service role too
                password = embedded.service_password(settings.home)
                out.append((pgdata.name, embedded.as_role(st.url, settings.service_role,
                                                          password)))  # fmt: skip
    return out


_LAG = sa.text(
    "SELECT pg_is_in_recovery() AS standby,"
    " pg_wal_lsn_diff(CAST(:primary AS pg_lsn), pg_last_wal_replay_lsn()) AS behind,"
    " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) AS age"
)


def measure(primary: sa.Engine, replica: sa.Engine) -> float:
    """Seconds the replica is behind the primary (0 when it replayed the primary's current
    WAL position; `inf` when behind with nothing replayed yet). ValueError when `replica` is
    not in recovery."""
    with primary.connect() as conn:
        position = conn.scalar(sa.text("SELECT pg_current_wal_lsn()::text"))
    with replica.connect() as conn:
        row = conn.execute(_LAG, {"primary": position}).one()
    if not row.standby:
        raise ValueError("not in recovery (promoted?): not a replica of this primary")
    if row.behind is None or row.behind <= 0:
        return 0.0
    return math.inf if row.age is None else max(0.0, float(row.age))


def replica_engine(url: str) -> sa.Engine:
    """A pooled engine for a replica, with a short connect timeout so a dead one is found
    quickly. Cached per URL like the primary's."""
    return _replica_engine(url)


@lru_cache(maxsize=16)
def _replica_engine(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True,
                            connect_args={"connect_timeout": CONNECT_TIMEOUT_S})  # fmt: skip


class Router:
    """The replicas of one primary, their last measurement, and a round-robin choice."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.max_lag_s = settings.replica_max_lag_s
        self._states: dict[str, ReplicaState] = {}
        self._checked = -math.inf
        self._lock = threading.Lock()
        self._turn = 0

    def primary(self) -> sa.Engine:
        return db.get_engine(self.settings)

    def refresh(self, *, force: bool = False) -> None:
        """Measure every replica if the last measurement is stale; a thread that finds
        another one measuring does not wait for it (unless `force`)."""
        if not force and time.monotonic() - self._checked < self.settings.replica_check_s:
            return
        if not self._lock.acquire(blocking=force):
            return
        try:
            states: dict[str, ReplicaState] = {}
            for name, url in _discover(self.settings):
                now = time.monotonic()
                try:
                    lag = measure(self.primary(), replica_engine(url))
                    states[url] = ReplicaState(name, url, True, lag, now)
                except (sa.exc.SQLAlchemyError, ValueError, OSError) as exc:
                    states[url] = ReplicaState(name, url, False, None, now, _reason(exc))
            self._states = states
            self._checked = time.monotonic()
        finally:
            self._lock.release()

    def states(self, *, refresh: bool = True) -> list[ReplicaState]:
        if refresh:
            self.refresh()
        return list(self._states.values())

    def pick(self) -> ReplicaState | None:
        """A usable replica (taking turns among them), or None: read on the primary."""
        usable = [s for s in self.states() if s.usable(self.max_lag_s)]
        if not usable:
            return None
        self._turn = (self._turn + 1) % len(usable)
        return usable[self._turn]

    def mark_down(self, url: str, error: BaseException) -> None:
        """A read failed on this replica: skip it until the next measurement."""
        old = self._states.get(url)
        if old is not None:
            self._states = {**self._states, url: ReplicaState(
                old.name, url, False, None, time.monotonic(), _reason(error))}  # fmt: skip
            _replica_engine(url).dispose()


def _reason(exc: BaseException) -> str:
    """The first line of the error, without the URL (which could carry a password)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return (text[0] if text else type(orig).__name__)[:200]


_routers: dict[tuple[object, ...], Router] = {}
_routers_lock = threading.Lock()


def router(settings: Settings) -> Router:
    """The process's router for these settings (one measurement cache per primary)."""
    key = (settings.database_url, settings.home, settings.database_replica_urls,
           settings.replica_max_lag_s, settings.replica_check_s)  # fmt: skip
    with _routers_lock:
        found = _routers.get(key)
        if found is None:
            found = _routers[key] = Router(settings)
        return found


def configured(settings: Settings) -> bool:
    """Whether replicas can exist at all: listed, or the embedded server's directory."""
    if settings.database_replica_urls:
        return True
    return not settings.database_url and replicas_home(settings).is_dir()


def read_engine(settings: Settings) -> sa.Engine:
    """The engine a read that may lag by up to POPDB_REPLICA_MAX_LAG_S should use."""
    if configured(settings):
        chosen = router(settings).pick()
        if chosen is not None:
            return replica_engine(chosen.url)
    return db.get_engine(settings)


#: Reads served, by where: "replica" or "primary" (a fallback after a failure counts as
#: "primary"). Per process; for tests and the benchmark.
served: dict[str, int] = {"replica": 0, "primary": 0}


def read_on_replica(settings: Settings, primary: Session, read: Callable[[Session], T]) -> T:
    """Run the read-only `read` on a replica's session, or on `primary` when there is no
    usable replica or the replica fails mid-read (a dead server, a query cancelled by
    recovery). The objects it returns are detached from the replica's session: read their
    loaded attributes, never lazy relations. Writes (the audit append) stay on `primary`."""
    if not configured(settings):
        served["primary"] += 1
        return read(primary)
    route = router(settings)
    chosen = route.pick()
    if chosen is not None:
        try:
            with Session(replica_engine(chosen.url), expire_on_commit=False) as session:
                result = read(session)  # closing ends the read-only snapshot; unlike a
                # rollback it leaves the loaded objects' attributes readable
            served["replica"] += 1
            return result
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            route.mark_down(chosen.url, exc)
    served["primary"] += 1
    return read(primary)


def status(settings: Settings) -> list[dict[str, object]]:
    """Every replica as last measured (measuring now if stale), for /readyz and the CLI."""
    if not configured(settings):
        return []
    route = router(settings)
    return [s.summary(route.max_lag_s) for s in route.states()]
