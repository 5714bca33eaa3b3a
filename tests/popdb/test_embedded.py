"""The embedded server's own configuration (the server itself runs under every other test)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from popdb import embedded
from tests.conftest import TEST_HOME


def test_tuning_gives_an_eighth_of_memory_to_shared_buffers_within_bounds() -> None:
    gb = 2**30
    assert embedded.tuning(512 * 2**20)["shared_buffers"] == "128MB"
    assert embedded.tuning(4 * gb)["shared_buffers"] == "512MB"
    assert embedded.tuning(64 * gb)["shared_buffers"] == "1024MB"
    assert embedded.tuning(64 * gb)["max_wal_size"] == "8GB"


def test_the_tuning_file_is_included_once_and_rewritten_only_when_it_changes(
    tmp_path: Path,
) -> None:
    (tmp_path / "postgresql.conf").write_text("shared_buffers = 128MB\n")
    assert embedded._write_tuning(tmp_path) is True
    assert embedded._write_tuning(tmp_path) is False
    main = (tmp_path / "postgresql.conf").read_text()
    assert main.count("include_if_exists = 'popdb.conf'") == 1
    assert "max_wal_size = '8GB'" in (tmp_path / "popdb.conf").read_text()


@pytest.mark.skipif(bool(os.environ.get("POPDB_TEST_DATABASE_URL")), reason="another server")
def test_the_running_test_server_took_the_tuning() -> None:
    url = embedded.status(TEST_HOME / "pgdata").url
    assert url is not None
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            source = conn.scalar(sa.text(
                "SELECT sourcefile FROM pg_settings WHERE name = 'max_wal_size'"))  # fmt: skip
    finally:
        engine.dispose()
    assert source is not None and source.endswith("popdb.conf")
