"""importers.readers: every uploaded file is read exactly, or rejected with a clear reason."""

from __future__ import annotations

import codecs
import datetime as dt
import random
import re
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from importers.limits import Limits
from importers.readers import open_table
from importers.rejections import CODES, FileRejected
from importers.table import Table, column_letter

NAME = "Nguyễn Thị Hường"
PLACE = "Đà Nẵng"


def _file(tmp_path: Path, content: str | bytes, name: str = "upload.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _read(path: Path, **kwargs: Any) -> tuple[Table, list[tuple[int, dict[str, str | None]]]]:
    table = open_table(path, **kwargs)
    return table, list(table.rows)


def _rejected(path: Path, **kwargs: Any) -> FileRejected:
    """The FileRejected raised by opening `path` and reading every row."""
    with pytest.raises(FileRejected) as info:
        _read(path, **kwargs)
    assert info.value.code in CODES
    assert info.value.message
    return info.value


def _xlsx(tmp_path: Path, sheets: dict[str, list[list[Any]]], name: str = "upload.xlsx") -> Path:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    path = tmp_path / name
    wb.save(path)
    return path


_TONE_MARKS = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def _as_cp1258(text: str) -> bytes:
    """Windows-1258 as Vietnamese keyboards write it: base letters precomposed (ê, ư, ơ, ...)
    but tone marks as separate combining characters. (A full NFD cannot be encoded: cp1258 has
    no combining circumflex, breve or horn.)"""
    out = []
    for ch in text:
        parts = unicodedata.normalize("NFD", ch)
        base = "".join(c for c in parts if c not in _TONE_MARKS)
        tones = "".join(c for c in parts if c in _TONE_MARKS)
        out.append(unicodedata.normalize("NFC", base) + tones)
    return "".join(out).encode("cp1258")


# --- encodings ---------------------------------------------------------------------------


def test_utf8_without_bom_is_read_cell_for_cell(tmp_path: Path) -> None:
    table, rows = _read(_file(tmp_path, f"ho_ten,que_quan\n{NAME},{PLACE}\n"))
    assert table.format == "csv"
    assert table.encoding == "utf-8"
    assert table.delimiter == ","
    assert table.sheet is None
    assert table.notes == []
    assert table.header == ["ho_ten", "que_quan"]
    assert rows == [(2, {"ho_ten": NAME, "que_quan": PLACE})]


def test_utf8_bom_is_not_part_of_the_first_heading(tmp_path: Path) -> None:
    table, rows = _read(_file(tmp_path, f"\ufeffho_ten,que_quan\r\n{NAME},{PLACE}\r\n"))
    assert table.encoding == "utf-8-sig"
    assert table.header == ["ho_ten", "que_quan"]
    assert rows == [(2, {"ho_ten": NAME, "que_quan": PLACE})]


def test_utf8_bom_is_removed_even_when_utf8_is_named(tmp_path: Path) -> None:
    table, rows = _read(_file(tmp_path, f"\ufeffho_ten\n{NAME}\n"), encoding="utf-8")
    assert table.header == ["ho_ten"]
    assert rows == [(2, {"ho_ten": NAME})]


@pytest.mark.parametrize(
    ("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_excel_unicode_text_utf16_with_bom_is_read_tab_separated(
    tmp_path: Path, bom: bytes, codec: str
) -> None:
    text = f"ho_ten\tque_quan\r\n{NAME}\t{PLACE}\r\n"
    table, rows = _read(_file(tmp_path, bom + text.encode(codec), "unicode.txt"))
    assert table.encoding == codec
    assert table.delimiter == "\t"
    assert rows == [(2, {"ho_ten": NAME, "que_quan": PLACE})]


def test_windows_1258_is_detected_and_decoded_to_nfc(tmp_path: Path) -> None:
    raw = _as_cp1258(f"ho_ten;que_quan\r\n{NAME};{PLACE}\r\n")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    table, rows = _read(_file(tmp_path, raw))
    assert table.encoding == "cp1258"
    assert "decoded as windows-1258" in table.notes
    assert rows == [(2, {"ho_ten": NAME, "que_quan": PLACE})]
    assert unicodedata.is_normalized("NFC", rows[0][1]["ho_ten"] or "")


def test_latin1_file_is_read_when_its_encoding_is_named(tmp_path: Path) -> None:
    path = _file(tmp_path, "nom,ville\nJosé Müller,Besançon\n".encode("latin-1"))
    table, rows = _read(path, encoding="latin-1")
    assert table.encoding == "iso8859-1"
    assert rows == [(2, {"nom": "José Müller", "ville": "Besançon"})]


def test_an_unknown_encoding_name_is_rejected(tmp_path: Path) -> None:
    error = _rejected(_file(tmp_path, "a\n1\n"), encoding="tcvn-3-nonsense")
    assert error.code == "bad_encoding"
    assert "tcvn-3-nonsense" in error.message


def test_bytes_invalid_in_the_named_encoding_are_rejected(tmp_path: Path) -> None:
    error = _rejected(_file(tmp_path, b"ho_ten\n\xff\xfe\xfa\n"), encoding="utf-8")
    assert error.code == "bad_encoding"


def test_invalid_utf8_after_the_sample_is_rejected_while_streaming(tmp_path: Path) -> None:
    body = "".join(f"{i},Nguyen Van {i}\n" for i in range(80_000)).encode()
    assert len(body) > 1024 * 1024  # the first MiB is plain ASCII, so UTF-8 is chosen
    path = _file(tmp_path, b"so,ho_ten\n" + body + _as_cp1258(f"9,{NAME}\n"))
    table = open_table(path)
    assert table.encoding == "utf-8"
    with pytest.raises(FileRejected) as info:
        for _ in table.rows:
            pass
    assert info.value.code == "bad_encoding"
    assert "after row" in info.value.message


# --- delimiters, quoting, row shape ------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_the_delimiter_is_sniffed_from_the_heading_row(tmp_path: Path, delimiter: str) -> None:
    d = delimiter
    text = f"ho_ten{d}ngay_sinh{d}que_quan\n{NAME}{d}1990-01-05{d}{PLACE}\n"
    table, rows = _read(_file(tmp_path, text))
    assert table.delimiter == delimiter
    assert rows == [(2, {"ho_ten": NAME, "ngay_sinh": "1990-01-05", "que_quan": PLACE})]


def test_delimiters_inside_quoted_headings_do_not_fool_the_sniffer(tmp_path: Path) -> None:
    table, _ = _read(_file(tmp_path, '"Họ, tên";"Quê, quán, gốc";x\n1;2;3\n'))
    assert table.delimiter == ";"
    assert table.header == ["Họ, tên", "Quê, quán, gốc", "x"]


def test_a_named_delimiter_overrides_sniffing(tmp_path: Path) -> None:
    table, rows = _read(_file(tmp_path, "a,b;c\n1,2;3\n"), delimiter=";")
    assert table.header == ["a,b", "c"]
    assert rows == [(2, {"a,b": "1,2", "c": "3"})]


def test_an_excel_sep_line_sets_the_delimiter_and_is_not_a_row(tmp_path: Path) -> None:
    table, rows = _read(_file(tmp_path, "sep=;\r\na,b\r\n1,5;2\r\n"))
    assert table.delimiter == ";"
    assert table.header == ["a,b"]
    assert rows == [(2, {"a,b": "1,5", "_extra_1": "2"})]


def test_quoted_cells_keep_newlines_delimiters_and_quotes_and_rows_count_records(
    tmp_path: Path,
) -> None:
    text = (
        "ho_ten,dia_chi,ghi_chu\r\n"
        f'"{NAME}","Số 1, ngõ 2\r\nphường 3","nói ""xin chào"""\r\n'
        'B,"x|y;z\tw",\r\n'
    )
    _, rows = _read(_file(tmp_path, text))
    assert rows == [
        (2, {"ho_ten": NAME, "dia_chi": "Số 1, ngõ 2\r\nphường 3", "ghi_chu": 'nói "xin chào"'}),
        (3, {"ho_ten": "B", "dia_chi": "x|y;z\tw", "ghi_chu": None}),
    ]


def test_cells_are_exact_text_and_only_empty_cells_become_none(tmp_path: Path) -> None:
    _, rows = _read(_file(tmp_path, "so_cccd,ho_ten,ghi_chu\n001090012345,  Lê Văn Tám ,\n"))
    assert rows == [(2, {"so_cccd": "001090012345", "ho_ten": "  Lê Văn Tám ", "ghi_chu": None})]


def test_decomposed_unicode_cells_are_returned_in_nfc(tmp_path: Path) -> None:
    nfd = unicodedata.normalize("NFD", NAME)
    assert nfd != NAME
    _, rows = _read(_file(tmp_path, f"ho_ten\n{nfd}\n"))
    assert rows == [(2, {"ho_ten": NAME})]


def test_extra_cells_are_kept_and_missing_cells_are_none(tmp_path: Path) -> None:
    text = "a,b,c\n1,2,3,4,,6\n1\n1,2,3,,\n"
    _, rows = _read(_file(tmp_path, text))
    assert rows == [
        (2, {"a": "1", "b": "2", "c": "3", "_extra_1": "4", "_extra_2": None, "_extra_3": "6"}),
        (3, {"a": "1", "b": None, "c": None}),
        (4, {"a": "1", "b": "2", "c": "3"}),
    ]


def test_blank_rows_are_skipped_but_still_counted(tmp_path: Path) -> None:
    text = "\n\na,b\n1,2\n\n,\n  ,\t\n3,4\n\n"
    _, rows = _read(_file(tmp_path, text))
    assert rows == [(4, {"a": "1", "b": "2"}), (8, {"a": "3", "b": "4"})]


def test_a_blank_column_without_heading_or_data_is_dropped(tmp_path: Path) -> None:
    table, rows = _read(_file(tmp_path, "a,,b,\n1,,2,\n3,,4\n"))
    assert table.header == ["a", "b"]
    assert rows == [(2, {"a": "1", "b": "2"}), (3, {"a": "3", "b": "4"})]


# --- workbooks ---------------------------------------------------------------------------


def test_xlsx_cells_become_text_dates_iso_and_integral_numbers_digits(tmp_path: Path) -> None:
    path = _xlsx(
        tmp_path,
        {
            "DS": [
                ["ho_ten", "so_cccd", "ngay_sinh", "luc", "so_con", "chieu_cao", "con_song"],
                [
                    unicodedata.normalize("NFD", NAME),
                    1090012345.0,
                    dt.date(1990, 1, 5),
                    dt.datetime(2024, 3, 1, 8, 30),
                    2,
                    1.65,
                    True,
                ],
                [None, "001090012345", dt.datetime(1985, 12, 31), None, 0, 0.1, False],
            ]
        },
    )
    table, rows = _read(path)
    assert (table.format, table.encoding, table.delimiter, table.sheet) == (
        "xlsx",
        None,
        None,
        "DS",
    )
    assert rows == [
        (
            2,
            {
                "ho_ten": NAME,
                "so_cccd": "1090012345",
                "ngay_sinh": "1990-01-05",
                "luc": "2024-03-01 08:30:00",
                "so_con": "2",
                "chieu_cao": "1.65",
                "con_song": "TRUE",
            },
        ),
        (
            3,
            {
                "ho_ten": None,
                "so_cccd": "001090012345",
                "ngay_sinh": "1985-12-31",
                "luc": None,
                "so_con": "0",
                "chieu_cao": "0.1",
                "con_song": "FALSE",
            },
        ),
    ]


def test_xlsx_formulas_are_never_returned_as_formula_text(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, {"DS": [["a", "b", "tong"], [1, 2, "=A2+B2"]]})
    _, rows = _read(path)
    # openpyxl stores no cached value, so the reader sees None - never "=A2+B2".
    assert rows == [(2, {"a": "1", "b": "2", "tong": None})]


def test_xlsx_is_recognised_by_content_whatever_the_file_name(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, {"DS": [["a"], ["1"]]}, name="danh_sach.csv")
    table, rows = _read(path)
    assert table.format == "xlsx"
    assert rows == [(2, {"a": "1"})]


def test_xlsx_reads_the_first_sheet_and_notes_the_others(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, {"Xa A": [["a"], ["1"]], "Xa B": [["b"], ["2"]]})
    table, rows = _read(path)
    assert table.sheet == "Xa A"
    assert rows == [(2, {"a": "1"})]
    assert any('"Xa B"' in note for note in table.notes)


def test_xlsx_sheet_is_selected_by_name(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, {"Xa A": [["a"], ["1"]], "Xa B": [["b"], ["2"]]})
    table, rows = _read(path, sheet="Xa B")
    assert table.sheet == "Xa B"
    assert rows == [(2, {"b": "2"})]


def test_an_unknown_sheet_is_rejected_listing_the_sheets(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, {"Xa A": [["a"], ["1"]], "Xa B": [["b"], ["2"]]})
    error = _rejected(path, sheet="Xa C")
    assert error.code == "no_such_sheet"
    assert '"Xa C"' in error.message and '"Xa A"' in error.message and '"Xa B"' in error.message


def test_xlsx_rows_beyond_a_wrong_stored_dimension_are_still_read(tmp_path: Path) -> None:
    good = _xlsx(tmp_path, {"DS": [["a", "b"], [1, 2], [None, None], [5, 6]]}, "good.xlsx")
    bad = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(
                    rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:A1"/>', data
                )
                assert n == 1
            dst.writestr(info, data)
    table, rows = _read(bad)
    assert table.header == ["a", "b"]
    assert rows == [(2, {"a": "1", "b": "2"}), (4, {"a": "5", "b": "6"})]


def test_xlsx_blank_rows_are_skipped_but_counted_and_extra_cells_kept(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, {"DS": [["a", "b"], [], [1], [], [3, 4, None, "x"]]})
    _, rows = _read(path)
    assert rows == [
        (3, {"a": "1", "b": None}),
        (5, {"a": "3", "b": "4", "_extra_1": None, "_extra_2": "x"}),
    ]


# --- hostile and broken files ------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n", codecs.BOM_UTF8 + b",,\n\n"])
def test_an_empty_file_is_rejected(tmp_path: Path, content: bytes) -> None:
    assert _rejected(_file(tmp_path, content)).code == "empty_file"


@pytest.mark.parametrize("content", ["a,b\n", "a,b", "a,b\r\n\r\n,\r\n"])
def test_a_heading_row_without_data_is_rejected(tmp_path: Path, content: str) -> None:
    error = _rejected(_file(tmp_path, content))
    assert error.code == "header_only"
    assert "row 1" in error.message


def test_a_workbook_with_only_a_heading_row_is_rejected(tmp_path: Path) -> None:
    assert _rejected(_xlsx(tmp_path, {"DS": [["a", "b"]]})).code == "header_only"


def test_headings_that_differ_only_in_case_and_spaces_are_duplicates(tmp_path: Path) -> None:
    error = _rejected(_file(tmp_path, "Họ tên,ngay_sinh, HỌ TÊN \nA,1,B\n"))
    assert error.code == "duplicate_headers"
    assert '"Họ tên"' in error.message
    assert "columns A and C" in error.message


def test_a_blank_heading_with_data_under_it_is_rejected(tmp_path: Path) -> None:
    error = _rejected(_file(tmp_path, "a,,c\n1,,3\n4,lost?,6\n"))
    assert error.code == "blank_header"
    assert "column B" in error.message and "row 3" in error.message


def test_a_blank_xlsx_heading_with_data_under_it_is_rejected(tmp_path: Path) -> None:
    error = _rejected(_xlsx(tmp_path, {"DS": [["a", None, "c"], [1, "x", 3]]}))
    assert error.code == "blank_header"
    assert "column B" in error.message and "row 2" in error.message


def test_random_binary_bytes_are_rejected_as_garbage(tmp_path: Path) -> None:
    rng = random.Random(1258)
    data = b"ho_ten,x\n" + bytes(rng.randrange(256) for _ in range(8192)) + b"\x00\x00"
    assert _rejected(_file(tmp_path, data)).code == "binary_garbage"


def test_control_characters_in_a_text_file_are_rejected_as_garbage(tmp_path: Path) -> None:
    data = b"a,b\n" + b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f,x\n" * 20
    assert _rejected(_file(tmp_path, data)).code == "binary_garbage"


def test_a_nul_after_the_sample_is_rejected_while_streaming(tmp_path: Path) -> None:
    body = b"1,2\n" * 300_000  # well over the 1 MiB sample
    error = _rejected(_file(tmp_path, b"a,b\n" + body + b"3,\x004\n"))
    assert error.code == "binary_garbage"
    assert "row 300002" in error.message


def test_a_truncated_xlsx_is_rejected(tmp_path: Path) -> None:
    rows = [["so", "ho_ten"]] + [[i, f"{NAME} {i}"] for i in range(2000)]
    whole = _xlsx(tmp_path, {"DS": rows}).read_bytes()
    error = _rejected(_file(tmp_path, whole[: len(whole) // 2], "cut.xlsx"))
    assert error.code == "truncated_xlsx"


def _zip_with_big_member(tmp_path: Path) -> Path:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * 2_000_000)
    return path


def test_an_xlsx_unpacking_beyond_the_size_limit_is_rejected(tmp_path: Path) -> None:
    error = _rejected(
        _zip_with_big_member(tmp_path), limits=Limits(max_xlsx_uncompressed_bytes=1_000_000)
    )
    assert error.code == "xlsx_bomb"
    assert "976.6 KB allowed" in error.message


def test_an_xlsx_compressed_beyond_the_ratio_limit_is_rejected(tmp_path: Path) -> None:
    error = _rejected(_zip_with_big_member(tmp_path))
    assert error.code == "xlsx_bomb"
    assert "200 times allowed" in error.message


def test_a_zip_that_is_not_a_workbook_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "report.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("word/document.xml", "<document/>")
    error = _rejected(path)
    assert error.code == "unknown_format"
    assert "Word document" in error.message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), ".xls"),
        (b"%PDF-1.7\n", "PDF"),
        (b"<html><body><table><tr><td>a</td></tr></table></body></html>\n", "web page"),
    ],
)
def test_other_kinds_of_file_are_rejected_by_name(
    tmp_path: Path, content: bytes, words: str
) -> None:
    error = _rejected(_file(tmp_path, content, "danh_sach.xls"))
    assert error.code == "unknown_format"
    assert words in error.message


