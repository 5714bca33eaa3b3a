"""The loader: validated rows stream through COPY into `source_record` inside the batch's one
transaction, which is the staging area; their issues follow into `import_issue`.

Everything happens on the caller's connection and inside the caller's transaction: if the
process dies anywhere before the commit, PostgreSQL discards every row it was given, so there
is never a half-loaded batch, and a retry starts from a clean slate.

Rows arrive as `ChunkResult`s, COPY text made for a chunk of rows at once (`format_chunk`,
possibly in worker processes); `load` writes them in file order and does what needs the
whole file: flagging source keys repeated across chunks, counting, progress.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import repeat
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from typing import Any

import psycopg2
import sqlalchemy as sa

from importers.copytext import NULL, copy_json, copy_text
from importers.table import RawRow
from importers.validate import RECORD_COLUMNS, BulkResult, Issue, repeated_key

#: Columns a row is copied with (after batch_id): its identity, the raw row, the typed columns.
COPY_COLUMNS: tuple[str, ...] = (
    "row_number", "source_key", "raw", "status", "warnings", *RECORD_COLUMNS,
)  # fmt: skip
#: The columns of a chunk's lines before the typed ones (whose order a chunk gives).
ROW_COLUMNS: tuple[str, ...] = ("batch_id", *COPY_COLUMNS[:5])
#: Columns an issue is copied with into `import_issue`.
ISSUE_COLUMNS = (
    "batch_id", "row_number", "source_key", "column_name", "value", "problem", "severity",
)  # fmt: skip
#: How much COPY text is handed to the driver at a time.
CHUNK_CHARS = 1 << 20
#: Progress is reported each time this many more rows are loaded.
PROGRESS_EVERY = 10_000
_WARNINGS = ROW_COLUMNS.index("warnings")
#: (column, code) -> (rows with that problem, the message of its first one)
Problems = dict[tuple[str, str], tuple[int, str]]


@dataclass(frozen=True)
class LoadCounts:
    rows: int
    accepted: int
    rejected: int
    warnings: int  # warning issues, not rows
    problems: Problems = field(default_factory=dict)


def raw_json(raw: RawRow) -> str:
    """The raw row as a JSON array: its cells in the file's column order, as received (empty
    ones null), then any cells beyond the last heading. The headings are kept once, on the
    batch (`options.header`), not again in every row: they were two thirds of its bytes, and
    every later pass over `source_record` (matching, linking to persons) read them again."""
    return json.dumps(list(raw.values()), ensure_ascii=False, separators=(",", ":"))


def issues_json(issues: Iterable[Issue]) -> str:
    """A row's issues as the JSON of `source_record.warnings`."""
    return json.dumps([i.as_json() for i in issues], ensure_ascii=False)


def issue_line(batch_id: int, row_number: int, source_key: str | None, issue: Issue) -> str:
    """One issue in COPY text format, columns in `ISSUE_COLUMNS` order."""
    cells = (batch_id, row_number, source_key, issue.column, issue.value, issue.message,
             issue.severity)  # fmt: skip
    return "\t".join(copy_text(c) for c in cells) + "\n"


# --- a chunk of rows at a time --------------------------------------------------------------------


class RawJson:
    """`raw_json` of rows given as cells under a fixed heading, a chunk at a time.

    A row is `["` + its cells joined by `","` + `"]`, one C join per row, and its empty cells
    are then the only `""` in it (cells are separated by `","`, and none holds a quote), made
    `null` by one replace. Cells that JSON must escape (quotes, backslashes, control
    characters) are rare: they are found by counting quotes (exactly two per cell) and
    looking for a backslash or a control character in the chunk's JSON text as a whole, and
    a chunk that has any has its rows encoded cell by cell instead, as `json.dumps` does.
    """

    def rows(self, rows: list[list[str]]) -> list[str]:
        """Each row's JSON; cells are "" when empty (never None), as many in every row."""
        out = [f'["{cells}"]' for cells in map('","'.join, rows)]
        body = "".join(out)
        if (
            body.count('"') != 2 * sum(map(len, rows))
            or "\\" in body
            or len(encoded := body.encode("utf-8", "surrogatepass"))
            != len(encoded.translate(None, _CONTROLS))
        ):
            return list(map(self.escaped, rows))
        return [text.replace('""', "null") for text in out]

    @staticmethod
    def escaped(cells: list[str]) -> str:
        """One row's JSON, each cell encoded as `json.dumps` does."""
        return "[" + ",".join(encode_basestring(c) if c else "null" for c in cells) + "]"


