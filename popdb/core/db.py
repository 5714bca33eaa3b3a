"""Engine and sessions. The caller owns the transaction: services flush, never commit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from popdb.core import embedded
from popdb.core.settings import Settings


def _normal(url: str) -> str:
    return "postgresql://" + url[len("postgres://") :] if url.startswith("postgres://") else url


def database_url(settings: Settings) -> str:
    """The service's URL, the one `serve` uses: `DATABASE_URL`, else the embedded server's
    service role (server started and role created if needed)."""
    if settings.database_url:
        return _normal(settings.database_url)
    return _embedded_service_url(
        embedded.ensure_running(settings.pgdata), settings.home, settings.service_role
    )


@lru_cache(maxsize=8)
def _embedded_service_url(owner_url: str, home: Path, role: str) -> str:
    return embedded.ensure_service_role(owner_url, home, role)


def owner_database_url(settings: Settings) -> str:
    """The schema owner's URL, for migrations and maintenance only: POPDB_OWNER_DATABASE_URL,
    else `DATABASE_URL` (the service then runs as the owner: `runs_as_owner`), else the
    embedded server's superuser."""
    if settings.database_url:
        return _normal(settings.owner_database_url or settings.database_url)
    return embedded.ensure_running(settings.pgdata)


def runs_as_owner(settings: Settings) -> bool:
    """True when the service connects as the schema's owner (an external server without
    POPDB_OWNER_DATABASE_URL): it could then alter the schema and the audit log's triggers."""
    if not settings.database_url:
        return False
    service = sa.make_url(_normal(settings.database_url))
    owner = settings.owner_database_url
    return owner is None or sa.make_url(_normal(owner)).username == service.username


#: A pooled connection idle longer than this is pinged before use (see `_engine_for`).
PING_AFTER_IDLE_S = 0.1


@lru_cache(maxsize=8)
def _engine_for(url: str) -> sa.Engine:
    """A pool that pings a connection before use unless it was in use a moment ago.

    SQLAlchemy's `pool_pre_ping` pings at every checkout: a round trip per transaction, two
    per agency call (the rate count commits apart), a sixth of a verify's round trips. A
    connection checked in less than 0.1 s ago is as good as the statement it last ran: a
    server restart takes longer than that, so a connection broken by one has been idle
    longer and is pinged and replaced unseen. Under load connections come back every few
    milliseconds and go unpinged; a quiet service pings as before. A connection cut in those
    0.1 s with the server still up fails its next statement: SQLAlchemy then discards the
    whole pool and the request answers 503 (api/error_responses.py).
    """
    # hide_parameters: a failed statement's error (logged, raised) never quotes its values,
    # which are personal data (names, numbers, dates of birth).
    engine = sa.create_engine(url, pool_size=10, max_overflow=10, hide_parameters=True)

    @sa.event.listens_for(engine, "checkin")
    def _returned(_dbapi: object, record: sa.pool.ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _check(dbapi: Any, record: sa.pool.ConnectionPoolEntry, _proxy: object) -> None:
        idle_since = record.info.pop("idle_since", None)  # a replacement is not pinged again
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi)
        except Exception as exc:  # noqa: BLE001 (any failure: a dead connection)
            raise sa.exc.InvalidatePoolError(str(exc)) from exc
        if not alive:  # as pool_pre_ping does: the server restarted, so are all the others dead
            raise sa.exc.InvalidatePoolError("the connection did not answer a ping")

    return engine


def get_engine(settings: Settings) -> sa.Engine:
    """The service's engine (the service role)."""
    return _engine_for(database_url(settings))


def get_owner_engine(settings: Settings) -> sa.Engine:
    """The schema owner's engine: migrations, grants, reference data, restore."""
    return _engine_for(owner_database_url(settings))


def make_sessionmaker(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: sa.Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with make_sessionmaker(engine)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
