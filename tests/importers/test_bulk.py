"""The bulk path (blocks of records, column-wise validation, COPY text per chunk, worker
processes) gives exactly what the row-at-a-time reference gives: same lines, same issues."""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import importers.loader as loader
from importers.chunks import ChunkWork
from importers.limits import Limits
from importers.loader import COPY_COLUMNS, ROW_COLUMNS, issue_line, load
from importers.mapping import MappingProfile
from importers.parallel import OrderedPool
from importers.readers import open_table
from importers.recognise import resolve_profile
from importers.rejections import FileRejected
from importers.validate import RowValidator, repeated_key
from tests.importers.messy import messy_rows
from tests.support.dc01 import HEADERS, fake_rows, write_csv
from tests.support.reference_rows import StagedRow, copy_line
from tests.support.reference_validate import validate_row

TODAY = dt.date(2026, 11, 23)
NO_LIMITS = Limits()  # the defaults
BATCH = 7


def validator(bound: Any) -> RowValidator:
    return RowValidator(
        collected_on=dt.date(2026, 3, 1),
        communes_in_force={"00004", "26740"},
        vintage="2025-07",
        known_codes={"00004", "26740", "00667", "01", "79", "001", "004"},
        province_of={"00667": "01", "00004": "01"},
        name_order=bound.profile.name_order,
        name_columns="Họ, chữ đệm và tên khai sinh",
        today=TODAY,
    )


def reference(
    path: Path, limits: Limits = NO_LIMITS, profile: MappingProfile | None = None
) -> tuple[list[str], list[str]]:
    """What the importer did one row at a time: COPY lines and issue lines."""
    lines: list[str] = []
    issues: list[str] = []
    first_row_of: dict[str, int] = {}
    with open_table(path, limits=limits) as table:
        bound = resolve_profile(table.header, profile)
        v = validator(bound)
        for number, raw in table.rows:
            key = bound.source_key(raw)
            result = validate_row(v, number, bound.map_row(raw), key)
            if key is not None:
                first = first_row_of.setdefault(key, number)
                if first != number:
                    result.issues.append(repeated_key(key, first))
            lines.append(copy_line(BATCH, StagedRow(raw, result)))
            issues += [issue_line(BATCH, number, key, i) for i in result.issues]
    return lines, issues


def bulk(
    path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    workers: int,
    chunk_rows: int,
    limits: Limits = NO_LIMITS,
    profile: MappingProfile | None = None,
) -> tuple[list[str], list[str], list[int]]:
    """The bulk path's COPY lines (columns put in the reference's order), issue lines and
    progress reports."""
    copied: dict[str, tuple[tuple[str, ...], bytes]] = {}

    def capture(
        connection: Any, table: str, columns: tuple[str, ...], data: Any, **options: Any
    ) -> None:
        pieces = []
        while piece := data.read(1 << 20):
            pieces.append(piece if isinstance(piece, bytes) else piece.encode())
        copied[table] = (columns, b"".join(pieces))

    monkeypatch.setattr(loader, "_copy", capture)
    progress: list[int] = []
    with open_table(path, limits=limits) as table:
        bound = resolve_profile(table.header, profile)
        work = ChunkWork(BATCH, table.parser, bound, validator(bound))  # type: ignore[arg-type]
        with OrderedPool(work, workers=workers) as pool:
            counts = load(
                None,  # type: ignore[arg-type]
                BATCH,
                work.typed_columns,
                pool.map(table.blocks(chunk_rows)),
                progress.append,
            )
    columns, data = copied["source_record"]
    assert columns[: len(ROW_COLUMNS)] == ROW_COLUMNS
    order = [columns.index(c) for c in ("batch_id", *COPY_COLUMNS)]
    lines = []
    for line in data.decode().splitlines():
        fields = line.split("\t")
        lines.append("\t".join(fields[i] for i in order) + "\n")
    issues = copied["import_issue"][1].decode().splitlines(keepends=True)
    assert counts.rows == len(lines)
    assert counts.warnings == sum(line.endswith("\twarning\n") for line in issues)
    return lines, issues, progress


@pytest.fixture(scope="module")
def messy_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("bulk") / "messy.csv", messy_rows(3_000))


