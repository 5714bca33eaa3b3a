"""Capture the SQL a block of code sends, with a `before_cursor_execute` listener."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa


@contextmanager
def captured(engine: sa.Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def listen(_conn, _cursor, statement, _params, _context, _many) -> None:  # noqa: ANN001
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
