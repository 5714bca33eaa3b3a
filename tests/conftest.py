"""Test harness: a real PostgreSQL, migrated once per session; each test rolled back.

Without POPDB_TEST_DATABASE_URL the embedded server runs under .popdb-test/ in the repo and
the test database is created afresh for every session.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import embedded, reference
from popdb.core.settings import Settings
from popdb.identity.clients import create_client
from popdb.ops import migrate, roles

#: The audit chain is keyed: tests (and the CLI they run in subprocesses, which inherit the
#: environment) use this key unless the environment names one.
os.environ.setdefault("POPDB_AUDIT_KEY", "test-audit-key-" + "0123456789abcdef" * 2)

REPO = Path(__file__).resolve().parent.parent
TEST_HOME = REPO / ".popdb-test"
TEST_DB = "popdb_test"


def _fresh_database(server_url: str, name: str) -> str:
    """Drop and create `name` on the server of `server_url`; return its URL."""
    url = sa.make_url(server_url)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


_STARTED_SERVER = pytest.StashKey[bool]()


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    """Start the embedded server once, in the main process, so that pytest-xdist workers
    share one server and none of them stops it while another still runs tests."""
    if os.environ.get("POPDB_TEST_DATABASE_URL") or _is_xdist_worker(config):
        return
    pgdata = TEST_HOME / "pgdata"
    config.stash[_STARTED_SERVER] = not embedded.status(pgdata).running


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_STARTED_SERVER, False) and not os.environ.get("POPDB_TEST_KEEP_SERVER"):
        embedded.stop(TEST_HOME / "pgdata")


@pytest.fixture(scope="session")
def server_url() -> str:
    """A PostgreSQL server the tests may create databases on."""
    return os.environ.get("POPDB_TEST_DATABASE_URL") or embedded.ensure_running(
        TEST_HOME / "pgdata"
    )


def _drop_database(server_url: str, name: str) -> None:
    url = sa.make_url(server_url).set(database="postgres")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def database_url(server_url: str, worker_id: str, testrun_uid: str) -> Iterator[str]:
    """One database per xdist worker and test run, so concurrent runs never share one."""
    name = f"{TEST_DB}_{testrun_uid[:8]}_{worker_id}"
    yield _fresh_database(server_url, name)
    _drop_database(server_url, name)


@pytest.fixture
def scratch_database_url(server_url: str, worker_id: str, testrun_uid: str) -> Iterator[str]:
    """An empty database of this test's own, for tests that migrate or run the CLI."""
    name = f"popdb_scratch_{testrun_uid[:8]}_{worker_id}"
    yield _fresh_database(server_url, name)
    _drop_database(server_url, name)


#: The service's role on the test server (issue 22 item 5); the API tests run as it.
SERVICE_ROLE = "popdb_service"


def service_url_for(owner_url: str) -> str:
    """`owner_url`'s database as the service role (created on the server if missing)."""
    return embedded.ensure_service_role(owner_url, TEST_HOME, SERVICE_ROLE)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[sa.Engine]:
    """The test database, migrated and granted as `popdb.ops.bootstrap` does; the owner's."""
    engine = sa.create_engine(database_url)
    migrate.upgrade(engine)
    service_url_for(database_url)
    with engine.begin() as conn:
        roles.grant_service(conn, SERVICE_ROLE)
    with Session(engine) as session:
        reference.load_reference_data(session)
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def service_engine(engine: sa.Engine, database_url: str) -> Iterator[sa.Engine]:
    """The test database as the service role: what `popdb serve` connects as."""
    service = sa.create_engine(service_url_for(database_url))
    yield service
    service.dispose()


@pytest.fixture
def connection(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection inside an outer transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        if outer.is_active:
            outer.rollback()


def as_service(connection: sa.Connection) -> None:
    """From here to the end of the test's transaction, act with the service role's
    privileges only (a missing grant fails the test, as it would fail `popdb serve`)."""
    connection.exec_driver_sql(f"SET LOCAL ROLE {SERVICE_ROLE}")


def _session_on(connection: sa.Connection) -> Session:
    return Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(connection: sa.Connection) -> Iterator[Session]:
    s = _session_on(connection)
    yield s
    s.close()


@pytest.fixture
def scope(session: Session) -> Callable[[], AbstractContextManager[Session]]:
    """A unit of work, as code that commits sees it, made a savepoint of the test's transaction."""

    @contextmanager
    def unit() -> Iterator[Session]:
        with session.begin_nested():
            yield session

    return unit


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url="postgresql://unused", home=tmp_path / "home")


@pytest.fixture
def app(connection: sa.Connection, settings: Settings) -> Any:
    """The app on the test's connection, acting as the service role (`as_service`)."""
    from api import create_app

    as_service(connection)
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
