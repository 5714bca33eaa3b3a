"""Issue 22 item 8: CSV formula injection through a separator and through look-alikes.

A spreadsheet set to split on `;` (the list separator of many locales), tab or `|` reads
`1;=HYPERLINK(...)` as two cells, the second a formula: a leading quote on the whole cell
does not reach it. Full-width `＝＋－＠` are folded to ASCII and then neutralised.
"""

from __future__ import annotations

import csv
import io

import pytest

from importers.error_report import neutralise

FORMULA = "=2+5+cmd|' /C calc'!A0"  # the DDE classic: no comma or quote, so never quoted


@pytest.mark.parametrize("separator", [";", ",", "\t", "|", "；", "，", "｜"])
@pytest.mark.parametrize("start", ["=", "+", "-", "@", "＝", "＋", "－", "＠", "﹦", "−"])
def test_no_split_of_the_cell_yields_a_formula(separator: str, start: str) -> None:
    cell = "1" + separator + "  " + start + FORMULA[1:]
    safe = neutralise(cell)
    line = io.StringIO()
    csv.writer(line).writerow([safe, "x"])
    for delimiter in (";", ",", "\t", "|"):
        for row in csv.reader(io.StringIO(line.getvalue()), delimiter=delimiter):
            for part in row:
                assert not part.lstrip(" ").startswith(("=", "+", "-", "@")), (cell, part)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "＝", "＋", "－", "＠", "\t", "\r"])
def test_a_cell_starting_with_a_formula_start_is_text(start: str) -> None:
    assert neutralise(start + "1+1").startswith("'")


def test_ordinary_values_are_unchanged() -> None:
    for value in ("Nguyễn Thị Hòa", "2026-01-05", "001190012345", "12 Hàng Bạc, Hà Nội", ""):
        assert neutralise(value) == value
    assert neutralise(None) == ""