def test_too_many_heading_columns_are_rejected(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(6))
    error = _rejected(_file(tmp_path, f"{header}\n1\n"), limits=Limits(max_columns=5))
    assert error.code == "too_many_columns"
    assert "6 columns" in error.message and "at most 5" in error.message


def test_too_many_cells_in_a_data_row_are_rejected(tmp_path: Path) -> None:
    error = _rejected(_file(tmp_path, "a,b\n1,2\n1,2,3,4,5,6\n"), limits=Limits(max_columns=5))
    assert error.code == "too_many_columns"
    assert "Row 3" in error.message


def test_a_huge_line_is_rejected_without_being_split_into_cells(tmp_path: Path) -> None:
    error = _rejected(
        _file(tmp_path, "a,b\n1,2\n" + "," * 100_000 + "\n"),
        limits=Limits(max_columns=5, max_cell_chars=100),
    )
    assert error.code == "too_many_columns"


def test_formatted_empty_cells_far_right_in_a_workbook_are_ignored(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a"])
    ws.append([1])
    ws.cell(row=2, column=5000).number_format = "0.00"  # styled, but no value
    wb.save(tmp_path / "wide.xlsx")
    _, rows = _read(tmp_path / "wide.xlsx")
    assert rows == [(2, {"a": "1"})]


def test_a_workbook_value_beyond_the_column_limit_is_rejected(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a"])
    ws.append([1])
    ws.cell(row=3, column=201, value="x")
    wb.save(tmp_path / "wide.xlsx")
    error = _rejected(tmp_path / "wide.xlsx")
    assert error.code == "too_many_columns"
    assert "Row 3" in error.message and "column GR" in error.message


def test_too_many_rows_are_rejected_while_streaming(tmp_path: Path) -> None:
    table = open_table(_file(tmp_path, "a\n1\n2\n\n3\n4\n5\n"), limits=Limits(max_rows=3))
    seen = []
    with pytest.raises(FileRejected) as info:
        for number, _ in table.rows:
            seen.append(number)
    assert seen == [2, 3, 5]
    assert info.value.code == "too_many_rows"
    assert "3 data rows" in info.value.message and "row 6" in info.value.message


def test_a_cell_too_long_is_rejected_naming_row_and_column(tmp_path: Path) -> None:
    text = "ho_ten,dia_chi\nA,ngắn\nB," + "x" * 11 + "\n"
    error = _rejected(_file(tmp_path, text), limits=Limits(max_cell_chars=10))
    assert error.code == "cell_too_long"
    assert 'Row 3, column B ("dia_chi") has 11 characters' in error.message


def test_a_cell_too_long_in_a_workbook_is_rejected(tmp_path: Path) -> None:
    path = _xlsx(tmp_path, {"DS": [["ho_ten"], ["A"], ["B" * 11]]})
    error = _rejected(path, limits=Limits(max_cell_chars=10))
    assert error.code == "cell_too_long"
    assert "Row 3" in error.message


def test_an_unclosed_quote_is_reported_as_a_runaway_cell(tmp_path: Path) -> None:
    text = 'a,b\n1,"never closed\n' + "2,3\n" * 50
    error = _rejected(_file(tmp_path, text), limits=Limits(max_cell_chars=100))
    assert error.code == "cell_too_long"
    assert "never closed" in error.message


def test_a_file_over_the_size_limit_is_rejected_before_reading(tmp_path: Path) -> None:
    error = _rejected(_file(tmp_path, "a\n" + "1\n" * 600), limits=Limits(max_file_bytes=1024))
    assert error.code == "file_too_large"
    assert "1 KB allowed" in error.message


def test_file_rejected_only_accepts_known_codes() -> None:
    assert FileRejected("empty_file", "x").code == "empty_file"
    with pytest.raises(ValueError):
        FileRejected("oops", "x")


def test_column_letters_match_spreadsheets() -> None:
    assert [column_letter(i) for i in (0, 25, 26, 27, 701, 702)] == [
        "A",
        "Z",
        "AA",
        "AB",
        "ZZ",
        "AAA",
    ]


# --- streaming ---------------------------------------------------------------------------


def test_a_200000_row_csv_streams_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("so_cccd,ho_ten,ngay_sinh,que_quan\r\n")
        for i in range(200_000):
            f.write(f"{i:012d},{NAME} {i},1990-01-05,{PLACE}\r\n")
    assert path.stat().st_size > 10_000_000
    tracemalloc.start()
    try:
        count, last = 0, None
        with open_table(path) as table:
            for number, row in table.rows:
                count += 1
                last = (number, row)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 200_000
    assert last == (
        200_001,
        {
            "so_cccd": "000000199999",
            "ho_ten": f"{NAME} 199999",
            "ngay_sinh": "1990-01-05",
            "que_quan": PLACE,
        },
    )
    assert peak < 20 * 1024 * 1024


def test_closing_a_table_early_releases_the_file(tmp_path: Path) -> None:
    table = open_table(_file(tmp_path, "a\n1\n2\n"))
    assert next(table.rows) == (2, {"a": "1"})
    table.close()
    table.close()
    with pytest.raises(StopIteration):
        next(table.rows)
