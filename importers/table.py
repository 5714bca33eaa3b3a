"""The shape every uploaded file is read into, whatever its format: a heading row, then data
rows as `RawRow`s (or `RecordBlock`s of them for the bulk path), each cell the text the clerk
typed in Unicode NFC, or None when empty.

`Layout` decides which cell goes under which heading and enforces the per-row limits; the
formats' readers (`importers.csv_source`, `importers.xlsx_source`) produce the records, and
`importers.blocks` turns them into a `Table`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

from importers.limits import Limits
from importers.rejections import FileRejected

if TYPE_CHECKING:
    from importers.blocks import BlockParser

RawRow = dict[str, str | None]
#: (row number as a spreadsheet shows it, cell texts with None for empty cells)
Record = tuple[int, list[str | None]]

EXTRA_PREFIX = "_extra_"


@dataclass(frozen=True)
class RecordBlock:
    """Consecutive records of a file, the unit of work of a bulk import: the text of CSV
    records as read (`count` of them, the first numbered `first_number`), which is cheap to
    hand to another process and is parsed there, or records already parsed (workbooks)."""

    first_number: int
    text: str = ""
    count: int = 0
    records: tuple[Record, ...] = ()
    #: Characters in the longest record's text: no cell of the block is longer.
    longest: int = 0


@dataclass
class Table:
    """One sheet of an uploaded file: the heading row and a one-pass stream of data rows.

    `rows` yields (row_number, raw_row); row_number is what a spreadsheet shows (heading row
    is 1 in a normal file). Iterate it once; close the table (or use `with`) if you stop early.
    `blocks` is the other way to read the same rows (use one or the other): `RecordBlock`s,
    which `parser` turns back into rows, possibly in another process.
    """

    header: list[str]
    rows: Iterator[tuple[int, RawRow]]
    format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    notes: list[str]
    _close: Callable[[], None] | None = field(default=None, repr=False, compare=False)
    parser: BlockParser | None = field(default=None, repr=False, compare=False)
    _blocks: Callable[[int], Iterator[RecordBlock]] | None = field(
        default=None, repr=False, compare=False
    )
    _open_blocks: list[Iterator[RecordBlock]] = field(
        default_factory=list, repr=False, compare=False
    )

    def blocks(self, size: int) -> Iterator[RecordBlock]:
        """The data rows as blocks of about `size` records, with the limits enforced as for
        `rows`; a read error is raised after the block of the rows before it."""
        assert self._blocks is not None
        blocks = self._blocks(size)
        self._open_blocks.append(blocks)
        return blocks

    def close(self) -> None:
        """Stop the row stream and release the open file; safe to call more than once."""
        close, self._close = self._close, None
        for stream in (self.rows, *self._open_blocks):
            stream_close = getattr(stream, "close", None)
            if stream_close is not None:
                stream_close()
        if close is not None:
            close()

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@dataclass
class Source:
    """An opened file before its heading row is read: its records, one pass, and what the
    `Table` reports about it. `close` releases the file; `what` names it in messages."""

    records: Iterable[Record]
    format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    notes: list[str]
    close: Callable[[], None]
    what: str


def nfc(text: str) -> str:
    """`text` in Unicode NFC (ASCII text already is)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based column index: 0 -> "A", 27 -> "AB"."""
    n, name = index + 1, ""
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


def column_name(index: int, heading: str | None = None) -> str:
    """How a message names a column: its letter, and its heading when it has one."""
    letter = column_letter(index)
    return f'column {letter} ("{heading}")' if heading else f"column {letter}"


def has_text(cell: str | None) -> bool:
    """A cell with something other than whitespace in it."""
    return cell is not None and not cell.isspace()


def is_blank(cells: list[str | None]) -> bool:
    """A row with no cell that `has_text`."""
    return not any(c is not None and not c.isspace() for c in cells)


def quote(value: str, width: int = 40) -> str:
    """A cell shown in a message: whitespace collapsed, cut at `width` characters."""
    value = " ".join(value.split())
    return f'"{value[:width]}..."' if len(value) > width else f'"{value}"'


def size_text(n: int) -> str:
    """A size in bytes as a person reads it ("1.5 MB")."""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


class Layout:
    """Which cell goes under which heading; checks each data row against the limits."""

    def __init__(self, row_number: int, cells: list[str | None], limits: Limits) -> None:
        self.limits = limits
        self.row_number = row_number
        if cells and cells[0] is not None:
            cells = [cells[0].lstrip("\ufeff") or None, *cells[1:]]  # a BOM left in the text
        check_lengths(row_number, cells, None, limits)
        named = [i for i, c in enumerate(cells) if has_text(c)]
        if not named:
            raise FileRejected("empty_file", "The file has no content: every row is blank.")
        if named[-1] + 1 > limits.max_columns:
            raise FileRejected(
                "too_many_columns",
                f"The heading row (row {row_number}) has {named[-1] + 1} columns; at most "
                f"{limits.max_columns} are allowed. Delete the columns that are not needed.",
            )
        self.width = len(cells)  # cells beyond this are "extra"
        self.columns: list[tuple[int, str]] = [(i, str(cells[i])) for i in named]
        self.blank = [i for i in range(self.width) if not has_text(cells[i])]
        self.header = [name for _, name in self.columns]
        self._names = dict(self.columns)
        self._reject_duplicates()

    def _reject_duplicates(self) -> None:
        seen: dict[str, list[int]] = {}
        for i, name in self.columns:
            seen.setdefault(" ".join(name.split()).casefold(), []).append(i)
        dupes = [where for where in seen.values() if len(where) > 1]
        if dupes:
            parts = [
                f'"{self._names[where[0]].strip()}" appears in columns '
                + ", ".join(column_letter(i) for i in where[:-1])
                + f" and {column_letter(where[-1])}"
                for where in dupes
            ]
            raise FileRejected(
                "duplicate_headers",
                "Some column headings are used more than once: " + "; ".join(parts) + ". "
                "Each column needs its own heading (capital letters and spaces do not make "
                "two headings different). Rename or remove the repeated columns.",
            )

    def row(self, row_number: int, cells: list[str | None]) -> RawRow:
        limits = self.limits
        check_lengths(row_number, cells, self, limits)
        n = len(cells)
        raw: RawRow = {name: (cells[i] if i < n else None) for i, name in self.columns}
        for i in self.blank:
            if i < n and has_text(cells[i]):
                raise FileRejected(
                    "blank_header",
                    f"{column_name(i).capitalize()} has no heading, but row {row_number} has a "
                    f"value in it ({quote(str(cells[i]))}). Type a heading for column "
                    f"{column_letter(i)} in row {self.row_number}, or delete the values under it.",
                )
        if n > self.width:
            extra = cells[self.width :]
            last = max((j for j, c in enumerate(extra) if c is not None), default=-1)
            if self.width + last + 1 > limits.max_columns:
                raise FileRejected(
                    "too_many_columns",
                    f"Row {row_number} has values up to column "
                    f"{column_letter(self.width + last)} ({self.width + last + 1} columns); "
                    f"at most {limits.max_columns} are allowed.",
                )
            for j in range(last + 1):
                raw[f"{EXTRA_PREFIX}{j + 1}"] = extra[j]
        return raw

    def heading(self, index: int) -> str | None:
        return self._names.get(index)


def check_lengths(
    row_number: int, cells: list[str | None], layout: Layout | None, limits: Limits
) -> None:
    longest = limits.max_cell_chars
    for i, c in enumerate(cells):
        if c is not None and len(c) > longest:
            where = column_name(i, layout.heading(i) if layout else None)
            hint = ""
            if "\n" in c and c.count('"') == 0:
                hint = (
                    ' It spans several lines, which usually means a double quote (") '
                    f"opened in row {row_number} was never closed."
                )
            raise FileRejected(
                "cell_too_long",
                f"Row {row_number}, {where} has {len(c):,} characters; at most {longest:,} "
                f"are allowed in one cell.{hint}",
            )
