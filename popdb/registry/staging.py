"""The persons a set-wise recomputation works on (golden fields, numbers, their history):
a temp table of ids that statements join, so no SQL travels between functions as text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

#: The staged persons' table, and the subquery that selects them.
STAGED = "registry_staged_person"
IN_STAGED = f"(SELECT person_id FROM {STAGED})"


@contextmanager
def staged_persons(
    connection: sa.Connection, persons: Iterable[int] | sa.TextClause
) -> Iterator[None]:
    """Stage `persons` (ids, or a statement selecting them) for `refresh_golden` and
    `assign_numbers`, analysed for the planner; dropped on leaving (after an error, by the
    rollback)."""
    run = connection.execute
    run(sa.text(f"CREATE TEMP TABLE {STAGED} (person_id bigint PRIMARY KEY) ON COMMIT DROP"))
    if isinstance(persons, sa.TextClause):
        run(sa.text(f"INSERT INTO {STAGED} (person_id) {persons.text}"))
    else:
        ids = sorted({int(i) for i in persons})
        run(sa.text(f"INSERT INTO {STAGED} (person_id) SELECT unnest(CAST(:ids AS bigint[]))"),
            {"ids": ids})  # fmt: skip
    run(sa.text(f"ANALYZE {STAGED}"))
    yield
    # Not in a `finally`: after an error the transaction is rolled back, which drops the
    # table it created, and a statement on a dead connection would hide the real error.
    run(sa.text(f"DROP TABLE {STAGED}"))
