"""importers.conventions: the habits of a file read from its first rows, column by column."""

from __future__ import annotations

from pathlib import Path

import pytest

import importers.conventions as conventions_module
from importers.conventions import conventions
from importers.mapping import BoundProfile
from importers.readers import open_table
from importers.recognise import resolve_profile


def _file(path: Path, rows: int) -> Path:
    lines = ["full_name,dob,sex,personal_id_number"]
    for i in range(rows):
        month_first = f"{1 + i % 12:02d}/{13 + i % 15}/1985"  # only m/d/yyyy can read it
        lines.append(f"Person {i}, {month_first} ,0,0011850001{i % 100:02d}")  # 0 and a woman
    lines.insert(3, "Blank dob,,1,")  # empty cells are not votes
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_first_rows_decide_and_every_field_of_a_row_is_not_mapped_to_read_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the sampled rows count (the notes say how many), read through blocks and the
    columns the decision needs: mapping each whole row, before the workers start, was a
    sixth of an import's work."""
    path = _file(tmp_path / "habits.csv", 300)
    with open_table(path) as table:
        bound = resolve_profile(table.header, None)

    def whole_row(self: BoundProfile, raw: object) -> None:
        raise AssertionError("conventions mapped a whole row")

    monkeypatch.setattr(BoundProfile, "map_row", whole_row)
    monkeypatch.setattr(conventions_module, "SAMPLE_ROWS", 120)
    found = conventions(path, {}, bound)
    assert found.dob_month_first and found.sex_zero_is_female
    dates, sexes = found.notes
    assert "in the first 120 rows, 119 can only be read that way and 0 only day first" in dates
    assert "in the first 120 rows, 119 rows with 0 have a woman's" in sexes
