"""A batch end to end on a real database: register, read, validate, COPY, promote, report."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from importers.batches import BatchRequest, register
from importers.error_report import neutralise, report_lines
from importers.pipeline import run_batch
from popdb.core.errors import InvalidInput
from popdb.core.models import ImportBatch, ImportIssue, SourceRecord
from tests.support.dc01 import HEADERS, dc01_row, fake_rows, write_csv

COMMUNE = "00004"
Scope = Callable[[], AbstractContextManager[Session]]


def import_file(session: Session, scope: Scope, path: Path, **kw: object) -> dict:
    batch, duplicate = register(session, BatchRequest(path=path, commune_code=COMMUNE, **kw))
    if duplicate:
        return {"batch_id": batch.id, "duplicate_batch": True}
    return run_batch(scope, batch.id, path)


def records(session: Session, batch_id: int) -> list[SourceRecord]:
    return list(
        session.scalars(
            sa.select(SourceRecord)
            .where(SourceRecord.batch_id == batch_id)
            .order_by(SourceRecord.row_number)
        )
    )


def test_a_dc01_csv_is_loaded_row_by_row_with_the_raw_rows_kept(session, scope, tmp_path) -> None:
    path = write_csv(
        tmp_path / "dc01.csv",
        [
            first := dc01_row(source_key="A1", full_name="NGUYỄN VĂN AN", dob="05/3/1985",
                              sex="Nam", personal_id_number="001085012345",
                              permanent_commune_code="00004"),
            dc01_row(source_key="A2", full_name="", dob="01/01/1990"),
            dc01_row(source_key="A3", full_name="LÊ THỊ HOÀ", dob="31/02/1990", sex="Nữ"),
        ],
    )  # fmt: skip
    summary = import_file(session, scope, path)
    assert summary["status"] == "loaded"
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (3, 2, 1)
    assert summary["duplicate_batch"] is False and summary["warnings"] == 1

    rows = records(session, summary["batch_id"])
    assert [r.row_number for r in rows] == [2, 3, 4]  # spreadsheet row numbers
    assert [r.source_key for r in rows] == ["A1", "A2", "A3"]
    assert [r.status for r in rows] == ["accepted", "rejected", "accepted"]
    assert rows[0].raw == [v or None for v in first]  # the cells, in the file's order
    assert rows[0].name_key == "nguyễn văn an" and rows[0].personal_id_number == "001085012345"
    assert (rows[2].dob_year, rows[2].warnings[0]["field"]) == (None, "dob")

    batch = session.get_one(ImportBatch, summary["batch_id"])
    assert batch.options["header"] == HEADERS and batch.options["format"] == "csv"
    named = dict(zip(batch.options["header"], rows[0].raw, strict=True))
    assert named["Họ, chữ đệm và tên khai sinh"] == "NGUYỄN VĂN AN"
    issues = session.scalars(sa.select(ImportIssue).where(ImportIssue.batch_id == batch.id)).all()
    assert sorted((i.row_number, i.severity) for i in issues) == [(3, "error"), (4, "warning")]


def test_the_same_file_again_is_the_same_batch_and_writes_nothing(session, scope, tmp_path):
    path = write_csv(tmp_path / "a.csv", list(fake_rows(20)))
    first = import_file(session, scope, path)
    second = import_file(session, scope, path)
    assert second == {"batch_id": first["batch_id"], "duplicate_batch": True}
    assert len(records(session, first["batch_id"])) == 20
    assert session.scalar(sa.select(sa.func.count()).select_from(ImportBatch)) == 1


def test_the_same_file_for_another_commune_is_another_batch(session, scope, tmp_path) -> None:
    path = write_csv(tmp_path / "a.csv", list(fake_rows(3)))
    first = import_file(session, scope, path)
    batch, duplicate = register(session, BatchRequest(path=path, commune_code="26740"))
    assert not duplicate and batch.id != first["batch_id"]


def test_an_unreadable_file_fails_the_batch_with_a_reason_and_keeps_nothing(
    session, scope, tmp_path
) -> None:
    path = write_csv(tmp_path / "header-only.csv", [])
    summary = import_file(session, scope, path)
    assert summary["status"] == "failed" and "no data rows" in summary["failure_reason"]
    assert records(session, summary["batch_id"]) == []


def test_a_file_in_another_layout_without_a_profile_fails_with_advice(session, scope, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("colour,shape\nred,round\n", encoding="utf-8")
    summary = import_file(session, scope, path)
    assert summary["status"] == "failed" and "mapping" in summary["failure_reason"].lower()


def test_an_interrupted_batch_is_completed_by_a_retry(session, scope, tmp_path) -> None:
    path = write_csv(tmp_path / "a.csv", list(fake_rows(10)))
    batch, _ = register(session, BatchRequest(path=path, commune_code=COMMUNE))
    batch.status = "validating"  # as a killed process leaves it
    session.flush()
    again, duplicate = register(session, BatchRequest(path=path, commune_code=COMMUNE))
    assert not duplicate and again.id == batch.id and again.status == "received"
    assert run_batch(scope, batch.id, path)["rows"] == 10
    assert len(records(session, batch.id)) == 10


def test_an_unknown_commune_is_refused_before_anything_is_written(session, tmp_path) -> None:
    path = write_csv(tmp_path / "a.csv", list(fake_rows(1)))
    with pytest.raises(InvalidInput, match="99999"):
        register(session, BatchRequest(path=path, commune_code="99999"))
    with pytest.raises(InvalidInput, match="5 digits"):
        register(session, BatchRequest(path=path, commune_code="4"))


def test_the_commune_list_is_the_one_in_force_on_the_collection_date(session, tmp_path) -> None:
    path = write_csv(tmp_path / "a.csv", list(fake_rows(1)))
    # 00667 (Xã Ngũ Hiệp) existed in 2020 but not after the 2025 reform.
    register(session, BatchRequest(path=path, commune_code="00667",
                                   collected_on=dt.date(2020, 6, 1)))  # fmt: skip
    with pytest.raises(InvalidInput, match="2025-07"):
        register(session, BatchRequest(path=path, commune_code="00667",
                                       collected_on=dt.date(2026, 1, 1)))  # fmt: skip


def test_repeated_source_keys_are_flagged_on_the_later_rows(session, scope, tmp_path) -> None:
    path = write_csv(
        tmp_path / "a.csv",
        [dc01_row(source_key="K", full_name="A B"), dc01_row(source_key="K", full_name="C D"),
         dc01_row(source_key="K2", full_name="E F")],
    )  # fmt: skip
    summary = import_file(session, scope, path)
    rows = records(session, summary["batch_id"])
    assert [[w["code"] for w in r.warnings] for r in rows] == [[], ["repeated_source_key"], []]
    assert "Row 2" in rows[1].warnings[0]["message"]


def test_a_foreign_layout_loads_through_a_mapping_profile(session, scope, tmp_path) -> None:
    path = tmp_path / "western.csv"
    path.write_text(
        "rec_id,given_name,surname,date_of_birth,street_number,address_1,suburb,soc_sec_id\n"
        "rec-1-org,john,smith,19720503,12,high street,kingston,4410672\n"
        "rec-2-org,mary,,19990000,,,,\n",
        encoding="utf-8",
    )
    mapping = {
        "source_key": "rec_id",
        "fields": {
            "given_name": "given_name",
            "family_name": "surname",
            "dob": {"column": "date_of_birth", "format": "%Y%m%d"},
            "other_id_number": "soc_sec_id",
            "permanent_address": {"concat": ["street_number", "address_1", "suburb"], "sep": " "},
        },
    }
    summary = import_file(session, scope, path, mapping=mapping)
    assert (summary["status"], summary["accepted"]) == ("loaded", 2)
    first, second = records(session, summary["batch_id"])
    assert (first.source_key, first.full_name, first.given_name) == ("rec-1-org", "smith john",
                                                                     "john")  # fmt: skip
    assert (first.dob_year, first.dob_month, first.dob_day) == (1972, 5, 3)
    assert first.permanent_address == "12 high street kingston"
    assert first.other_id_number == "4410672"
    assert (second.dob_year, second.dob_month, second.family_name) == (1999, None, None)


def test_a_date_column_written_in_several_forms_loads_through_a_list_of_formats(
    session, scope, tmp_path
) -> None:
    path = tmp_path / "us.csv"
    path.write_text(
        "PersonID,First Name,Last Name,DOB\n"
        "P1,Gregory,Garcia,10/05/1953\n"
        "P2,Vanessa,Harris,15-Oct-1953\n"
        "P3,Bob,Smith,1953-10-15\n",
        encoding="utf-8",
    )
    mapping = {
        "source_key": "PersonID",
        "fields": {
            "given_name": "First Name",
            "family_name": "Last Name",
            "dob": {"column": "DOB", "format": ["%m/%d/%Y", "%d-%b-%Y"]},
        },
    }
    summary = import_file(session, scope, path, mapping=mapping)
    first, second, third = records(session, summary["batch_id"])
    assert (first.dob_year, first.dob_month, first.dob_day) == (1953, 10, 5)
    assert (second.dob_year, second.dob_month, second.dob_day) == (1953, 10, 15)
    assert third.dob_year is None
    assert [w["code"] for w in third.warnings] == ["format_mismatch"]
    assert "any of %m/%d/%Y, %d-%b-%Y" in third.warnings[0]["message"]


def _dates_file(path, dates: list[str]):
    lines = ["full_name,dob"] + [f"Person {i},{d}" for i, d in enumerate(dates)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_date_column_written_month_first_is_read_that_way_with_a_note(
    session, scope, tmp_path
) -> None:
    dates = ["10/25/1980", "03/04/1975", "12/31/1999", "01/13/2001", "07/20/1969", "02/14/1990"]
    summary = import_file(session, scope, _dates_file(tmp_path / "us.csv", dates))
    rows = records(session, summary["batch_id"])
    assert [(r.dob_year, r.dob_month, r.dob_day) for r in rows[:2]] == [(1980, 10, 25),
                                                                         (1975, 3, 4)]  # fmt: skip
    assert all(r.dob_year is not None and not r.warnings for r in rows)
    (note,) = summary["notes"]
    assert "month first (US order" in note and "5 can only be read that way" in note


def test_a_day_first_column_with_a_few_swapped_values_stays_day_first(
    session, scope, tmp_path
) -> None:
    dates = [f"{d}/03/1980" for d in range(13, 29)] * 3 + ["03/25/1980", "03/04/1975"]
    summary = import_file(session, scope, _dates_file(tmp_path / "vn.csv", dates))
    rows = records(session, summary["batch_id"])
    assert (rows[-1].dob_month, rows[-1].dob_day) == (4, 3)
    assert [w["code"] for w in rows[-2].warnings] == ["month_day_order"]
    assert summary["notes"] == []


def _sex_file(path, rows: list[tuple[str, str]]):
    lines = ["full_name,sex,personal_id_number"]
    lines += [f"Person {i},{sex},{number}" for i, (sex, number) in enumerate(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_one_zero_sex_column_whose_zeros_are_women_reads_zero_as_female_with_a_note(
    session, scope, tmp_path
) -> None:
    women = [("0", f"0011850001{i:02d}") for i in range(6)]  # digit 1: a woman born 19xx
    men = [("1", f"0010850002{i:02d}") for i in range(3)]
    summary = import_file(session, scope, _sex_file(tmp_path / "xa.csv", women + men))
    assert [r.sex for r in records(session, summary["batch_id"])] == [2] * 6 + [1] * 3
    (note,) = summary["notes"]
    assert note.startswith('Sex 0 in "sex" was read as female') and "6 rows with 0" in note


def test_sex_zero_stays_no_information_when_the_numbers_do_not_say_otherwise(
    session, scope, tmp_path
) -> None:
    mixed = [("0", f"0011850001{i:02d}") for i in range(3)]
    mixed += [("0", f"0010850003{i:02d}") for i in range(3)]
    summary = import_file(session, scope, _sex_file(tmp_path / "mixed.csv", mixed))
    assert {r.sex for r in records(session, summary["batch_id"])} == {0}
    assert summary["notes"] == []


def test_a_format_in_the_profile_is_not_second_guessed(session, scope, tmp_path) -> None:
    dates = ["10/25/1980"] * 6 + ["03/04/1975"]
    mapping = {"fields": {"full_name": "full_name", "dob": {"column": "dob", "format": "%d/%m/%Y"}}}
    summary = import_file(session, scope, _dates_file(tmp_path / "f.csv", dates), mapping=mapping)
    last = records(session, summary["batch_id"])[-1]
    assert (last.dob_month, last.dob_day) == (4, 3)
    assert summary["notes"] == []


def test_a_commune_s_own_headers_are_read_and_those_not_recognised_are_named_in_a_note(
    session, scope, tmp_path
) -> None:
    path = tmp_path / "xa.csv"
    path.write_text(
        "STT,HOTEN,NGAYSINH,GIOITINH,CCCD/CMND,Ghi chú\n"
        "1,NGUYEN VAN HOA,12-05-1980,Nam,001080000111,\n",
        encoding="utf-8",
    )
    summary = import_file(session, scope, path)
    (rec,) = records(session, summary["batch_id"])
    assert (rec.full_name, rec.dob_year, rec.sex) == ("NGUYEN VAN HOA", 1980, 1)
    (note,) = summary["notes"]
    assert "2 column(s) were not recognised" in note and '"CCCD/CMND", "Ghi chú"' in note


def test_a_problem_on_half_the_rows_or_more_gets_a_note_for_the_whole_column(
    session, scope, tmp_path
) -> None:
    dates = ["1980.25.10"] * 12 + ["12/05/1980"] * 2  # read as year.month.day: no month 25
    summary = import_file(session, scope, _dates_file(tmp_path / "odd.csv", dates))
    (note,) = summary["notes"]
    assert note.startswith('Column "dob": 12 of 14 rows have the same problem, invalid_date ')
    assert '(the first: "1980.25.10" has 25 as its month, which does not exist)' in note
    assert 'a mapping profile can say how (its date "format")' in note
    # under ten rows with the problem, or under half the file: the row warnings say enough
    few = import_file(session, scope, _dates_file(tmp_path / "few.csv", dates[:9] + dates[-2:]))
    half = import_file(session, scope, _dates_file(tmp_path / "half.csv", dates + dates[-2:] * 6))
    assert few["notes"] == half["notes"] == []


def test_the_raw_row_is_stored_as_its_cells_with_cells_beyond_the_headings_after_them(
    session, scope, tmp_path
) -> None:
    path = tmp_path / "raw.csv"
    path.write_text(
        'key,name,note\nk1,AN,\nk2,"BÌNH ""B"" \\ x",n,extra,,last\n',  # fmt: skip
        encoding="utf-8",
    )
    mapping = {"source_key": "key", "fields": {"full_name": "name"}}
    summary = import_file(session, scope, path, mapping=mapping)
    first, second = records(session, summary["batch_id"])
    assert first.raw == ["k1", "AN", None]
    assert second.raw == ["k2", 'BÌNH "B" \\ x', "n", "extra", None, "last"]
    batch = session.get_one(ImportBatch, summary["batch_id"])
    assert batch.options["header"] == ["key", "name", "note"]


def test_an_xlsx_with_date_cells_and_numeric_ids_is_read(session, scope, tmp_path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    cells = dc01_row(source_key="X1", full_name="TRẦN VĂN BÌNH", sex="Nam")
    ws.append(cells)
    header_index = {h: i for i, h in enumerate(HEADERS)}
    ws.cell(2, header_index["Ngày, tháng, năm sinh"] + 1, dt.datetime(1989, 4, 30))
    ws.cell(2, header_index["Số định danh cá nhân"] + 1, 1089012345)  # zeros lost as a number
    path = tmp_path / "dc01.xlsx"
    wb.save(path)
    summary = import_file(session, scope, path)
    (rec,) = records(session, summary["batch_id"])
    assert (rec.dob_year, rec.dob_month, rec.dob_day) == (1989, 4, 30)
    assert rec.personal_id_number == "001089012345"
    assert [w["code"] for w in rec.warnings] == ["leading_zero_restored"]


def test_the_error_report_lists_every_issue_and_neutralises_formulas(session, scope, tmp_path):
    path = write_csv(
        tmp_path / "a.csv",
        [dc01_row(source_key="=HYPERLINK(\"http://x\")", full_name=""),
         dc01_row(source_key="B", full_name="A B", sex="@SUM(1)")],
    )  # fmt: skip
    summary = import_file(session, scope, path)
    lines = list(report_lines(session, summary["batch_id"]))
    assert lines[0] == "row_number,source_key,column,value,problem,severity\r\n"
    header, first, second = csv.reader(lines)
    assert first[:3] == ["2", '\'=HYPERLINK("http://x")', "Họ, chữ đệm và tên khai sinh"]
    assert first[5] == "error" and "no name" in first[4]
    assert (second[2], second[3], second[5]) == ("Giới tính", "'@SUM(1)", "warning")


@pytest.mark.parametrize(
    ("cell", "safe"),
    [("=1+1", "'=1+1"), ("+84", "'+84"), ("-2", "'-2"), ("@x", "'@x"), ("\tx", "'\tx"),
     ("Nguyễn", "Nguyễn"), (None, ""), (12, "12")],
)  # fmt: skip
def test_cells_that_a_spreadsheet_would_run_are_made_inert(cell, safe) -> None:
    assert neutralise(cell) == safe


def test_summary_is_json_serialisable(session, scope, tmp_path) -> None:
    path = write_csv(tmp_path / "a.csv", list(fake_rows(2)))
    assert json.loads(json.dumps(import_file(session, scope, path)))["rows"] == 2
