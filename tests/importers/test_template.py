"""importers.template: the blank DC01 workbook reads back as DC01, with its drop-downs."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from importers.dc01 import DC01_COLUMNS, HOUSEHOLD_HEAD_ID, HOUSEHOLD_HEAD_NAME, SOURCE_KEY
from importers.readers import open_table
from importers.recognise import resolve_profile
from importers.rejections import FileRejected
from importers.template import (
    DATA_SHEET,
    LISTS_SHEET,
    code_lists,
    text_columns,
    write_dc01_template,
)
from popdb.core import codes

HEADERS = [h for h, _ in DC01_COLUMNS]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "DC01.xlsx"
    write_dc01_template(path)
    return path


def _letter(header: str) -> str:
    return openpyxl.utils.get_column_letter(HEADERS.index(header) + 1)


def _data_sheet(path: Path) -> Worksheet:
    return openpyxl.load_workbook(path)[DATA_SHEET]


def test_the_template_reopens_with_the_dc01_headers_in_bold_on_a_frozen_row(
    template: Path,
) -> None:
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames == [DATA_SHEET, LISTS_SHEET]
    ws = wb[DATA_SHEET]
    assert [c.value for c in ws[1]] == HEADERS
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "C2"
    assert ws.max_row == 1  # blank below the header
    assert ws.column_dimensions["B"].width == 32  # names get room


def test_the_lists_sheet_is_hidden_and_holds_the_labels(template: Path) -> None:
    lists = openpyxl.load_workbook(template)[LISTS_SHEET]
    assert lists.sheet_state == "hidden"
    columns = {col[0].value: [c.value for c in col[1:] if c.value is not None]
               for col in lists.iter_cols()}  # fmt: skip
    assert columns["Giới tính"] == ["Nam", "Nữ", "Không rõ"]
    assert len(columns["Dân tộc"]) == 54 == len(codes.ETHNICITIES)
    assert columns["Dân tộc"][0] == codes.ETHNICITIES[0][1]
    assert columns["Tôn giáo"] == [label for _, label in codes.RELIGIONS]
    assert columns["Tình trạng hôn nhân"] == [
        "Chưa kết hôn",
        "Đã kết hôn",
        "Ly hôn hoặc góa",
        "Không rõ",
    ]
    assert columns["Nhóm máu"] == ["A", "B", "AB", "O"]
    assert columns["Quan hệ với chủ hộ"] == [label for _, label in codes.HOUSEHOLD_RELATIONS]


def test_coded_columns_have_drop_downs_over_the_lists_sheet_for_ten_thousand_rows(
    template: Path,
) -> None:
    ws = _data_sheet(template)
    found = {}
    for dv in ws.data_validations.dataValidation:
        assert dv.type == "list"
        assert dv.showErrorMessage and dv.allow_blank
        found[str(dv.sqref)] = dv.formula1.removeprefix("=")
    expected = {}
    for i, (field, labels) in enumerate(code_lists().items()):
        header = next(h for h, f in DC01_COLUMNS if f == field)
        col, src = _letter(header), "ABCDEF"[i]
        expected[f"{col}2:{col}10001"] = f"'Danh mục'!${src}$2:${src}${len(labels) + 1}"
    assert found == expected
    assert found["E2:E10001"] == "'Danh mục'!$A$2:$A$4"  # sex
    assert found["L2:L10001"] == "'Danh mục'!$B$2:$B$55"  # 54 ethnicities


def test_drop_downs_refuse_other_values_except_the_open_religion_and_relation_lists(
    template: Path,
) -> None:
    styles = {
        str(dv.sqref): dv.errorStyle for dv in _data_sheet(template).data_validations.dataValidation
    }
    for header in ("Tôn giáo", "Quan hệ với chủ hộ"):
        col = _letter(header)
        assert styles.pop(f"{col}2:{col}10001") == "warning"
    assert set(styles.values()) == {"stop"}


def test_identifier_code_phone_and_date_columns_are_text_so_leading_zeros_survive(
    template: Path,
) -> None:
    ws = _data_sheet(template)
    text = {h for h in HEADERS if ws.column_dimensions[_letter(h)].number_format == "@"}
    assert text == set(text_columns())
    assert {
        "Số phiếu",
        "Ngày, tháng, năm sinh",
        "Số định danh cá nhân",
        "Số CMND",
        "Mã nơi đăng ký khai sinh",
        "Mã xã nơi thường trú",
        "Số định danh cá nhân của cha",
        HOUSEHOLD_HEAD_ID,
        "Số điện thoại",
    } <= text
    assert "Họ, chữ đệm và tên khai sinh" not in text
    assert "Giới tính" not in text


def test_the_blank_template_is_rejected_by_the_reader_as_header_only(template: Path) -> None:
    with pytest.raises(FileRejected) as info:
        open_table(template)
    assert info.value.code == "header_only"


def test_the_template_header_maps_every_dc01_column_without_a_profile(template: Path) -> None:
    header = [c.value for c in _data_sheet(template)[1]]
    bound = resolve_profile(header, None)
    assert bound.profile.name == "dc01"
    assert bound.source_key_columns == ("Số phiếu",)
    assert bound.field_columns == {
        f: (h,) for h, f in DC01_COLUMNS if f is not None and f != SOURCE_KEY
    }
    assert bound.unmapped_columns == [HOUSEHOLD_HEAD_NAME, HOUSEHOLD_HEAD_ID]


def test_a_filled_template_reads_back_through_the_importer(template: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(template)
    ws = wb[DATA_SHEET]
    values = {
        "Số phiếu": "000123",
        "Họ, chữ đệm và tên khai sinh": "TRẦN THỊ NGA",
        "Ngày, tháng, năm sinh": "05/03/1985",
        "Giới tính": "Nữ",
        "Số định danh cá nhân": "001185012345",
        "Dân tộc": codes.ETHNICITIES[0][1],
        "Nơi thường trú": "Số 5 ngõ 12, phường Cửa Nam, Hà Nội",
        HOUSEHOLD_HEAD_NAME: "TRẦN VĂN BÌNH",
        "Số điện thoại": "0912345678",
    }
    for header, value in values.items():
        ws[f"{_letter(header)}2"] = value
    path = tmp_path / "filled.xlsx"
    wb.save(path)

    with open_table(path) as table:
        assert table.sheet == DATA_SHEET
        bound = resolve_profile(table.header, None)
        rows = list(table.rows)
    assert len(rows) == 1
    number, raw = rows[0]
    assert number == 2
    row = bound.map_row(raw)
    assert bound.source_key(raw) == "000123"
    assert row["full_name"].value == "TRẦN THỊ NGA"
    assert row["dob"].value == "05/03/1985"
    assert row["sex"].value == "Nữ"
    assert row["personal_id_number"].value == "001185012345"
    assert row["ethnicity"].value == codes.ETHNICITIES[0][1]
    assert row["permanent_address"].value == "Số 5 ngõ 12, phường Cửa Nam, Hà Nội"
    assert row["phone"].value == "0912345678"
    assert "email" not in row  # left blank
    assert raw[HOUSEHOLD_HEAD_NAME] == "TRẦN VĂN BÌNH"  # kept in the raw row only
    assert len(bound.field_columns) == len(
        [f for _, f in DC01_COLUMNS if f not in (None, SOURCE_KEY)]
    )


def test_writing_the_template_overwrites_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "DC01.xlsx"
    path.write_bytes(b"old")
    write_dc01_template(path)
    assert [c.value for c in _data_sheet(path)[1]] == HEADERS


def test_every_drop_down_label_is_accepted_by_its_validator() -> None:
    parsers = {
        "sex": codes.sex,
        "ethnicity": codes.ethnicity,
        "religion": codes.religion,
        "marital_status": codes.marital_status,
        "blood_group": codes.blood_group,
        "household_head_relation": codes.household_relation,
    }
    for field, labels in code_lists().items():
        for label in labels:
            coded = parsers[field](label)
            assert coded is not None and coded.code is not None, (field, label)
            assert coded.warning is None, (field, label, coded.warning)
