"""The loader: validated rows stream through COPY into `source_record` inside the batch's one
transaction, which is the staging area; their issues follow into `import_issue`.

Everything happens on the caller's connection and inside the caller's transaction: if the
process dies anywhere before the commit, PostgreSQL discards every row it was given, so there
is never a half-loaded batch, and a retry starts from a clean slate.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from importers.readers import RawRow
from importers.validate import RECORD_COLUMNS, Issue, RowResult

#: Columns a row is copied with (after batch_id): its identity, the raw row, the typed columns.
COPY_COLUMNS: tuple[str, ...] = (
    "row_number", "source_key", "raw", "status", "warnings", *RECORD_COLUMNS,
)  # fmt: skip
#: How much COPY text is handed to the driver at a time.
CHUNK_CHARS = 1 << 20

# PostgreSQL COPY text format: backslash escapes for the four characters that structure it.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


@dataclass(frozen=True)
class LoadCounts:
    rows: int
    accepted: int
    rejected: int
    warnings: int  # warning issues, not rows


@dataclass
class StagedRow:
    """What the loader needs of a row: the raw cells as received and the validation result."""

    raw: RawRow
    result: RowResult


_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")


def _field(value: Any) -> str:
    if value is None:
        return _NULL
    if isinstance(value, str):
        # translate() is slow on non-ASCII text; most cells need no escaping at all.
        return value.translate(_ESCAPES) if _NEEDS_ESCAPE.search(value) else value
    return str(value)


def copy_line(batch_id: int, row: StagedRow) -> str:
    """One row in COPY text format: the batch, then `COPY_COLUMNS` in order."""
    result = row.result
    record = result.record
    fields = [
        str(batch_id),
        str(result.row_number),
        _field(result.source_key),
        _field(json.dumps(row.raw, ensure_ascii=False, separators=(",", ":"))),
        "rejected" if result.rejected else "accepted",
        _field(
            json.dumps([i.as_json() for i in result.issues], ensure_ascii=False)
            if result.issues
            else "[]"
        ),
    ]
    fields.extend(_field(record[c]) for c in RECORD_COLUMNS)
    return "\t".join(fields) + "\n"


class _LineReader(io.TextIOBase):
    """A read-only text file over an iterator of lines, which is what `copy_expert` reads."""

    def __init__(self, lines: Iterator[str]) -> None:
        self._lines = lines
        self._buffer = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        want = CHUNK_CHARS if size is None or size < 0 else size
        parts = [self._buffer]
        have = len(self._buffer)
        for line in self._lines:
            parts.append(line)
            have += len(line)
            if have >= want:
                break
        data = "".join(parts)
        self._buffer = data[want:]
        return data[:want]


def load(connection: sa.Connection, batch_id: int, rows: Iterable[StagedRow]) -> LoadCounts:
    """COPY `rows` into `source_record` and their issues into `import_issue`.

    The caller's transaction is the staging area: nothing is visible to anyone else until it
    commits, and nothing survives if it does not. Rows stream straight into their table, so
    PostgreSQL stores and indexes them while Python validates the next ones. Issues are
    spooled aside (to disk beyond a few MB) and copied after the rows.
    """
    counts = {"rows": 0, "accepted": 0, "rejected": 0, "warnings": 0}
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024, mode="w+", encoding="utf-8")  # noqa: SIM115 (closed by the with below)

    def lines() -> Iterator[str]:
        for row in rows:
            result = row.result
            counts["rows"] += 1
            counts["rejected" if result.rejected else "accepted"] += 1
            for issue in result.issues:
                counts["warnings"] += issue.severity == "warning"
                spool.write(issue_line(batch_id, result, issue))
            yield copy_line(batch_id, row)

    with spool:
        _copy(connection, "source_record", ("batch_id", *COPY_COLUMNS), _LineReader(lines()))
        spool.seek(0)
        _copy(connection, "import_issue", ISSUE_COLUMNS, spool)
    return LoadCounts(**counts)


#: Columns an issue is copied with into `import_issue`.
ISSUE_COLUMNS = (
    "batch_id", "row_number", "source_key", "column_name", "value", "problem", "severity",
)  # fmt: skip


def issue_line(batch_id: int, result: RowResult, issue: Issue) -> str:
    """One issue in COPY text format, columns in `ISSUE_COLUMNS` order."""
    cells = (batch_id, result.row_number, result.source_key, issue.column, issue.value,
             issue.message, issue.severity)  # fmt: skip
    return "\t".join(_field(c) for c in cells) + "\n"


def _copy(connection: sa.Connection, table: str, columns: tuple[str, ...], data: Any) -> None:
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN", data, size=CHUNK_CHARS
        )
    finally:
        cursor.close()
