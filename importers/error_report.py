"""The error report: one CSV line per problem found in a batch, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core.models import ImportIssue

HEADER = ("row_number", "source_key", "column", "value", "problem", "severity")
#: A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
#: Look-alikes a spreadsheet (or a clerk's IME) may take for the ASCII character, folded to it
#: one for one: full-width and small forms of = + - @ and of the separators, and the minus sign.
_LOOK_ALIKES = str.maketrans({
    "\uff1d": "=", "\ufe66": "=", "\uff0b": "+", "\ufe62": "+", "\uff0d": "-",
    "\ufe63": "-", "\u2212": "-", "\uff20": "@", "\ufe6b": "@",
    "\uff1b": ";", "\ufe54": ";", "\uff0c": ",", "\ufe50": ",", "\uff5c": "|",
})  # fmt: skip
#: A formula start at the start of the cell or of what a spreadsheet splitting on another
#: separator (`;` in many locales, tab, `|`, `,`) would take for a cell of its own, after any
#: blanks: `1;=HYPERLINK(...)` is two cells, the second a formula, to Excel set to `;`.
_FORMULA_AT = re.compile(r"(^|[,;|\t])([ \u00a0]*)(?=[=+\-@])")


def neutralise(cell: object) -> str:
    """Make a cell inert in a spreadsheet (OWASP "CSV injection"): look-alikes are folded to
    ASCII, and a quote goes before every formula start that begins the cell or follows a
    separator, so no way of splitting the line yields a cell that runs. The value stays
    readable and the original is in the database."""
    if cell is None:
        return ""
    text = str(cell).translate(_LOOK_ALIKES)
    text = _FORMULA_AT.sub(r"\1\2'", text)
    return "'" + text if text.startswith(("\t", "\r", "\n")) else text


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
