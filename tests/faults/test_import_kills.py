"""kill -9 of `popdb import` and `popdb dedup run` at seeded random points, then retry.

Each point is drawn from a phase (starting and reading, validating, COPY at a random share of
the rows, promoting: after COPY until the commit, dedup at a random moment of its run) and
the phases take turns, so even the CI-sized run covers all of them. After every kill: the
batch is all there or not there at all, no worker or server process is left; after the retry:
exactly the file's rows, once each, and dedup's clusters equal those of an uninterrupted run.

    POPDB_FAULT_POINTS=40 POPDB_FAULT_SEED=7 scripts/test tests/faults -n 0
"""

from __future__ import annotations

import json
import random
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import _drop_database
from tests.faults.support import INTO_RECORDS, fault_points, fault_rng, scalar, wait_seconds
from tests.support.dc01 import fake_rows, write_csv
from tests.support.processes import (
    clean_env,
    descendants,
    popdb_process,
    popdb_run,
    wait_for,
    wait_until_alone,
    wait_until_gone,
)

#: Large enough to be imported by worker processes (over 4 MB), small enough for CI.
ROWS = 15_000
DEDUP_ROWS = 4_000
IMPORT_PHASES = ("starting", "validating", "copy", "copy", "promoting")


@dataclass(frozen=True)
class Point:
    phase: str
    share: float  # of the rows copied, or of the run's time
    delay: float  # seconds after the phase is reached

    def __str__(self) -> str:
        return f"{self.phase} (share {self.share:.2f}, delay {self.delay:.2f} s)"


def draw_points(rng: random.Random, n: int) -> tuple[list[Point], list[Point]]:
    """`n` points: about one in five during dedup, the rest across the import's phases."""
    dedup = max(1, n // 5)
    imports = [
        Point(IMPORT_PHASES[i % len(IMPORT_PHASES)], rng.uniform(0.02, 0.98),
              rng.uniform(0.0, 0.05))
        for i in range(n - dedup)
    ]  # fmt: skip
    return imports, [Point("dedup", rng.uniform(0.02, 0.85), 0.0) for _ in range(dedup)]


@pytest.fixture(scope="module")
def dc01_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("faults") / "dc01.csv", fake_rows(ROWS, seed=11))


@pytest.fixture(scope="module")
def small_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """For dedup, whose run time grows faster than the rows."""
    return write_csv(
        tmp_path_factory.mktemp("faults") / "small.csv", fake_rows(DEDUP_ROWS, seed=12)
    )


