"""COPY in and out on a SQLAlchemy connection, in PostgreSQL's text format: the bulk paths
for sets too large to go through the ORM, inside the caller's transaction."""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NEEDS_ESCAPE = re.compile(r"[\\\t\n\r]")
_UNESCAPE = re.compile(r"\\(.)")
_UNESCAPES = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}


def text_field(value: Any) -> str:
    """One value in COPY text format."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return value.translate(_ESCAPES) if _NEEDS_ESCAPE.search(value) else value
    return str(value)


def text_line(values: Sequence[Any]) -> str:
    return "\t".join(text_field(v) for v in values) + "\n"


def _parse_field(cell: str) -> str | None:
    if cell == NULL:
        return None
    if "\\" in cell:
        return _UNESCAPE.sub(lambda m: _UNESCAPES.get(m.group(1), m.group(1)), cell)
    return cell


def _cursor(connection: sa.Connection) -> Any:
    return connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def copy_in(
    connection: sa.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """COPY `rows` into `table`; returns how many. Buffered in memory in 8 MB pieces."""
    count = 0
    cursor = _cursor(connection)
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    try:
        buffer = io.StringIO()
        for row in rows:
            buffer.write(text_line(row))
            count += 1
            if buffer.tell() > 8 * 1024 * 1024:
                buffer.seek(0)
                cursor.copy_expert(statement, buffer)
                buffer = io.StringIO()
        if buffer.tell():
            buffer.seek(0)
            cursor.copy_expert(statement, buffer)
    finally:
        cursor.close()
    return count


def copy_out(connection: sa.Connection, query: str) -> Iterator[list[str | None]]:
    """The rows of `query` as lists of strings (None for NULL), via COPY TO STDOUT. The
    output is spooled to a temporary file, not held in memory: it can be a million rows."""
    cursor = _cursor(connection)
    with tempfile.TemporaryFile("w+", encoding="utf-8", newline="\n") as spool:
        try:
            cursor.copy_expert(f"COPY ({query}) TO STDOUT", spool)
        finally:
            cursor.close()
        spool.seek(0)
        for line in spool:
            yield [_parse_field(cell) for cell in line.rstrip("\n").split("\t")]
