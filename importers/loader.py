"""The staging loader: validated rows stream through COPY into a temporary table, then one
INSERT … SELECT promotes them into `source_record` and `import_issue`.

Everything happens on the caller's connection and inside the caller's transaction: if the
process dies anywhere before the commit, PostgreSQL discards the staging table and every row
with it, so there is never a half-loaded batch, and a retry starts from a clean slate.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from importers.readers import RawRow
from importers.validate import RECORD_COLUMNS, RowResult

STAGING = "import_staging"
#: Staging columns, in COPY order: the row's identity, the raw row, then the typed columns.
STAGING_COLUMNS: tuple[str, ...] = (
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


def _field(value: Any) -> str:
    if value is None:
        return _NULL
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    return str(value)


def copy_line(row: StagedRow) -> str:
    """One row in COPY text format, columns in `STAGING_COLUMNS` order."""
    result = row.result
    record = result.record
    fields = [
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

    def readline(self, size: int | None = -1) -> str:  # pragma: no cover - COPY uses read()
        return self.read(size)


def load(connection: sa.Connection, batch_id: int, rows: Iterable[StagedRow]) -> LoadCounts:
    """Stage `rows` with COPY and promote them into `source_record` and `import_issue`.

    Also warns, set-wise in SQL, about source keys used by more than one row of the file.
    The caller owns the transaction and commits it.
    """
    counts = {"rows": 0, "accepted": 0, "rejected": 0, "warnings": 0}

    def lines() -> Iterator[str]:
        for row in rows:
            counts["rows"] += 1
            if row.result.rejected:
                counts["rejected"] += 1
            else:
                counts["accepted"] += 1
            counts["warnings"] += sum(1 for i in row.result.issues if i.severity == "warning")
            yield copy_line(row)

    columns = ", ".join(STAGING_COLUMNS)
    connection.exec_driver_sql(
        f"CREATE TEMP TABLE {STAGING} ON COMMIT DROP AS "
        f"SELECT {columns} FROM source_record WITH NO DATA"
    )
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.copy_expert(
            f"COPY {STAGING} ({columns}) FROM STDIN", _LineReader(lines()), size=CHUNK_CHARS
        )
    finally:
        cursor.close()
    counts["warnings"] += _flag_repeated_source_keys(connection)
    params = {"batch_id": batch_id}
    connection.execute(
        sa.text(
            f"INSERT INTO source_record (batch_id, {columns}) "
            f"SELECT :batch_id, {columns} FROM {STAGING} ORDER BY row_number"
        ),
        params,
    )
    connection.execute(
        sa.text(
            "INSERT INTO import_issue "
            "(batch_id, row_number, source_key, column_name, value, problem, severity) "
            "SELECT :batch_id, s.row_number, s.source_key, i->>'column', i->>'value', "
            "i->>'message', (i->>'severity')::issue_severity "
            f"FROM {STAGING} s CROSS JOIN LATERAL jsonb_array_elements(s.warnings) AS i "
            "WHERE s.warnings <> '[]'::jsonb ORDER BY s.row_number"
        ),
        params,
    )
    connection.exec_driver_sql(f"DROP TABLE {STAGING}")
    return LoadCounts(**counts)


def _flag_repeated_source_keys(connection: sa.Connection) -> int:
    """Warn on every row whose source key an earlier row of the same file already used."""
    return connection.execute(
        sa.text(
            f"""
            WITH repeated AS (
                SELECT source_key, min(row_number) AS first_row
                FROM {STAGING} WHERE source_key IS NOT NULL
                GROUP BY source_key HAVING count(*) > 1
            )
            UPDATE {STAGING} s
            SET warnings = s.warnings || jsonb_build_array(jsonb_build_object(
                'field', 'source_key', 'column', NULL, 'value', s.source_key,
                'code', 'repeated_source_key', 'severity', 'warning',
                'message', 'Row ' || r.first_row || ' of this file has the same source key.'))
            FROM repeated r
            WHERE s.source_key = r.source_key AND s.row_number <> r.first_row
            """
        )
    ).rowcount
