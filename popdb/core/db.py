"""Engine and sessions. The caller owns the transaction: services flush, never commit."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from popdb.core import embedded
from popdb.core.settings import Settings


def database_url(settings: Settings) -> str:
    """The URL in use: `DATABASE_URL`, else the embedded server (started if needed)."""
    if settings.database_url:
        url = settings.database_url
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://") :]
        return url
    return embedded.ensure_running(settings.pgdata)


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
    return _engine_for(database_url(settings))


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
