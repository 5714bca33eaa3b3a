"""What a file leaves to habit, read from its first rows before the import proper.

Dates of birth written month first (US order) and a sex column coded 1/0 (0 for women, where
QCVN 109's 0 is "no information") are read as the file writes them, each with a note for the
clerk, when its first rows show the habit plainly; a few values the other way (typing slips,
flagged row by row) decide nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from importers.mapping import BoundProfile, CellPlan
from importers.readers import open_table
from popdb.core import codes, pin
from popdb.core.dates import day_month_order

#: Rows read ahead to tell how dates of birth and sex are written.
SAMPLE_ROWS = 20_000
_PIN = "personal_id_number"


@dataclass(frozen=True)
class Conventions:
    """How a file writes what the forms leave to habit, read from its first rows: dates of
    birth month first (US order), sex 0 for women (a "1/0" column; QCVN 109's 0 is "no
    information"); with the notes that tell the clerk."""

    dob_month_first: bool = False
    sex_zero_is_female: bool = False
    notes: tuple[str, ...] = ()


def conventions(path: Path, opening: dict[str, Any], bound: BoundProfile) -> Conventions:
    """`Conventions` from the first `SAMPLE_ROWS` rows.

    A date such as 10/25/1980 can only be month first, 25/10/1980 only day first; 05/03/1985
    could be either, and is read as the column's other values show. A column of sex 0 and 1
    whose 0 rows carry a woman's personal ID number reads 0 as female. A few values the other
    way (typing slips, flagged row by row) change nothing. Only for columns a profile gave no
    format.
    """
    fields = bound.profile.fields
    dob = "dob" in bound.field_columns and fields["dob"].format is None
    sex = "sex" in bound.field_columns and _PIN in bound.field_columns
    if not (dob or sex):
        return Conventions()
    values = _sample(path, opening, bound, ("dob", "sex", _PIN))
    rows = values.pop("")
    month_first = zero_female = False
    notes = []
    if dob:
        day_first, month = day_month_order(v for v in values["dob"] if v is not None)
        month_first = _shown(month, against=day_first)
        if month_first:
            notes.append(
                f'Dates of birth in "{_columns_of(bound, "dob")}" were read month first (US '
                f"order, m/d/yyyy): in the first {rows:,} rows, {month:,} can only be read "
                f"that way and {day_first:,} only day first. If that is wrong, give the column "
                'a "format" in a mapping profile.'
            )
    if sex:
        women = men = 0
        zero = {v: (c := codes.sex(v)) is not None and c.code == 0 for v in set(values["sex"])}
        for sex_value, number in zip(values["sex"], values[_PIN], strict=True):
            if sex_value is None or number is None or not zero[sex_value]:
                continue
            holder = _holder_sex(number)
            women, men = women + (holder == 2), men + (holder == 1)
        zero_female = _shown(women, against=men)
        if zero_female:
            notes.append(
                f'Sex 0 in "{_columns_of(bound, "sex")}" was read as female: in the first '
                f"{rows:,} rows, {women:,} rows with 0 have a woman's personal ID number "
                f'and {men:,} a man\'s (0 is otherwise "no information").'
            )
    return Conventions(month_first, zero_female, tuple(notes))


def _sample(
    path: Path, opening: dict[str, Any], bound: BoundProfile, fields: tuple[str, ...]
) -> dict[str, Any]:
    """The text of `fields` in the first `SAMPLE_ROWS` rows (None when empty), as
    `BoundProfile.map_row` gives it, and the number of rows under "". Read as the import
    reads (blocks, column by column), not row by row: mapping every field of 20,000 rows one
    at a time, before the workers start, was a sixth of an import's work on our own file."""
    plan = CellPlan(bound)
    cells: list[list[str | None]] = []
    with open_table(path, **opening) as table:
        parser = table.parser
        assert parser is not None  # open_table gives every table one
        for block in table.blocks(min(SAMPLE_ROWS, 2_000)):
            records, error = parser.records(block)
            cells += [parser.row(number, found)[0] for number, found in records]
            if error is not None:
                raise error
            if len(cells) >= SAMPLE_ROWS:
                break
    del cells[SAMPLE_ROWS:]
    sampled: dict[str, Any] = {"": len(cells)}
    for field in fields:
        where = plan.fields.get(field)
        if where is not None:
            sampled[field] = [
                None if found is None else found.value
                for found in map(where.field_value, where.values(cells))
            ]
    return sampled


def _shown(votes: int, *, against: int) -> bool:
    """A convention is taken when 5 or more values show it and twenty times more than show
    the usual way: a few slips either way decide nothing."""
    return votes >= 5 and against * 20 <= votes


def _holder_sex(number: str | None) -> int | None:
    """The sex a personal ID number encodes (1 male, 2 female), None if it is not one."""
    try:
        return pin.parse_pin(number or "", restore_leading_zeros=True).sex
    except pin.PinError:
        return None


def _columns_of(bound: BoundProfile, field: str) -> str:
    return " + ".join(bound.field_columns[field])