#: The control characters, as bytes (`bytes.translate` deletes them in C).
_CONTROLS = bytes(range(0x20))


@dataclass
class ChunkResult:
    """A chunk of rows as COPY text, with what `load` needs to finish them in file order.

    `data`: the rows' lines in `ROW_COLUMNS` + typed columns order, UTF-8; `numbers` and
    `keys`: each row's number and source key; `issue_rows`: (row index, its issue lines) for
    the rows that have issues; `warnings`: warning issues in the chunk.
    """

    data: bytes
    numbers: list[int]
    keys: list[str | None]
    issue_rows: list[tuple[int, str]]
    accepted: int
    rejected: int
    warnings: int
    problems: Problems = field(default_factory=dict)


def format_chunk(
    batch_id: int,
    numbers: list[int],
    keys: list[str | None],
    raws: list[str],
    checked: BulkResult,
) -> ChunkResult:
    """Rows of one chunk as COPY text: numbers, source keys, raw JSON texts and the bulk
    validation of the rows, all in file order."""
    n = len(numbers)
    issues, rejected = checked.issues, checked.rejected
    status = ["accepted"] * n
    for i in rejected:
        status[i] = "rejected"
    warnings = ["[]"] * n
    issue_rows: list[tuple[int, str]] = []
    warning_count = 0
    problems: Problems = {}
    for i in sorted(issues):
        found = issues[i]
        for key, message in {(x.column or "", x.code): x.message for x in found}.items():
            _tally(problems, key, 1, message)
        texts = [_ISSUE_TEXTS.get(x) or _issue_texts(x) for x in found]
        warnings[i] = copy_json("[" + ", ".join([t[0] for t in texts]) + "]")
        key = keys[i]
        head = f"{batch_id}\t{numbers[i]}\t{NULL if key is None else copy_text(key)}\t"
        issue_rows.append((i, "".join([head + t[1] for t in texts])))
        warning_count += sum(issue.severity == "warning" for issue in found)
    lines = map(
        "\t".join,
        zip(
            repeat(str(batch_id)),
            map(str, numbers),
            [NULL if k is None else copy_text(k) for k in keys],
            map(copy_json, raws),
            status,
            warnings,
            checked.typed,
            strict=False,
        ),
    )
    text = "\n".join(lines) + "\n" if n else ""
    return ChunkResult(text.encode(), numbers, keys, issue_rows, n - len(rejected),
                       len(rejected), warning_count, problems)  # fmt: skip


#: Issue -> (its JSON in `issues_json`, its `issue_line` after the batch, row and key): the
#: issues of a file are mostly the same few objects from the validator's memos, repeated on
#: thousands of rows, and encoding each again was a tenth of the work on a file from outside.
_ISSUE_TEXTS: dict[Issue, tuple[str, str]] = {}
#: Entries before `_ISSUE_TEXTS` starts afresh (issues carrying a row's own value are unique).
ISSUE_TEXTS_SIZE = 10_000


def _issue_texts(issue: Issue) -> tuple[str, str]:
    """`issue` as `issues_json` writes it inside a row's list (`json.dumps` of a list joins
    its items with ", ") and as the end of its `issue_line`; remembered."""
    if len(_ISSUE_TEXTS) >= ISSUE_TEXTS_SIZE:
        _ISSUE_TEXTS.clear()
    cells = (issue.column, issue.value, issue.message, issue.severity)
    found = _ISSUE_TEXTS[issue] = (
        json.dumps(issue.as_json(), ensure_ascii=False),
        "\t".join([copy_text(c) for c in cells]) + "\n",
    )
    return found


def _tally(problems: Problems, key: tuple[str, str], rows: int, message: str) -> None:
    """Add `rows` rows to a (column, code) problem, keeping the message of its first row."""
    so_far, first = problems.get(key, (0, message))
    problems[key] = (so_far + rows, first)