def test_a_clean_file_gives_the_reference_lines_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No cell to escape, no odd row: the fastest way through every step."""
    path = write_csv(tmp_path / "clean.csv", fake_rows(3_000, seed=9))
    lines, issues, _ = bulk(path, monkeypatch, workers=2, chunk_rows=500)
    assert (lines, issues) == reference(path)


def test_old_card_numbers_in_the_pin_column_without_a_cmnd_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file with one "Số CMND/CCCD" column and no old-card column of its own: the bulk path
    writes the moved old numbers into other_id_number as the reference does."""
    headers = [h for h in HEADERS if h != "Số CMND"]
    at = headers.index("Số định danh cá nhân")
    rows = []
    for i, full in enumerate(fake_rows(400, seed=3)):
        cells = [c for h, c in zip(HEADERS, full, strict=True) if h != "Số CMND"]
        if i % 3 == 0:
            cells[at] = f"{(i * 7919) % 10**9:09d}"  # an old card number instead
        rows.append(cells)
    path = write_csv(tmp_path / "cccd.csv", rows, headers=headers)
    lines, issues, _ = bulk(path, monkeypatch, workers=1, chunk_rows=50)
    want_lines, want_issues = reference(path)
    assert (lines, issues) == (want_lines, want_issues)
    assert sum("in the personal ID number column" in i for i in issues) == 134
    moved = f"{(3 * 7919) % 10**9:09d}"
    assert lines[3].count(f"\t{moved}\t") == 1  # typed as the other id (the raw is JSON)


@pytest.mark.parametrize(("workers", "chunk_rows"), [(1, 2_000), (1, 7), (2, 50), (3, 1)])
def test_the_bulk_path_gives_the_reference_lines_and_issues(
    messy_file: Path, monkeypatch: pytest.MonkeyPatch, workers: int, chunk_rows: int
) -> None:
    want_lines, want_issues = reference(messy_file)
    lines, issues, _ = bulk(messy_file, monkeypatch, workers=workers, chunk_rows=chunk_rows)
    assert len(lines) == len(want_lines) > 2_900
    for got, want in zip(lines, want_lines, strict=True):
        assert got == want
    assert issues == want_issues


def test_the_messy_file_exercises_what_it_should(messy_file: Path) -> None:
    lines, issues = reference(messy_file)
    statuses = {line.split("\t")[4] for line in lines}
    assert statuses == {"accepted", "rejected"}
    problems = "".join(issues)
    for code in ("Row ", "no name", "leading zero", "old Vietnamese font", "not in the official"):
        assert code in problems, code


def test_progress_is_reported_every_ten_thousand_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path / "a.csv", messy_rows(25_000, seed=3))
    for workers in (1, 2):
        *_, progress = bulk(path, monkeypatch, workers=workers, chunk_rows=2_000)
        assert progress == [10_000, 20_000]


@pytest.mark.parametrize("workers", [1, 2])
def test_an_error_after_some_rows_is_the_reference_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """The first error in file order wins, whether a worker or the reader meets it."""
    rows = list(messy_rows(300, seed=5))
    rows[120] = [*rows[120], *["x"] * 300]  # too many columns at row 122
    path = write_csv(tmp_path / "a.csv", rows)
    small = Limits(max_rows=200)
    for limits, code in ((NO_LIMITS, "too_many_columns"), (small, "too_many_columns")):
        with pytest.raises(FileRejected) as want:
            reference(path, limits)
        with pytest.raises(FileRejected) as got:
            bulk(path, monkeypatch, workers=workers, chunk_rows=16, limits=limits)
        assert (got.value.code, got.value.message) == (want.value.code, want.value.message)
        assert got.value.code == code
    too_few = Limits(max_rows=100)  # now the reader's limit comes first
    with pytest.raises(FileRejected, match="passed at row 10") as got:
        bulk(path, monkeypatch, workers=workers, chunk_rows=16, limits=too_few)
    with pytest.raises(FileRejected) as want:
        reference(path, too_few)
    assert got.value.message == want.value.message


# --- reading: blocks of records are the rows ------------------------------------------------

