"""The first batch a registry sees is usually one commune's clean list: no one in it twice.
A model trained on it must still link the same citizen when a later batch brings them again."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

from dedup.run import RunOptions
from importers.batches import BatchRequest, register
from importers.pipeline import run_batch
from popdb.core.models import SourceRecord
from popdb.registry.matching import match
from tests.support.dc01 import HEADERS, fake_rows

CLEAN = 2_000
AGAIN = 100
PIN = HEADERS.index("Số định danh cá nhân")
DOB = HEADERS.index("Ngày, tháng, năm sinh")


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("number", [True, False], ids=["with-number", "without-number"])
def test_a_model_trained_on_a_batch_without_duplicates_still_links_a_citizen_seen_again(
    session, scope, tmp_path, number
):
    rows = list(fake_rows(CLEAN, seed=7))
    first, _ = register(session, BatchRequest(path=_write(tmp_path / "a.csv", rows),
                                              commune_code="00004"))  # fmt: skip
    run_batch(scope, first.id, tmp_path / "a.csv")
    summary = match(session.connection(), RunOptions())
    assert summary.trained
    # the same citizens, collected again under new form numbers, with or without the number
    seen = [row for row in rows if row[PIN] and row[DOB][:2] != "00"][:AGAIN]
    again = [[f"R-{row[0]}", *(c if k != PIN or number else "" for k, c in
                               enumerate(row[1:], 1))] for row in seen]  # fmt: skip
    second, _ = register(session, BatchRequest(path=_write(tmp_path / "b.csv", again),
                                               commune_code="00004"))  # fmt: skip
    run_batch(scope, second.id, tmp_path / "b.csv")
    match(session.connection(), RunOptions())
    person = sa.select(SourceRecord.source_key, SourceRecord.person_id)
    by_key = dict(session.execute(person).all())
    joined = sum(by_key[f"R-{row[0]}"] == by_key[row[0]] for row in seen)
    assert joined == len(seen)

