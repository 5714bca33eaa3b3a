"""The row-at-a-time reference the bulk COPY path is tested against (`format_chunk` must
write exactly these lines): test code, kept out of the importer."""

from __future__ import annotations

from dataclasses import dataclass

from importers.copytext import copy_text
from importers.loader import issues_json, raw_json
from importers.table import RawRow
from importers.validate import RECORD_COLUMNS
from tests.support.reference_validate import RowResult


@dataclass
class StagedRow:
    """What the loader needs of a row: the raw cells as received and the validation result."""

    raw: RawRow
    result: RowResult


def copy_line(batch_id: int, row: StagedRow) -> str:
    """One row in COPY text format: the batch, then `COPY_COLUMNS` in order. The reference
    that `format_chunk` is tested against."""
    result = row.result
    record = result.record
    fields = [
        str(batch_id),
        str(result.row_number),
        copy_text(result.source_key),
        copy_text(raw_json(row.raw)),
        "rejected" if result.rejected else "accepted",
        copy_text(issues_json(result.issues) if result.issues else "[]"),
    ]
    fields.extend(copy_text(record[c]) for c in RECORD_COLUMNS)
    return "\t".join(fields) + "\n"