_CELL = st.one_of(
    st.text(alphabet=string.ascii_letters[:4] + ' ,;"\r\n\t\\\x00éê\u0301\u037e ', max_size=6),
    st.sampled_from(['"e"\u0301', '"a""b"', '"multi\nline"', '"unclosed', 'x"y', "", " ", "\t",
                     "e\u0301", '"\u0301"', '"q"x', "a\x00", "0123456789abcdef",
                     "a\u037eb", "A\u030a\u0323", "\u1100\u1161"]),
)  # fmt: skip


def _rows_read(path: Path, *, blocks: int | None, limits: Limits | None = None) -> list[Any]:
    """(number, raw) of every row, then the error; through `rows` or `blocks` + parser."""
    got: list[Any] = []
    limits = limits or Limits(max_rows=12, max_cell_chars=12)
    try:
        with open_table(path, limits=limits) as table:
            if blocks is None:
                got.extend(table.rows)
            else:
                parser = table.parser
                assert parser is not None
                for block in table.blocks(blocks):
                    records, error = parser.records(block)
                    for number, fields in records:
                        cells, raw = parser.row(number, fields)
                        got.append(
                            (
                                number,
                                raw
                                or dict(zip(table.header, [c or None for c in cells], strict=True)),
                            )
                        )
                    if error is not None:
                        raise error
    except FileRejected as exc:
        got.append((exc.code, exc.message))
    return got


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@example(lines=[["a", "b"]] * 5 + [["", " "]] * 3 + [["c"]] * 10, ends="\n", size=3, sep=",")
# A block normalised as one text (decomposed accents) must cut into the same cells; the Greek
# question mark U+037E becomes ";" in NFC, which would add a cell to a ";" file.
@example(lines=[["e\u0301", "a\u037eb"], ["x"]], ends="\n", size=2, sep=";")
@example(lines=[["e\u0301", '"e"\u0301'], ["x"]], ends="\n", size=2, sep=",")
@given(
    lines=st.lists(
        st.one_of(st.lists(_CELL, min_size=1, max_size=5), st.just(["", " ", ""])),
        min_size=2,
        max_size=30,
    ),
    ends=st.sampled_from(["\n", "\r\n", "\r"]),
    size=st.integers(1, 9),
    sep=st.sampled_from([",", ";"]),
)
def test_blocks_parse_to_the_rows_that_reading_row_by_row_gives(
    tmp_path_factory: pytest.TempPathFactory, lines: list[list[str]], ends: str, size: int, sep: str
) -> None:
    path = tmp_path_factory.mktemp("csv") / "f.csv"
    text = sep.join(("h1", "h2", "h3")) + ends + ends.join(sep.join(c) for c in lines) + ends
    path.write_text(text, encoding="utf-8", newline="")
    assert _rows_read(path, blocks=size) == _rows_read(path, blocks=None)