def load(
    connection: sa.Connection,
    batch_id: int,
    typed_columns: tuple[str, ...],
    chunks: Iterable[ChunkResult],
    progress: Callable[[int], None] | None = None,
    *,
    table: str = "source_record",
    freeze: bool = False,
) -> LoadCounts:
    """COPY the chunks' rows into `source_record` (or `table`, the batch's load table, which
    with `freeze` was created in this transaction: COPY FREEZE writes its rows frozen, so no
    vacuum has to visit them again) and their issues into `import_issue`.

    The caller's transaction is the staging area: nothing is visible to anyone else until it
    commits, and nothing survives if it does not. Rows stream straight into their table, so
    PostgreSQL stores and indexes them while the next chunks are validated. A source key
    already used by an earlier row of the file gets its warning here, where the whole file
    is seen in order. Issues are spooled aside (to disk beyond a few MB) and copied after the
    rows.
    """
    counts = {"rows": 0, "accepted": 0, "rejected": 0, "warnings": 0}
    problems: Problems = {}
    first_row_of: dict[str, int] = {}  # source key -> first row using it
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024, mode="w+", encoding="utf-8")  # noqa: SIM115 (closed by the with below)

    def data() -> Iterator[bytes]:
        for chunk in chunks:
            repeats: dict[int, Issue] = {}
            for i, (key, number) in enumerate(zip(chunk.keys, chunk.numbers, strict=True)):
                if key is not None:
                    first = first_row_of.setdefault(key, number)
                    if first != number:
                        repeats[i] = repeated_key(key, first)
            before = counts["rows"]
            counts["rows"] += len(chunk.numbers)
            counts["accepted"] += chunk.accepted
            counts["rejected"] += chunk.rejected
            counts["warnings"] += chunk.warnings + len(repeats)
            for problem, (count, message) in chunk.problems.items():
                _tally(problems, problem, count, message)
            if repeats:
                yield _with_repeats(batch_id, chunk, repeats, spool)
            else:
                spool.write("".join(text for _, text in chunk.issue_rows))
                yield chunk.data
            if progress is not None:
                for n in range(before // PROGRESS_EVERY + 1, counts["rows"] // PROGRESS_EVERY + 1):
                    progress(n * PROGRESS_EVERY)

    with spool:
        _copy(connection, table, (*ROW_COLUMNS, *typed_columns), _Chunks(data()), freeze=freeze)
        spool.seek(0)
        _copy(connection, "import_issue", ISSUE_COLUMNS, spool)
    return LoadCounts(**counts, problems=problems)


def _with_repeats(
    batch_id: int, chunk: ChunkResult, repeats: dict[int, Issue], spool: Any
) -> bytes:
    """The chunk's lines with each repeated key's warning added last to its row's warnings
    (the rows' other columns do not change), and all its issue lines written to `spool`."""
    lines = chunk.data.split(b"\n")  # COPY text escapes newlines inside values
    for i, issue in repeats.items():
        fields = lines[i].split(b"\t")
        text = fields[_WARNINGS].decode()
        found = json.loads(text.replace("\\\\", "\\")) if text != "[]" else []
        found.append(issue.as_json())
        fields[_WARNINGS] = copy_json(json.dumps(found, ensure_ascii=False)).encode()
        lines[i] = b"\t".join(fields)
    issue_rows = dict(chunk.issue_rows)
    for i in sorted({*issue_rows, *repeats}):
        spool.write(issue_rows.get(i, ""))
        if i in repeats:
            spool.write(issue_line(batch_id, chunk.numbers[i], chunk.keys[i], repeats[i]))
    return b"\n".join(lines)


class _Chunks:
    """A read-only binary file over an iterator of byte strings, which is what `copy_expert`
    reads (whatever size it asks for: the driver sends each piece as it comes).

    The driver turns an exception raised while it reads into a QueryCanceled of its own;
    `error` keeps the original (a file rejected half way, a worker's failure) for `_copy`.
    """

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self.error: BaseException | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            for piece in self._pieces:
                if piece:
                    return piece
        except BaseException as exc:
            self.error = exc
            raise
        return b""

    def readline(self, size: int = -1) -> bytes:  # part of the file protocol; never called
        return self.read(size)


def _copy(
    connection: sa.Connection, table: str, columns: tuple[str, ...], data: Any,
    *, freeze: bool = False,
) -> None:  # fmt: skip
    """COPY `data` into `table`; an exception raised while reading `data` comes out as itself
    (the COPY, and so the transaction, has failed)."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    options = " WITH (FREEZE)" if freeze else ""
    try:
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN{options}", data, size=CHUNK_CHARS
        )
    except psycopg2.Error:
        error = getattr(data, "error", None)
        if error is not None:
            raise error from None
        raise
    finally:
        cursor.close()
