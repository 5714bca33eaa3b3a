"""The row-at-a-time validator: one mapped row at a time through every check, the reference
that the bulk path (`importers.validate.BulkValidator`, column by column over memos) is
tested against byte for byte. Test code, kept out of the importer, which never validates a
row on its own."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from importers.fields import FieldValue, MappedRow
from importers.validate import RECORD_COLUMNS, Issue, OldNumber, RowValidator

_PIN = "personal_id_number"


@dataclass
class RowResult:
    """One row validated: its typed columns (`record`), its issues, whether it was refused."""

    row_number: int
    source_key: str | None
    record: dict[str, Any]
    issues: list[Issue] = field(default_factory=list)
    rejected: bool = False


#: Each validator's answers per (check, cell), as the importer once kept them: the reference
#: is run on thousands of rows in the tests, and a check depends on its cell alone.
_MEMOS: weakref.WeakKeyDictionary[RowValidator, dict[tuple[str, FieldValue], Any]] = (
    weakref.WeakKeyDictionary()
)


def validate_row(
    validator: RowValidator, row_number: int, mapped: MappedRow, source_key: str | None
) -> RowResult:
    """One mapped row: its names, then each field check in order, then the PIN cross-check."""
    record: dict[str, Any] = dict.fromkeys(RECORD_COLUMNS)
    result = RowResult(row_number, source_key, record)
    issues = result.issues
    if not validator.check_names(mapped, record, issues):
        result.rejected = True
        return result
    memo = _MEMOS.setdefault(validator, {})
    info = None
    for i, name in enumerate(validator.field_checks):
        fv = mapped.get(name)
        if fv is None:
            continue
        key = (name, fv)
        done = memo.get(key)
        if done is None:
            done = memo[key] = validator.check_field(i, fv)
        items, found, side = done
        record.update(items)
        issues.extend(found)
        if name == _PIN:
            info = side
    if isinstance(info, OldNumber):  # an old card number in the PIN column
        if record["other_id_number"] is None:
            record["other_id_number"] = info.number
    elif info is not None:
        pin_cells = mapped.get(_PIN)
        column = " + ".join(pin_cells.columns) if pin_cells and pin_cells.columns else None
        issues.extend(
            Issue(_PIN, column, info.number, code, message)
            for code, message in validator.pin_problems(
                info, record["dob_year"], record["sex"], record["birth_registration_code"]
            )
        )
    return result