def test_issues_are_written_as_the_reference_writes_them_when_remembered_or_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`format_chunk` remembers each issue's text; a row's warnings and issue lines are still
    `issues_json` and `issue_line` of its issues, for issues seen again, new, or after the
    memory started afresh, with values that COPY and JSON must escape."""
    from importers.loader import format_chunk, issues_json
    from importers.validate import BulkResult, Issue

    monkeypatch.setattr(loader, "ISSUE_TEXTS_SIZE", 2)
    odd = Issue("phone", "SĐT", 'a\t"b"\\\nc ý', "unusual_phone", "Kept\tas\nwritten ✓")
    plain = Issue("dob", None, None, "placeholder_jan_1", "1 January …", "warning")
    error = Issue("full_name", "Họ tên", None, "no_name", "No name.", "error")
    issues = {0: [odd, plain], 1: [plain], 3: [error, odd, plain, odd]}
    for _ in range(3):  # the second and third time from memory (or from a fresh one)
        got = format_chunk(
            7, [2, 3, 4, 5], ["k\t1", None, "k3", "k\\4"], ["[]"] * 4,
            BulkResult(["\\N"] * 4, issues, [3]),
        )  # fmt: skip
        lines = got.data.decode().split("\n")
        for i, found in issues.items():
            fields = lines[i].split("\t")
            assert fields[ROW_COLUMNS.index("warnings")] == issues_json(found).replace("\\", "\\\\")
        want = [
            (i, "".join(issue_line(7, n, k, x) for x in issues[i]))
            for i, (n, k) in enumerate(zip([2, 3, 4, 5], ["k\t1", None, "k3", "k\\4"], strict=True))
            if i in issues
        ]  # fmt: skip
        assert got.issue_rows == want
        assert got.warnings == 6


def test_lines_without_quotes_are_taken_as_records_without_the_csv_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The main process only needs each record's text: a block of lines holding no quote is
    cut at its line ends (the csv reader ran on every record before: 2.0 of 19.6 profiled
    seconds for 300k DC01 rows). A quoted cell, even one running on past the block, still goes
    through csv, and the blocks are what reading row by row gives."""
    from importers.csv_source import TextRecords

    lines = [f"r{i},x{i}, " for i in range(40)] + [" , ,", ""]
    lines[25] = 'q,"two\nlines",z'
    path = tmp_path / "f.csv"
    path.write_text("h1,h2,h3\n" + "\n".join(lines) + "\n", encoding="utf-8", newline="")
    calls = []
    real = TextRecords._next

    def counted(self: TextRecords) -> Any:
        calls.append(self.number)
        return real(self)

    monkeypatch.setattr(TextRecords, "_next", counted)
    assert _rows_read(path, blocks=10, limits=NO_LIMITS) == _rows_read(
        path, blocks=None, limits=NO_LIMITS
    )
    calls.clear()
    _rows_read(path, blocks=10, limits=NO_LIMITS)
    # the heading, the first record (read ahead by open_table), then only the block holding
    # the quoted cell: its ten lines are nine records (23-31), the last line (32) is cut fast
    assert calls == [0, 1, *range(22, 31)]


def test_a_bad_byte_after_quote_free_rows_names_the_row_reading_row_by_row_names(
    tmp_path: Path,
) -> None:
    from importers.csv_source import SAMPLE_BYTES

    row = "abc,def,ghi\n"
    count = SAMPLE_BYTES // len(row) + 50
    path = tmp_path / "f.csv"
    path.write_bytes(b"h1,h2,h3\n" + row.encode() * count + b"x\xff,y,z\n" + row.encode() * 5)
    for size in (7, 1000, 5000):
        got = _rows_read(path, blocks=size, limits=NO_LIMITS)
        assert got == _rows_read(path, blocks=None, limits=NO_LIMITS)
        assert got[-1][0] == "bad_encoding"  # "after row N": where the decoder met it
        assert len(got) > count - 1000


_JSON_CELL = st.one_of(
    st.just(""),
    st.text(alphabet='ab ý"\\\t\n\r\x00\x1f,[]nul', max_size=6),
    st.sampled_from(['""', '","', "null", '"]', "\\u0000", "ủy ban", '"a"']),
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 6).flatmap(
        lambda width: st.lists(st.lists(_JSON_CELL, min_size=width, max_size=width), max_size=8)
    )
)
@example(rows=[["", "", ""], ["a", "", "b"]])
@example(rows=[['""', ""], ["", "x"]])
def test_raw_json_of_a_chunk_is_json_dumps_of_each_row(rows: list[list[str]]) -> None:
    """`RawJson.rows` (one join per row, empty cells made null by replacing `""`) is
    `raw_json` of each row: json.dumps of its cells, empty ones null, whatever they hold."""
    import json

    want = [
        json.dumps([c or None for c in r], ensure_ascii=False, separators=(",", ":"))
        for r in rows
    ]  # fmt: skip
    assert loader.RawJson().rows(rows) == want


def test_raw_json_of_a_chunk_without_escapes_is_not_encoded_cell_by_cell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a chunk that holds a quote, backslash or control character is encoded cell by
    cell; the others are joined whole (the fast path is the one taken on clean files)."""
    calls: list[list[str]] = []
    monkeypatch.setattr(loader.RawJson, "escaped", staticmethod(lambda c: calls.append(c) or ""))
    rows = [["Nguyễn Văn An", "", "01/02/1990"], ["", "", ""]]
    assert loader.RawJson().rows(rows) == [
        '["Nguyễn Văn An",null,"01/02/1990"]',
        "[null,null,null]",
    ]
    assert calls == []
    loader.RawJson().rows([*rows, ["a\tb", "", ""]])
    assert len(calls) == 3
