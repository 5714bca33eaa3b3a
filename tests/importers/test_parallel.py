"""Imports with worker processes: the same rows and issues as in one process, and failures
(rejected file, a bug, a worker killed) that end the batch exactly as in one process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

import importers.pipeline as pipeline
from importers.batches import BatchRequest, register
from importers.chunks import ChunkWork
from importers.parallel import OrderedPool, WorkerDied
from importers.pipeline import import_workers, run_batch
from tests.importers.messy import messy_rows
from tests.support.dc01 import write_csv

INTERNAL = "The import failed because of an internal error"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 64)


def load(session: Session, scope: Any, path: Path, commune: str, workers: int) -> dict:
    batch, duplicate = register(session, BatchRequest(path=path, commune_code=commune))
    assert not duplicate
    return run_batch(scope, batch.id, path, workers=workers)


def contents(session: Session, batch_id: int) -> tuple[list[Any], list[Any]]:
    """The batch's records and issues, without ids and timestamps, in insertion order."""
    columns = [
        c for c in sa.inspect(session.get_bind()).get_columns("source_record")
        if c["name"] not in ("id", "batch_id", "created_at")
    ]  # fmt: skip
    names = ", ".join(c["name"] for c in columns)
    rows = session.execute(
        sa.text(f"SELECT {names} FROM source_record WHERE batch_id = :b ORDER BY id"),
        {"b": batch_id},
    ).all()
    issues = session.execute(
        sa.text(
            "SELECT row_number, source_key, column_name, value, problem, severity "
            "FROM import_issue WHERE batch_id = :b ORDER BY id"
        ),
        {"b": batch_id},
    ).all()
    return [tuple(r) for r in rows], [tuple(i) for i in issues]


def test_workers_load_the_same_rows_and_issues_as_one_process(session, scope, tmp_path) -> None:
    path = write_csv(tmp_path / "messy.csv", messy_rows(1_500, seed=11))
    alone = load(session, scope, path, "00004", workers=1)
    spread = load(session, scope, path, "26740", workers=2)
    assert alone["status"] == spread["status"] == "loaded"
    for count in ("rows", "accepted", "rejected", "warnings"):
        assert alone[count] == spread[count], count
    assert alone["rejected"] > 0 and alone["warnings"] > 100
    rows, issues = contents(session, alone["batch_id"])
    assert len(rows) == alone["rows"] > 1_400
    assert contents(session, spread["batch_id"]) == (rows, issues)


@pytest.mark.parametrize("workers", [1, 2])
def test_a_file_rejected_by_a_worker_fails_the_batch_with_the_reason(
    session, scope, tmp_path, workers: int
) -> None:
    rows = list(messy_rows(700, seed=2))
    rows[500][1] = "x" * 5_000  # row 502: longer than any cell may be
    path = write_csv(tmp_path / "long.csv", rows)
    summary = load(session, scope, path, "00004", workers=workers)
    assert summary["status"] == "failed"
    assert summary["failure_reason"].startswith("Row 502, column B")
    assert contents(session, summary["batch_id"]) == ([], [])


@pytest.mark.parametrize("workers", [1, 2])
def test_a_bug_met_in_a_worker_fails_the_batch_and_is_raised(
    session, scope, tmp_path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    work = ChunkWork.__call__

    def buggy(self: ChunkWork, block: Any) -> Any:
        if block.first_number > 300:
            raise ZeroDivisionError("a bug")
        return work(self, block)

    monkeypatch.setattr(ChunkWork, "__call__", buggy)
    path = write_csv(tmp_path / "a.csv", messy_rows(700, seed=3))
    batch, _ = register(session, BatchRequest(path=path, commune_code="00004"))
    with pytest.raises(ZeroDivisionError, match="a bug"):
        run_batch(scope, batch.id, path, workers=workers)
    session.refresh(batch)
    assert batch.status == "failed" and batch.failure_reason.startswith(INTERNAL)
    assert contents(session, batch.id) == ([], [])


def test_a_worker_killed_midway_fails_the_batch(
    session, scope, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, parent = ChunkWork.__call__, os.getpid()

    def dies(self: ChunkWork, block: Any) -> Any:
        if block.first_number > 300 and os.getpid() != parent:
            os._exit(9)  # as the kernel's OOM killer would end it, without a word
        return work(self, block)

    monkeypatch.setattr(ChunkWork, "__call__", dies)
    path = write_csv(tmp_path / "a.csv", messy_rows(700, seed=4))
    batch, _ = register(session, BatchRequest(path=path, commune_code="00004"))
    with pytest.raises(WorkerDied):
        run_batch(scope, batch.id, path, workers=2)
    session.refresh(batch)
    assert batch.status == "failed" and batch.failure_reason.startswith(INTERNAL)


def test_workers_are_gone_once_the_pool_is_left_even_on_an_error() -> None:
    def work(n: int) -> int:
        if n == 5:
            raise ValueError(n)
        return n * n

    with OrderedPool(work, workers=2) as pool:
        processes = list(pool._processes)
        assert len(processes) == 2 and all(p.is_alive() for p in processes)
        results = pool.map(range(100))
        assert [next(results) for _ in range(5)] == [0, 1, 4, 9, 16]
        with pytest.raises(ValueError, match="5"):
            next(results)
    assert not any(p.is_alive() for p in processes)


def test_an_error_reading_the_items_comes_after_the_results_before_it() -> None:
    def items() -> Any:
        yield from range(10)
        raise OSError("disk gone")

    with OrderedPool(lambda n: -n, workers=2) as pool:
        got = []
        with pytest.raises(OSError, match="disk gone"):
            for value in pool.map(items()):
                got.append(value)
    assert got == [-n for n in range(10)]


def test_how_many_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = write_csv(tmp_path / "small.csv", messy_rows(10))
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * pipeline.PARALLEL_MIN_BYTES)
    monkeypatch.delenv(pipeline.WORKERS_ENV, raising=False)
    assert import_workers(small) == 1
    assert import_workers(big) == (os.cpu_count() or 1)
    monkeypatch.setenv(pipeline.WORKERS_ENV, "3")
    assert import_workers(big) == 3 and import_workers(small) == 1
    assert import_workers(small, 2) == 2 and import_workers(big, 0) == 1
    monkeypatch.setenv(pipeline.WORKERS_ENV, "lots")
    assert import_workers(big) == (os.cpu_count() or 1)
