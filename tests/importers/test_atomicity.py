"""Kill -9 the import process at several points: no partial batch, no worker process left
behind, and a retry loads it all. (Kills at seeded random points, and of the database server,
are in tests/faults/.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.dc01 import fake_rows, write_csv
from tests.support.processes import descendants as _descendants
from tests.support.processes import popdb_process as _popdb
from tests.support.processes import wait_for, wait_until_alone, wait_until_gone

ROWS = 60_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("atomicity") / "dc01.csv", fake_rows(ROWS))


def test_a_killed_import_leaves_nothing_and_a_retry_loads_every_row(
    scratch_database_url: str, big_file: Path, tmp_path: Path
) -> None:
    env = {**os.environ, "DATABASE_URL": scratch_database_url, "POPDB_HOME": str(tmp_path),
           "POPDB_IMPORT_WORKERS": "2"}  # fmt: skip
    assert (
        subprocess.run(
            [sys.executable, "-m", "popdb", "db", "upgrade"], env=env, capture_output=True
        ).returncode
        == 0
    )
    engine = sa.create_engine(scratch_database_url)

    def scalar(sql: str) -> object:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()

    kill_points: dict[str, Callable[[], bool]] = {
        "the batch is validating": lambda: scalar(
            "SELECT count(*) FROM import_batch WHERE status = 'validating'"
        ) == 1,
        "COPY is half way": lambda: (scalar(
            "SELECT max(tuples_processed) FROM pg_stat_progress_copy"
        ) or 0) > ROWS // 2,
        "COPY is nearly done": lambda: (scalar(
            "SELECT max(tuples_processed) FROM pg_stat_progress_copy"
        ) or 0) > ROWS * 9 // 10,
    }  # fmt: skip
    try:
        for point, reached in kill_points.items():
            process = _popdb(env, "import", str(big_file), "--commune", "00004", "--no-match")
            wait_for(reached, point, process=process)
            workers = _descendants(process.pid)
            if point != "the batch is validating":
                assert workers, "the import has no worker processes to check"
            process.send_signal(signal.SIGKILL)
            process.wait()
            wait_until_gone(workers, point)
            wait_until_alone(engine, point)
            assert scalar("SELECT count(*) FROM source_record") == 0, point
            assert scalar("SELECT count(*) FROM import_issue") == 0, point
            assert scalar("SELECT count(*) FROM import_batch WHERE status = 'loaded'") == 0

        retry = _popdb(env, "import", str(big_file), "--commune", "00004", "--no-match")
        out, err = retry.communicate(timeout=300)
        assert retry.returncode == 0, err
        summary = json.loads(out)
        assert summary["status"] == "loaded" and summary["rows"] == ROWS
        assert scalar("SELECT count(*) FROM import_batch") == 1
        assert scalar("SELECT count(*) FROM source_record") == ROWS
        assert scalar("SELECT count(DISTINCT row_number) FROM source_record") == ROWS
    finally:
        engine.dispose()
