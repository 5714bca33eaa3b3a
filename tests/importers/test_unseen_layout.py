"""A file we did not make (a commune's own layout, mostly distinct names and addresses): the
bulk path stays the reference byte for byte when its memos stop remembering distinct cells,
and the per-word shortcuts for names give what the text functions give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import importers.validate as validate
from importers.mapping import CellPlan, parse_profile
from importers.readers import open_table
from importers.recognise import resolve_profile
from importers.validate import BulkValidator, _legacy, _split
from popdb.core.text import looks_like_legacy_encoding, split_name
from tests.bench import commune_file
from tests.importers.test_bulk import bulk, reference, validator


@pytest.fixture(scope="module")
def unseen(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("unseen") / "commune.csv"
    profile = commune_file.write(path, 3_000, seed=11)
    return path, json.loads(profile.read_text(encoding="utf-8"))


@pytest.mark.parametrize(("workers", "chunk_rows"), [(1, 500), (2, 97)])
def test_an_unseen_layout_gives_the_reference_lines_and_issues(
    unseen: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch, workers: int, chunk_rows: int
) -> None:
    path, data = unseen
    profile = parse_profile(data)
    monkeypatch.setattr(validate, "MEMO_SAMPLE", 200)  # decide after a few blocks
    want_lines, want_issues = reference(path, profile=profile)
    lines, issues, _ = bulk(path, monkeypatch, workers=workers, chunk_rows=chunk_rows,
                            profile=profile)  # fmt: skip
    assert len(lines) == len(want_lines) == 3_000
    for got, want in zip(lines, want_lines, strict=True):
        assert got == want
    assert issues == want_issues
    assert sum('"code": "' in line for line in lines) > 500  # rows with issues were compared


def test_mostly_distinct_fields_stop_being_remembered(
    unseen: tuple[Path, dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names of this file, and its old 9-digit ID numbers, are distinct on nearly every row:
    their memos are given up (and emptied); sex and ethnicity repeat and keep theirs."""
    path, data = unseen
    monkeypatch.setattr(validate, "MEMO_SAMPLE", 200)
    with open_table(path) as table:
        bound = resolve_profile(table.header, parse_profile(data))
        plan = CellPlan(bound)
        bulk_validator = BulkValidator(validator(bound), plan)
        rows = [list(raw.values()) for _, raw in table.rows]
    for start in range(0, len(rows), 250):
        bulk_validator.validate(rows[start : start + 250])
    assert bulk_validator._storing[-1] is False
    assert len(bulk_validator._names_memo) == 0
    memos = {name: (i, memo) for i, name, _, memo in bulk_validator._present}
    for name in ("sex", "ethnicity", "religion"):
        i, memo = memos[name]
        assert bulk_validator._storing[i] and 0 < len(memo) < 20
    i, memo = memos["dob"]  # mostly new at first too, but from a small domain: kept
    assert bulk_validator._storing[i] and len(memo) > 200
    i, memo = memos["personal_id_number"]  # the 9-digit CMND numbers in that column
    assert bulk_validator._storing[i] is False
    assert all(not v for v in memo)  # only the empty cell, which every row may repeat


NAMES = [
    "Nguyễn Văn An", "NGUYEN VAN AN", "An", "Tôn Thất Thuyết", "TÔN THẤT Thuyết",
    "Công Tằng Tôn Nữ Tâm", "Âu Dương Phong", "Âu Dương", "Tôn Nữ", "Nguyễn Phước Bửu Lộc",
    "Trần  Thị\u00a0Hoa", " Lê Lai ", "Nguyễn Lê Minh", "ton that an", "Tôn Văn Thất",
    "NguyÔn V¨n Hïng", "Hoà Hòa", "John Smith", "Ngô Bảo Châu", "Müller Hans", "Dương",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_the_name_shortcuts_give_what_the_text_functions_give(name: str) -> None:
    cleaned = validate.clean(name)
    assert cleaned is not None
    for order in ("family_first", "given_first"):
        want = split_name(cleaned, order=order)  # type: ignore[arg-type]
        assert _split(cleaned, order) == (want.family, want.middle, want.given)
    assert _legacy(name) == looks_like_legacy_encoding(name)
