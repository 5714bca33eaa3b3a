"""Which database errors the background import worker outlives (it waits and reconnects)."""

from __future__ import annotations

import psycopg2
import pytest
import sqlalchemy as sa

from importers.worker import _disconnected


def _wrapped(orig: Exception, *, invalidated: bool) -> sa.exc.DBAPIError:
    return sa.exc.DBAPIError.instance(
        "SELECT 1", {}, orig, psycopg2.Error, connection_invalidated=invalidated
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # the server crashed mid-statement: psycopg2 says DatabaseError, SQLAlchemy invalidates
        (_wrapped(psycopg2.DatabaseError("server closed the connection"), invalidated=True), True),
        (_wrapped(psycopg2.OperationalError("connection refused"), invalidated=False), True),
        (psycopg2.DatabaseError("server closed the connection"), True),  # the LISTEN connection
        (psycopg2.OperationalError("no such file or directory"), True),
        # a bug, not an outage: the worker must not hide it behind retries
        (_wrapped(psycopg2.IntegrityError("duplicate key"), invalidated=False), False),
        (_wrapped(psycopg2.ProgrammingError("syntax error"), invalidated=False), False),
        (psycopg2.ProgrammingError("syntax error"), False),
    ],
)
def test_only_a_lost_database_is_waited_out(error: Exception, expected: bool) -> None:
    assert _disconnected(error) is expected  # type: ignore[arg-type]