@pytest.fixture
def registry(scratch_database_url: str, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    env = clean_env(DATABASE_URL=scratch_database_url, POPDB_HOME=str(tmp_path / "home"),
                    POPDB_IMPORT_WORKERS="2")  # fmt: skip
    done = popdb_run(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    yield scratch_database_url, env


def _copied(url: str) -> int:
    return int(
        scalar(
            url,
            "SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy "
            f"WHERE {INTO_RECORDS}",
        )  # fmt: skip
    )


def _reached(url: str, point: Point, started: float) -> Callable[[], bool]:
    status = "SELECT count(*) FROM import_batch WHERE status = 'validating'"
    seen_copy = [False]

    def promoting() -> bool:  # COPY into source_record seen, and over
        copying = _copied(url) > 0
        seen_copy[0] |= copying
        return seen_copy[0] and not copying

    return {
        "starting": lambda: time.monotonic() - started > point.share * 1.2,
        "validating": lambda: scalar(url, status) == 1,
        "copy": lambda: _copied(url) >= int(point.share * ROWS),
        "promoting": promoting,
    }[point.phase]


def _assert_all_or_nothing(url: str, point: Point) -> int:
    rows = scalar(url, "SELECT count(*) FROM source_record")
    loaded = scalar(url, "SELECT count(*) FROM import_batch WHERE status = 'loaded'")
    assert (rows, loaded) in ((0, 0), (ROWS, 1)), (
        f"after a kill when {point}: {rows} rows and {loaded} loaded batches"
    )
    if rows == 0:
        assert scalar(url, "SELECT count(*) FROM import_issue") == 0, point
    return int(rows)


def test_an_import_killed_at_random_points_loads_exactly_its_rows_on_retry(
    registry: tuple[str, dict[str, str]], dc01_file: Path
) -> None:
    url, env = registry
    points, _ = draw_points(fault_rng("import"), fault_points())
    engine = sa.create_engine(url)
    try:
        for point in points:
            started = time.monotonic()
            process = popdb_process(
                env, "import", str(dc01_file), "--commune", "00004", "--no-match"
            )
            wait_for(_reached(url, point, started), str(point), process=process)
            wait_seconds(point.delay)
            workers = descendants(process.pid)
            process.send_signal(signal.SIGKILL)
            process.wait()
            wait_until_gone(workers, str(point))
            wait_until_alone(engine, str(point))
            if _assert_all_or_nothing(url, point) == ROWS:  # killed after the commit
                with engine.begin() as conn:  # start over for the next point
                    conn.exec_driver_sql("TRUNCATE import_batch CASCADE")

        retry = popdb_run(env, "import", str(dc01_file), "--commune", "00004", "--no-match")
        assert retry.returncode == 0, retry.stderr
        summary = json.loads(retry.stdout)
        assert summary["status"] == "loaded" and summary["rows"] == ROWS
        assert scalar(url, "SELECT count(*) FROM import_batch") == 1
        assert scalar(url, "SELECT count(*) FROM source_record") == ROWS
        assert scalar(url, "SELECT count(DISTINCT row_number) FROM source_record") == ROWS
        assert scalar(url, "SELECT count(DISTINCT source_key) FROM source_record") == ROWS
    finally:
        engine.dispose()


def _clusters(url: str) -> list[tuple[str, ...]]:
    """Every person as the sorted source keys of its records; unmatched records alone."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            groups = conn.execute(sa.text(
                "SELECT array_agg(source_key ORDER BY source_key) FROM source_record "
                "GROUP BY coalesce(person_id::text, 'record ' || id)"
            )).scalars()  # fmt: skip
            return sorted(tuple(g) for g in groups)
    finally:
        engine.dispose()


def test_dedup_killed_at_random_moments_leaves_nothing_half_done_and_a_retry_matches_a_clean_run(
    registry: tuple[str, dict[str, str]], small_file: Path, server_url: str, testrun_uid: str,
    worker_id: str,
) -> None:  # fmt: skip
    url, env = registry
    _, points = draw_points(fault_rng("import"), fault_points())
    assert (
        popdb_run(env, "import", str(small_file), "--commune", "00004", "--no-match").returncode
        == 0
    )
    reference = f"popdb_fault_ref_{testrun_uid[:8]}_{worker_id}"
    admin = sa.create_engine(sa.make_url(server_url).set(database="postgres"),
                             isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{reference}"')
        conn.exec_driver_sql(
            f'CREATE DATABASE "{reference}" TEMPLATE "{sa.make_url(url).database}"'
        )
    admin.dispose()
    try:
        ref_url = sa.make_url(url).set(database=reference).render_as_string(hide_password=False)
        started = time.monotonic()
        clean = popdb_run({**env, "DATABASE_URL": ref_url}, "dedup", "run")
        run_seconds = time.monotonic() - started
        assert clean.returncode == 0, clean.stderr
        expected = _clusters(ref_url)
        assert scalar(ref_url, "SELECT count(*) FROM person") > 0
    finally:
        _drop_database(server_url, reference)

    engine = sa.create_engine(url)
    try:
        for point in points:
            process = popdb_process(env, "dedup", "run")
            wait_seconds(point.share * run_seconds)
            if process.poll() is not None:  # finished before the kill: nothing to check here
                pytest.fail(f"dedup finished before the kill at {point}; raise the data size")
            process.send_signal(signal.SIGKILL)
            process.wait()
            wait_until_alone(engine, str(point))
            persons = scalar(url, "SELECT count(*) FROM person")
            matched = scalar(url, "SELECT count(*) FROM source_record WHERE person_id IS NOT NULL")
            if matched == DEDUP_ROWS:  # killed after the commit: the run is whole, and the last
                assert _clusters(url) == expected, point
                break
            assert (persons, matched) == (0, 0), (
                f"after a kill of dedup at {point}: {persons} persons, {matched} records matched"
            )
            assert scalar(url, "SELECT count(*) FROM match_candidate") == 0, point
        retry = popdb_run(env, "dedup", "run")
        assert retry.returncode == 0, retry.stderr
        assert _clusters(url) == expected
        assert scalar(url, "SELECT count(*) FROM source_record WHERE person_id IS NULL") == 0
    finally:
        engine.dispose()
