"""Notes on a whole batch, beside the row warnings: what a clerk must not miss in thousands
of them (a column never read, a column written another way throughout)."""

from __future__ import annotations

from typing import Any

from importers.dc01 import unrecognised
from importers.loader import LoadCounts
from importers.mapping import BoundProfile

#: Rows with one problem from which `widespread` notes it, when that is half the file or more.
WIDESPREAD_MIN_ROWS = 10
#: Date problems that a whole column written in another form would cause.
_DATE_FORM_CODES = frozenset(
    {"unrecognised_date", "format_mismatch", "invalid_date", "month_day_order", "two_digit_year",
     "day_without_month"}
)  # fmt: skip


def widespread(counts: LoadCounts) -> list[str]:
    """Notes for problems on at least half the rows (`WIDESPREAD_MIN_ROWS` or more): a column
    written some other way throughout, or a wrong mapping, more than bad rows."""
    notes = []
    for (column, code), (rows, message) in sorted(counts.problems.items()):
        if rows >= WIDESPREAD_MIN_ROWS and rows * 2 >= counts.rows:
            where = f'Column "{column}"' if column else "The rows"
            advice = (' If the whole column is written another way, a mapping profile can say '
                      'how (its date "format").' if code in _DATE_FORM_CODES else "")  # fmt: skip
            notes.append(
                f"{where}: {rows:,} of {counts.rows:,} rows have the same problem, {code} "
                f"(the first: {message.rstrip('.')}).{advice}"
            )
    return notes


def unread_columns(bound: BoundProfile, mapping: dict[str, Any] | None) -> list[str]:
    """A file read without a profile whose headers were not all recognised: say which columns
    were kept in the raw rows only, or a clerk may believe their birth dates were read."""
    if mapping is not None:  # the profile's author chose what to read
        return []
    unread = unrecognised(bound.unmapped_columns)
    if not unread:
        return []
    shown = ", ".join(f'"{c}"' for c in unread)
    return [
        f"{len(unread)} column(s) were not recognised, so they were kept in the raw rows but "
        f"not read: {shown}. To read them, upload the file with a mapping profile naming them."
    ]
