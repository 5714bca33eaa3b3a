"""`popdb backup` and `popdb restore`, run as an operator would: a registry with imported,
matched and audited data round-trips through a backup file with every row and the audit head."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit, embedded
from tests.conftest import _drop_database, _fresh_database
from tests.support.dc01 import fake_rows, write_csv


def popdb(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "popdb", *args], env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def ok(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "POPDB_HOME")}
    return {**env, **extra}


def row_counts(url: str) -> dict[str, int]:
    """Rows in every table of the database, by name."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            ).scalars()
            return {t: conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                    for t in tables}  # fmt: skip
    finally:
        engine.dispose()


def audit_head(url: str) -> tuple[audit.Anchor, bool]:
    engine = sa.create_engine(url)
    try:
        with Session(engine) as session:
            return audit.anchor(session), audit.verify(session.connection()).ok
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def registry(
    server_url: str, worker_id: str, testrun_uid: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A registry with a loaded batch, its persons, an API client and audit events; built once
    for the module (the tests restore it only onto itself, unchanged)."""
    name = f"popdb_backup_{testrun_uid[:8]}_{worker_id}"
    url = _fresh_database(server_url, name)
    tmp_path = tmp_path_factory.mktemp("registry")
    env = _env(DATABASE_URL=url, POPDB_HOME=str(tmp_path / "source-home"))
    csv = write_csv(tmp_path / "dc01.csv", fake_rows(1_500, seed=7))
    assert ok(popdb("import", str(csv), "--commune", "00004", env=env))["accepted"] == 1_500
    ok(popdb("dedup", "run", env=env))
    ok(popdb("clients", "create", "--name", "Agency A", "--role", "agency", env=env))
    engine = sa.create_engine(url)
    with Session(engine) as session:
        for n in range(5):
            audit.record(session, actor=audit.Actor.operator("backup-test"), action="verify",
                         subject_type="person", subject_id=n, purpose="round trip")  # fmt: skip
        session.commit()
    engine.dispose()
    yield url
    _drop_database(server_url, name)


@pytest.fixture(scope="module")
def dump(registry: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("backup") / "registry.dump"
    made = ok(popdb("backup", str(path), env=_env(DATABASE_URL=registry)))
    assert made["bytes"] == path.stat().st_size > 0
    assert "password" not in json.dumps(made)
    return path


@pytest.fixture
def second_database(server_url: str, worker_id: str, testrun_uid: str) -> Iterator[str]:
    name = f"popdb_restore_{testrun_uid[:8]}_{worker_id}"
    yield _fresh_database(server_url, name)
    _drop_database(server_url, name)


def test_a_backup_restores_every_row_and_the_audit_head_into_an_empty_database(
    registry: str, dump: Path, second_database: str
) -> None:
    before_counts, (before_head, _) = row_counts(registry), audit_head(registry)
    assert before_counts["source_record"] == 1_500 and before_counts["person"] > 0
    assert before_head.events >= 6  # the client's creation and the five above

    restored = ok(popdb("restore", str(dump), env=_env(DATABASE_URL=second_database)))
    assert restored["audit_head_hash"] == before_head.head_hash
    assert row_counts(second_database) == before_counts
    after_head, verifies = audit_head(second_database)
    assert (after_head.head_id, after_head.head_hash, after_head.events) == (
        before_head.head_id, before_head.head_hash, before_head.events,
    )  # fmt: skip
    assert verifies, "the restored audit chain does not verify"


def test_a_backup_restores_into_a_fresh_embedded_server(
    registry: str, dump: Path, tmp_path: Path
) -> None:
    home = tmp_path / "fresh-home"
    try:
        ok(popdb("restore", str(dump), env=_env(POPDB_HOME=str(home))))
        url = embedded.status(home / "pgdata").url
        assert url is not None
        assert row_counts(url) == row_counts(registry)
        assert audit_head(url)[0].head_hash == audit_head(registry)[0].head_hash
        # and the embedded server backs up too
        again = ok(popdb("backup", str(tmp_path / "again.dump"), env=_env(POPDB_HOME=str(home))))
        assert again["audit_events"] == audit_head(registry)[0].events
    finally:
        embedded.stop(home / "pgdata")


def test_restore_refuses_a_database_that_holds_tables_unless_forced(
    registry: str, dump: Path
) -> None:
    env = _env(DATABASE_URL=registry)
    counts = row_counts(registry)

    refused = popdb("restore", str(dump), env=env)
    assert refused.returncode == 2
    assert "not empty" in refused.stderr and "--force" in refused.stderr
    assert "Traceback" not in refused.stderr

    forced = ok(popdb("restore", "--force", str(dump), env=env))
    assert forced["audit_events"] == audit_head(registry)[0].events
    assert row_counts(registry) == counts
    assert audit_head(registry)[1]


def test_restore_refuses_a_file_that_is_not_a_backup_before_touching_the_database(
    second_database: str, tmp_path: Path
) -> None:
    bogus = tmp_path / "not-a-backup.dump"
    bogus.write_text("hello\n")
    done = popdb("restore", str(bogus), env=_env(DATABASE_URL=second_database))
    assert done.returncode == 2 and "is not a popdb backup" in done.stderr
    assert row_counts(second_database) == {}


def test_a_backup_to_a_missing_folder_is_a_clear_error(registry: str, tmp_path: Path) -> None:
    done = popdb("backup", str(tmp_path / "nowhere" / "x.dump"), env=_env(DATABASE_URL=registry))
    assert done.returncode == 2 and "does not exist" in done.stderr
    assert not (tmp_path / "nowhere").exists()
