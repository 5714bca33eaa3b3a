"""The error report: one CSV line per problem found in a batch, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core.models import ImportIssue

HEADER = ("row_number", "source_key", "column", "value", "problem", "severity")
#: A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(cell: object) -> str:
    """Make a cell inert in a spreadsheet: a leading quote turns a would-be formula into text
    (OWASP "CSV injection"). The value stays readable and the original is in the database."""
    if cell is None:
        return ""
    text = str(cell)
    return "'" + text if text.startswith(_FORMULA_START) else text


def report_lines(session: Session, batch_id: int) -> Iterator[str]:
    """The report as CSV text lines (header first), streamed from the database in row order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: tuple[object, ...]) -> str:
        writer.writerow([neutralise(c) for c in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(HEADER)
    query = (
        sa.select(
            ImportIssue.row_number,
            ImportIssue.source_key,
            ImportIssue.column_name,
            ImportIssue.value,
            ImportIssue.problem,
            ImportIssue.severity,
        )
        .where(ImportIssue.batch_id == batch_id)
        .order_by(ImportIssue.row_number, ImportIssue.id)
        .execution_options(yield_per=5_000)
    )
    for row in session.execute(query):
        yield line(tuple(row))


def write_report(session: Session, batch_id: int, path: Path) -> int:
    """Write the report to `path` (UTF-8 with BOM, so Excel shows Vietnamese); return lines."""
    count = -1
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        for text in report_lines(session, batch_id):
            f.write(text)
            count += 1
    return count
