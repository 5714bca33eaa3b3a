"""PostgreSQL COPY text format for one value: what the loader and the validator's memo share.

The validator keeps the COPY text of each distinct cell's typed columns beside the typed
values, so a row's line is joined from ready-made pieces instead of formatted value by value.
The escaping itself is `popdb.core.bulk`'s, shared with every other COPY path.
"""

from __future__ import annotations

from popdb.core.bulk import NULL
from popdb.core.bulk import text_field as copy_text

__all__ = ["NULL", "copy_json", "copy_text"]


def copy_json(text: str) -> str:
    """JSON text as a COPY field. `json.dumps` escapes tab, CR and LF inside strings, so only
    its backslashes need doubling (the same result as `copy_text`, faster)."""
    return text.replace("\\", "\\\\") if "\\" in text else text
