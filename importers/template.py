"""The blank DC01 workbook communes fill in: the form's headers, drop-downs for coded fields,
and text-formatted number columns.

Why the details matter: Excel turns "001085012345" into 1085012345 and "05/03/1985" into a
date in the clerk's locale, so identifier, code, phone and date-of-birth columns are text
("@"). Drop-downs show the labels (the importer's validators accept labels) and read their
lists from a hidden sheet, because an inline list is capped at 255 characters and the 54
ethnicities do not fit.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from importers.dc01 import DC01_COLUMNS, HOUSEHOLD_HEAD_ID, SOURCE_KEY
from popdb.core import codes

__all__ = [
    "DATA_SHEET",
    "FIRST_ROW",
    "LAST_ROW",
    "LISTS_SHEET",
    "TEXT_FORMAT",
    "code_lists",
    "text_columns",
    "write_dc01_template",
]

DATA_SHEET = "DC01"
LISTS_SHEET = "Danh mục"
#: Rows the drop-downs cover: the data rows under the header.
FIRST_ROW, LAST_ROW = 2, 10001
TEXT_FORMAT = "@"
#: Fields whose list is not exhaustive (religions recognised after the 14-code list, relations
#: with no official list): other text is allowed after a warning.
_OPEN_LISTS = frozenset({"religion", "household_head_relation"})
_WIDE_FIELDS = frozenset(
    {
        "full_name",
        "birth_registration_place",
        "hometown",
        "permanent_address",
        "current_address",
        "father_name",
        "mother_name",
        "spouse_name",
    }
)


def _labels(pairs: Iterable[tuple[object, str]]) -> tuple[str, ...]:
    return tuple(label for _, label in pairs)


def code_lists() -> dict[str, tuple[str, ...]]:
    """Field -> drop-down labels, in the order the lists sheet holds them."""
    return {
        "sex": _labels(codes.SEXES),
        "ethnicity": _labels(codes.ETHNICITIES),
        "religion": _labels(codes.RELIGIONS),
        "marital_status": _labels(codes.MARITAL_STATUSES),
        # blood group is recorded only on request: a blank cell, not "Không rõ", is unknown
        "blood_group": _labels((c, label) for c, label in codes.BLOOD_GROUPS if c != "00"),
        "household_head_relation": _labels(codes.HOUSEHOLD_RELATIONS),
    }


def text_columns() -> list[str]:
    """Headers of the columns kept as text: identifiers, codes, phone and date of birth."""
    out = []
    for header, field in DC01_COLUMNS:
        if (
            field in (SOURCE_KEY, "dob", "phone")
            or header == HOUSEHOLD_HEAD_ID
            or (field is not None and field.endswith(("_id_number", "_code")))
        ):
            out.append(header)
    return out


def _width(header: str, field: str | None) -> float:
    if field in _WIDE_FIELDS:
        return 32
    return min(max(len(header) + 2, 12), 24)


def write_dc01_template(path: Path) -> None:
    """Write the blank DC01 workbook to `path` (overwritten if it exists)."""
    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    lists = wb.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"

    ws.append([header for header, _ in DC01_COLUMNS])
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="center")
    text = set(text_columns())
    column_of: dict[str, str] = {}
    for index, (header, field) in enumerate(DC01_COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index)
        cell.font = bold
        cell.alignment = wrap
        dim = ws.column_dimensions[letter]
        dim.width = _width(header, field)
        if header in text:
            # A column style: Excel gives it to every cell typed in the column later.
            dim.number_format = TEXT_FORMAT
        if field is not None:
            column_of[field] = letter
    ws.row_dimensions[1].height = 45
    ws.freeze_panes = "C2"  # header row, form number and name stay in view

    sheet_ref = quote_sheetname(LISTS_SHEET)
    for index, (field, labels) in enumerate(code_lists().items(), start=1):
        letter = get_column_letter(index)
        header = next(h for h, f in DC01_COLUMNS if f == field)
        lists.cell(row=1, column=index, value=header).font = bold
        for row, label in enumerate(labels, start=2):
            lists.cell(row=row, column=index, value=label)
        lists.column_dimensions[letter].width = max(len(x) for x in (header, *labels)) + 2
        closed = field not in _OPEN_LISTS
        dv = DataValidation(
            type="list",
            formula1=f"{sheet_ref}!${letter}$2:${letter}${len(labels) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop" if closed else "warning",
            errorTitle="Giá trị không có trong danh sách",
            error=(
                f"Chọn một giá trị trong danh sách {header}."
                if closed
                else f"Giá trị không có trong danh sách {header}; vẫn giữ nếu đúng."
            ),
        )
        target = column_of[field]
        dv.add(f"{target}{FIRST_ROW}:{target}{LAST_ROW}")
        ws.add_data_validation(dv)

    wb.active = 0
    wb.save(path)
