"""`popdb import` and `popdb template` as a clerk runs them: summary, report, exit codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl

from tests.popdb.test_cli import _env, popdb
from tests.support.dc01 import HEADERS, dc01_row, fake_rows, write_csv


def test_import_prints_the_summary_writes_the_report_and_knows_a_repeat(
    scratch_database_url: str, tmp_path: Path
) -> None:
    env = _env(DATABASE_URL=scratch_database_url, POPDB_HOME=str(tmp_path / "home"))
    path = write_csv(tmp_path / "dc01.csv", [*fake_rows(30), dc01_row(source_key="Z")])
    done = popdb("import", str(path), "--commune", "00004", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert {"batch_id", "rows", "accepted", "rejected", "duplicate_batch", "error_report"} <= set(
        summary
    )
    assert (summary["rows"], summary["accepted"], summary["rejected"]) == (31, 30, 1)
    assert summary["duplicate_batch"] is False
    assert summary["status"] == "matched" and summary["match"]["new_records"] == 30
    report = Path(summary["error_report"])
    assert report == tmp_path / "dc01.csv.errors.csv"
    with report.open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["row_number", "source_key", "column", "value", "problem", "severity"]
    assert lines[-1][:2] == ["32", "Z"] and lines[-1][-1] == "error"

    again = json.loads(popdb("import", str(path), "--commune", "00004", env=env).stdout)
    assert again["batch_id"] == summary["batch_id"] and again["duplicate_batch"] is True


def test_import_no_match_leaves_the_batch_loaded_for_a_later_dedup_run(
    scratch_database_url: str, tmp_path: Path
) -> None:
    env = _env(DATABASE_URL=scratch_database_url, POPDB_HOME=str(tmp_path / "home"))
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(5)))
    done = popdb("import", str(path), "--commune", "00004", "--no-match", env=env)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "loaded" and "match" not in summary
    ran = json.loads(popdb("dedup", "run", env=env).stdout)
    assert ran["new_records"] == 5


def test_import_refuses_bad_arguments_with_a_message(scratch_database_url, tmp_path) -> None:
    env = _env(DATABASE_URL=scratch_database_url, POPDB_HOME=str(tmp_path / "home"))
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(2)))
    unknown = popdb("import", str(path), "--commune", "99999", env=env)
    assert unknown.returncode == 2 and "99999" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    profile = tmp_path / "bad.json"
    profile.write_text('{"fields": {"nom": "x"}}', encoding="utf-8")
    bad = popdb("import", str(path), "--commune", "00004", "--mapping", str(profile), env=env)
    assert bad.returncode == 2 and "nom" in bad.stderr and "Traceback" not in bad.stderr
    delimiter = popdb("import", str(path), "--commune", "00004", "--delimiter", ";;", env=env)
    assert delimiter.returncode == 2 and "delimiter" in delimiter.stderr
    assert "Traceback" not in delimiter.stderr


def test_an_unreadable_file_exits_1_with_the_reason(scratch_database_url, tmp_path) -> None:
    env = _env(DATABASE_URL=scratch_database_url, POPDB_HOME=str(tmp_path / "home"))
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    done = popdb("import", str(path), "--commune", "00004", env=env)
    assert done.returncode == 1
    assert json.loads(done.stdout)["status"] == "failed" and "empty" in done.stderr


def test_template_writes_the_dc01_workbook(tmp_path: Path) -> None:
    out = tmp_path / "dc01.xlsx"
    done = popdb("template", "dc01", "--out", str(out), env=_env())
    assert done.returncode == 0, done.stderr
    sheet = openpyxl.load_workbook(out).worksheets[0]
    assert [c.value for c in sheet[1]] == HEADERS
