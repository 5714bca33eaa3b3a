"""Test harness: a real PostgreSQL, migrated once per session; each test rolled back.

Without POPDB_TEST_DATABASE_URL the embedded server runs under .popdb-test/ in the repo and
the test database is created afresh for every session.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb import embedded, migrate, reference
from popdb.clients import create_client
from popdb.settings import Settings

REPO = Path(__file__).resolve().parent.parent
TEST_HOME = REPO / ".popdb-test"
TEST_DB = "popdb_test"


def _fresh_database(server_url: str, name: str) -> str:
    """Drop and create `name` on the server of `server_url`; return its URL."""
    url = sa.make_url(server_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """A PostgreSQL server the tests may create databases on."""
    external = os.environ.get("POPDB_TEST_DATABASE_URL")
    if external:
        yield external
        return
    pgdata = TEST_HOME / "pgdata"
    was_running = embedded.status(pgdata).running
    yield embedded.ensure_running(pgdata)
    if not was_running and not os.environ.get("POPDB_TEST_KEEP_SERVER"):
        embedded.stop(pgdata)


@pytest.fixture(scope="session")
def database_url(server_url: str) -> str:
    return _fresh_database(server_url, TEST_DB)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        reference.load_reference_data(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


def _session_on(connection: sa.Connection) -> Session:
    return Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(connection: sa.Connection) -> Iterator[Session]:
    s = _session_on(connection)
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url="postgresql://unused", home=tmp_path / "home")


@pytest.fixture
def app(connection: sa.Connection, settings: Settings) -> Any:
    from api import create_app

    app = create_app(settings, session_factory=lambda: _session_on(connection))
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def make_client(session: Session) -> Callable[..., tuple[int, dict[str, str]]]:
    """Create an API client; returns (client_id, headers carrying its key)."""

    def make(role: str, *, commune_code: str | None = None, **policy: Any) -> tuple[int, dict]:
        issued = create_client(
            session, name=f"test {role}", role=role, commune_code=commune_code, policy=policy
        )
        return issued.client_id, {"Authorization": f"Bearer {issued.api_key}"}

    return make
