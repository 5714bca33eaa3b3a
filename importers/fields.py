"""What a mapped row is: canonical field name → the text found for it and where it came from."""

from __future__ import annotations

from typing import NamedTuple

#: A date format, or several tried in order (a tuple: field values are memo keys).
DateFormat = str | tuple[str, ...]


class FieldValue(NamedTuple):
    """One canonical field's raw text, the source column(s) it came from, and a format hint.

    `format` is a strptime-style pattern from a mapping profile (e.g. "%Y%m%d"), several
    tried in order, or None, in which case validation tries the formats it knows. A
    NamedTuple, not a dataclass: one is made per field per row, millions per batch.
    """

    value: str | None
    columns: tuple[str, ...]
    format: DateFormat | None = None


MappedRow = dict[str, FieldValue]
