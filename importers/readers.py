"""Read an uploaded citizen file (CSV in any common encoding, or .xlsx) as a stream of rows.

`open_table` looks at the bytes, not the file name: a ZIP archive is read as an Excel
workbook, anything else as delimited text. The heading row is checked at once (so a bad file
is rejected before anything is written); the size limits are enforced while the rows stream,
by raising `FileRejected` mid-iteration (the loader is transactional).

Every cell comes back as the text the clerk typed, in Unicode NFC, or None when empty. Nothing
is dropped: cells beyond the heading row are kept under "_extra_1", "_extra_2", ...
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import accumulate, chain
from pathlib import Path
from types import TracebackType
from typing import Any

from importers.limits import Limits
from importers.rejections import FileRejected

RawRow = dict[str, str | None]
#: (row number as a spreadsheet shows it, cell texts with None for empty cells)
_Record = tuple[int, list[str | None]]

#: Bytes of a text file looked at to choose its encoding and delimiter.
SAMPLE_BYTES = 1024 * 1024
#: Delimiters recognised in the heading row, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")
#: A real workbook has tens of parts; a ZIP directory far larger than this is hostile.
MAX_XLSX_PARTS = 10_000
MAX_XLSX_DIRECTORY_BYTES = 4 * 1024 * 1024
#: Below this uncompressed size the compression ratio is not checked (nothing to fear).
XLSX_RATIO_FLOOR_BYTES = 1024 * 1024
EXTRA_PREFIX = "_extra_"

_ZIP_MAGIC = b"PK\x03\x04"
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # (bom, codec used after skipping it, name reported) - UTF-32 before UTF-16: same prefix.
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)
_ARCHIVE = (
    "This is a compressed archive, not a spreadsheet. Unpack it and upload the Excel "
    "or CSV file inside."
)
_IMAGE = "This is a picture, not a spreadsheet. Upload the Excel or CSV file instead."
_FOREIGN_MAGIC: tuple[tuple[bytes, str], ...] = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "This is an old-style Excel file (.xls, Excel 97-2003) or a password-protected "
        'workbook. Open it in Excel, remove any password, and save it as "Excel Workbook '
        '(.xlsx)" or "CSV UTF-8", then upload it again.',
    ),
    (b"%PDF", "This is a PDF document, not a spreadsheet. Upload the Excel or CSV file instead."),
    (b"\x1f\x8b", _ARCHIVE),
    (b"Rar!", _ARCHIVE),
    (b"7z\xbc\xaf\x27\x1c", _ARCHIVE),
    (b"\x89PNG", _IMAGE),
    (b"\xff\xd8\xff", _IMAGE),
    (b"GIF8", _IMAGE),
)
#: C0 control characters other than tab, line feed and carriage return, plus DEL.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20)) + b"\x7f"
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_SEP_LINE = re.compile(r"sep=(.)(\r\n|\n|\r)")


@dataclass(frozen=True)
class RecordBlock:
    """Consecutive records of a file, the unit of work of a bulk import: the text of CSV
    records as read (`count` of them, the first numbered `first_number`), which is cheap to
    hand to another process and is parsed there, or records already parsed (workbooks)."""

    first_number: int
    text: str = ""
    count: int = 0
    records: tuple[_Record, ...] = ()
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


_DEFAULT_LIMITS = Limits()


def open_table(
    path: Path,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
    limits: Limits = _DEFAULT_LIMITS,
) -> Table:
    """Open an uploaded file, check its heading row, and return its rows as a stream.

    `encoding` and `delimiter` apply to text files only (detected when not given); `sheet`
    to workbooks only (the first worksheet when not given). Raises `FileRejected`.
    """
    path = Path(path)
    if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
        raise ValueError(
            f"delimiter must be one character other than a quote or newline: {delimiter!r}"
        )
    size = path.stat().st_size
    if size == 0:
        raise FileRejected(
            "empty_file",
            "The file is empty (0 bytes). Check that you chose "
            "the right file and that it was saved before uploading.",
        )
    if size > limits.max_file_bytes:
        raise FileRejected(
            "file_too_large",
            f"The file is {_size(size)}, more than the {_size(limits.max_file_bytes)} allowed "
            "for one upload. Split it into smaller files and upload each one.",
        )
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(_ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return _open_xlsx(path, size, sheet, limits)
    for magic, message in _FOREIGN_MAGIC:
        if head.startswith(magic):
            raise FileRejected("unknown_format", message)
    return _open_text(path, size, encoding, delimiter, sheet, limits)


# ---------------------------------------------------------------------------------------------
# Shared: heading row, blank rows, extra cells, limits.


def column_letter(index: int) -> str:
    """Spreadsheet column name of a 0-based column index: 0 -> "A", 27 -> "AB"."""
    n, name = index + 1, ""
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


def _column(index: int, heading: str | None = None) -> str:
    letter = column_letter(index)
    return f'column {letter} ("{heading}")' if heading else f"column {letter}"


def _has_text(cell: str | None) -> bool:
    return cell is not None and not cell.isspace()


def _is_blank(cells: list[str | None]) -> bool:
    return not any(c is not None and not c.isspace() for c in cells)


def _quote(value: str, width: int = 40) -> str:
    value = " ".join(value.split())
    return f'"{value[:width]}..."' if len(value) > width else f'"{value}"'


def _size(n: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}".replace(".0 ", " ")
    return f"{n} bytes"


class _Layout:
    """Which cell goes under which heading; checks each data row against the limits."""

    def __init__(self, row_number: int, cells: list[str | None], limits: Limits) -> None:
        self.limits = limits
        self.row_number = row_number
        if cells and cells[0] is not None:
            cells = [cells[0].lstrip("\ufeff") or None, *cells[1:]]  # a BOM left in the text
        _check_lengths(row_number, cells, None, limits)
        named = [i for i, c in enumerate(cells) if _has_text(c)]
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
        self.blank = [i for i in range(self.width) if not _has_text(cells[i])]
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
        _check_lengths(row_number, cells, self, limits)
        n = len(cells)
        raw: RawRow = {name: (cells[i] if i < n else None) for i, name in self.columns}
        for i in self.blank:
            if i < n and _has_text(cells[i]):
                raise FileRejected(
                    "blank_header",
                    f"{_column(i).capitalize()} has no heading, but row {row_number} has a "
                    f"value in it ({_quote(str(cells[i]))}). Type a heading for column "
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


def _check_lengths(
    row_number: int, cells: list[str | None], layout: _Layout | None, limits: Limits
) -> None:
    longest = limits.max_cell_chars
    for i, c in enumerate(cells):
        if c is not None and len(c) > longest:
            where = _column(i, layout.heading(i) if layout else None)
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


def _assemble(
    records: Iterable[_Record],
    *,
    format: str,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    notes: list[str],
    limits: Limits,
    close: Callable[[], None],
    what: str,
) -> Table:
    """Read the heading row and the first data row now; stream the rest."""
    try:
        nonblank = (r for r in records if not _is_blank(r[1]))
        first = next(nonblank, None)
        if first is None:
            raise FileRejected("empty_file", f"{what} has no content: every row is blank.")
        header_number, header_cells = first
        layout = _Layout(header_number, header_cells, limits)
        peeked = next(nonblank, None)
        if peeked is None:
            raise FileRejected(
                "header_only",
                f"{what} has a heading row (row {header_number}) but no data rows under it.",
            )
        first_row = (peeked[0], layout.row(*peeked))
    except BaseException:
        close()
        raise

    def too_many(number: int) -> FileRejected:
        return FileRejected(
            "too_many_rows",
            f"{what} has more than {limits.max_rows:,} data rows (the limit was "
            f"passed at row {number}). Split it into smaller files of at most "
            f"{limits.max_rows:,} rows each.",
        )

    def blocks(size: int) -> Iterator[RecordBlock]:
        try:
            yield RecordBlock(peeked[0], records=(peeked,))
            count = 1
            if isinstance(records, _TextRecords):
                for first, texts, blanks in records.blocks(size):
                    rows = len(texts) - sum(blanks)
                    if count + rows > limits.max_rows:
                        passed = next(
                            i for i, n in enumerate(accumulate(not b for b in blanks))
                            if count + n > limits.max_rows
                        )  # fmt: skip
                        if passed:
                            yield _text_block(first, texts[:passed])
                        raise too_many(first + passed)
                    count += rows
                    yield _text_block(first, texts)
                return
            batch: list[_Record] = []
            for number, cells in nonblank:
                count += 1
                if count > limits.max_rows:
                    if batch:
                        yield RecordBlock(batch[0][0], records=tuple(batch))
                    raise too_many(number)
                batch.append((number, cells))
                if len(batch) == size:
                    yield RecordBlock(batch[0][0], records=tuple(batch))
                    batch = []
            if batch:
                yield RecordBlock(batch[0][0], records=tuple(batch))
        finally:
            close()

    def rows() -> Iterator[tuple[int, RawRow]]:
        try:
            yield first_row
            count = 1
            for number, cells in nonblank:
                count += 1
                if count > limits.max_rows:
                    raise too_many(number)
                yield number, layout.row(number, cells)
        finally:
            close()

    return Table(
        header=layout.header,
        rows=rows(),
        format=format,
        encoding=encoding,
        delimiter=delimiter,
        sheet=sheet,
        notes=notes,
        _close=close,
        parser=BlockParser(layout, delimiter),
        _blocks=blocks,
    )


def _text_block(first: int, texts: list[str]) -> RecordBlock:
    return RecordBlock(first, "".join(texts), len(texts), longest=max(map(len, texts)))


class BlockParser:
    """Turns `RecordBlock`s back into rows, where the work is done: what `Table.rows` does
    to each record after reading it (cells, blank rows, `_Layout.row`), minus the reading."""

    def __init__(self, layout: _Layout, delimiter: str | None) -> None:
        self.layout = layout
        self.delimiter = delimiter
        # Rows of exactly the heading's width, with no blank heading and no cell over the
        # limit, need none of `_Layout.row`'s checks and are their cells in heading order.
        self._plain_width = layout.width if not layout.blank else -1

    def records(self, block: RecordBlock) -> tuple[list[tuple[int, list[str]]], Exception | None]:
        """The block's non-blank records as (number, fields), fields "" for an empty cell,
        in NFC; and the error reading them raised (NUL characters), after the rows before it.
        """
        if not block.text:
            return [
                (n, ["" if c is None else c for c in cells]) for n, cells in block.records
            ], None
        text = block.text
        rows = list(_csv_reader(io.StringIO(text, newline=""), self.delimiter or ","))
        if len(rows) != block.count:
            raise RuntimeError(f"block of {block.count} records parsed as {len(rows)}")
        out: list[tuple[int, list[str]]] = []
        if "\x00" not in text and self._nfc_already(text):
            number = block.first_number
            for fields in rows:
                if not _fields_blank(fields):
                    out.append((number, fields))
                number += 1
            return out, None
        for number, fields in enumerate(rows, block.first_number):
            try:
                cells = _cells(number, fields)
            except FileRejected as exc:
                return out, exc
            if not _is_blank(cells):
                out.append((number, ["" if c is None else c for c in cells]))
        return out, None

    def _nfc_already(self, text: str) -> bool:
        """Whether every cell of `text` is in NFC, so `_nfc` would change none of them.

        Cells are cut out of the text at ASCII delimiters, quotes and line ends, which no
        character combines with, so a text in NFC has its cells in NFC; except where csv
        drops a quote between a character and a combining mark after it ("e"\u0301).
        """
        return (
            (self.delimiter or ",").isascii()
            and unicodedata.is_normalized("NFC", text)
            and _QUOTE_THEN_NON_ASCII.search(text) is None
        )

    def plain(self, block: RecordBlock, rows: list[list[str]]) -> bool:
        """Whether `row` would return every one of these rows (of `block`) as it is."""
        if not rows or {len(fields) for fields in rows} != {self._plain_width}:
            return False
        longest = block.longest if block.text else max(map(len, chain.from_iterable(rows)))
        return longest <= self.layout.limits.max_cell_chars

    def row(self, number: int, fields: list[str]) -> tuple[list[str], RawRow | None]:
        """A record as cells in heading order ("" or None when empty), and its raw row when
        that is not simply the cells under the headings (extra cells, blank headings). Raises
        what `_Layout.row` raises."""
        if (
            len(fields) == self._plain_width
            and max(map(len, fields)) <= self.layout.limits.max_cell_chars
        ):
            return fields, None
        raw = self.layout.row(number, [f or None for f in fields])
        return [raw[h] or "" for h in self.layout.header], raw


_QUOTE_THEN_NON_ASCII = re.compile(r'"[^\x00-\x7f]')


# ---------------------------------------------------------------------------------------------
# Delimited text.


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _control_count(data: bytes) -> int:
    return len(data.translate(None, _NOT_CONTROL_BYTES))


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the bytes look like mostly-ASCII UTF-16, else None."""
    half = len(sample) // 2
    if half < 2:
        return None
    even, odd = sample[0 : 2 * half : 2].count(0), sample[1 : 2 * half : 2].count(0)
    if odd > 0.3 * half and even < 0.02 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.02 * half:
        return "utf-16-be"
    return None


def _garbage(detail: str) -> FileRejected:
    return FileRejected(
        "binary_garbage",
        f"This does not look like a spreadsheet or a text (CSV) file: {detail}. It may be "
        "damaged, or a different kind of file. Open it in Excel and save it as "
        '"Excel Workbook (.xlsx)" or "CSV UTF-8", then upload it again.',
    )


def _bad_encoding(name: str, where: str) -> FileRejected:
    return FileRejected(
        "bad_encoding",
        f"The file cannot be read as {name} text: {where} there are bytes that are not "
        f'valid {name}. Save the file again as "CSV UTF-8" in Excel, or tell us which '
        "character encoding it uses.",
    )


def _choose_encoding(sample: bytes, named: str | None, notes: list[str]) -> tuple[str, int, str]:
    """(codec to decode with, bytes of BOM to skip, encoding name to report)."""
    bom = next(((b, codec, label) for b, codec, label in _BOMS if sample.startswith(b)), None)
    if named is not None:
        try:
            info = codecs.lookup(named)
        except LookupError:
            raise FileRejected(
                "bad_encoding",
                f'"{named}" is not a character encoding we know. Common ones are utf-8, '
                "windows-1258 and utf-16.",
            ) from None
        if bom is None:
            return info.name, 0, info.name
        family = re.sub(r"[-_](sig|le|be)$", "", info.name)
        if family != re.sub(r"-(sig|le|be)$", "", bom[2]):
            shown = bom[2].removesuffix("-sig").upper()
            notes.append(
                f"The file starts with a {shown} byte order mark, so it was read as {shown} "
                f"instead of {named}."
            )
        return bom[1], len(bom[0]), bom[2]
    if bom is not None:
        return bom[1], len(bom[0]), bom[2]
    utf16 = _utf16_without_bom(sample)
    if utf16 is not None:
        notes.append(
            f"The file has no byte order mark; it was read as {utf16.upper()} "
            "because of its byte pattern."
        )
        return utf16, 0, utf16
    nul = sample.find(b"\x00")
    if nul >= 0:
        raise _garbage(f"it contains NUL bytes (the first at byte {nul:,})")
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        notes.append("decoded as windows-1258")
        return "cp1258", 0, "cp1258"
    return "utf-8", 0, "utf-8"


def _decode_sample(sample: bytes, codec: str, label: str, at_eof: bool) -> str:
    try:
        text: str = codecs.getincrementaldecoder(codec)("strict").decode(sample, final=at_eof)
    except UnicodeDecodeError as exc:
        if _control_count(sample) > 0.01 * len(sample) + 4:
            raise _garbage("it is full of control characters") from None
        raise _bad_encoding(label, f"near byte {exc.start:,}") from None
    nul = text.find("\x00")
    if nul >= 0:
        raise _garbage(f"it contains NUL characters (the first at character {nul:,})")
    controls = len(_CONTROL_CHARS.findall(text))
    if controls > 0.01 * len(text) + 4:
        raise _garbage(f"{controls:,} control characters in the first {len(text):,}")
    return text


def _reject_foreign_text(text: str) -> None:
    start = text.lstrip("\ufeff \t\r\n")[:2000].lower()
    if start.startswith("<?xml") and "urn:schemas-microsoft-com:office:spreadsheet" in start:
        raise FileRejected(
            "unknown_format",
            'This is an "XML Spreadsheet 2003" file. Open it in Excel and save it as '
            '"Excel Workbook (.xlsx)" or "CSV UTF-8", then upload it again.',
        )
    if start.startswith(("<!doctype html", "<html", "<table", "<?xml")):
        raise FileRejected(
            "unknown_format",
            "This file is a web page (HTML/XML), even if its name ends in .xls or .csv; "
            "some programs export tables this way. Open it in Excel and save it as "
            '"Excel Workbook (.xlsx)" or "CSV UTF-8", then upload it again.',
        )


def _first_line(text: str) -> str:
    """The first non-blank line of `text`; newlines inside double quotes do not end it."""
    start, in_quotes = 0, False
    for i, ch in enumerate(text):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch in "\r\n" and not in_quotes:
            line = text[start:i]
            if line.strip():
                return line
            start = i + 1
    return text[start:]


def _sniff_delimiter(line: str) -> str | None:
    counts = dict.fromkeys(DELIMITERS, 0)
    in_quotes = False
    for ch in line:
        if ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes and ch in counts:
            counts[ch] += 1
    best = max(DELIMITERS, key=counts.__getitem__)  # first of the tied maxima
    return best if counts[best] else None


class _LineTooLong(Exception):
    def __init__(self, line: str) -> None:
        self.line = line


def _open_text(
    path: Path,
    size: int,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    limits: Limits,
) -> Table:
    notes: list[str] = []
    if sheet is not None:
        notes.append(f'This is a text (CSV) file, which has no sheets; "{sheet}" was ignored.')
    f = path.open("rb")
    try:
        sample = f.read(SAMPLE_BYTES)
        codec, skip, label = _choose_encoding(sample, encoding, notes)
        text_sample = _decode_sample(sample[skip:], codec, label, at_eof=size <= SAMPLE_BYTES)
        del sample
        _reject_foreign_text(text_sample)
        sep_line = _SEP_LINE.match(text_sample.lstrip("\ufeff"))
        if delimiter is None and sep_line:
            delimiter = sep_line.group(1)
            notes.append(f'The first line "sep={delimiter}" set the delimiter; it was skipped.')
        elif delimiter is None:
            delimiter = _sniff_delimiter(_first_line(text_sample))
            if delimiter is None:
                delimiter = ","
                notes.append("The heading row has a single column (no , ; tab or | found).")
        del text_sample
        f.seek(skip)
        stream = io.TextIOWrapper(f, encoding=codec, errors="strict", newline="")
        if sep_line:
            stream.readline()  # Excel hides this line: the next one is row 1.
    except BaseException:
        f.close()
        raise
    records = _TextRecords(stream, delimiter, label, limits)
    return _assemble(
        records,
        format="csv",
        encoding=label,
        delimiter=delimiter,
        sheet=None,
        notes=notes,
        limits=limits,
        close=stream.close,
        what="The file",
    )


class _TextRecords:
    """The records of a delimited text stream: parsed one at a time (iterating), or, once the
    heading row is known, as blocks of their text (`blocks`), parsed where the work is done.

    Both share one csv reader and one record count, so a block starts where iteration
    stopped, and every record keeps the number a spreadsheet shows (blank rows count).
    """

    def __init__(
        self, stream: io.TextIOWrapper, delimiter: str, label: str, limits: Limits
    ) -> None:
        self._stream = stream
        self._label = label
        self._delimiter = delimiter
        self._limits = limits
        # No physical line of an acceptable file is longer than this: every cell quoted, with
        # every character a doubled quote, plus delimiters and the line end.
        self._cap = limits.max_columns * (2 * limits.max_cell_chars + 3) + 2
        self._taken: list[str] = []  # lines the reader took since the last record
        self._reader = _csv_reader(self._lines(), delimiter)
        self.number = 0

    def _lines(self) -> Iterator[str]:
        cap, taken = self._cap, self._taken
        while line := self._stream.readline(cap):
            if len(line) >= cap and not line.endswith(("\n", "\r")):
                raise _LineTooLong(line)
            taken.append(line)
            yield line

    def _next(self) -> list[str] | None:
        """The next record's fields as csv gives them, counted; None at the end."""
        limits, number = self._limits, self.number
        try:
            fields = next(self._reader, None)
        except UnicodeDecodeError:
            raise _bad_encoding(self._label, f"after row {number}") from None
        except _LineTooLong as exc:
            if exc.line.count(self._delimiter) >= limits.max_columns:
                raise FileRejected(
                    "too_many_columns",
                    f"Row {number + 1} has more than {limits.max_columns} columns.",
                ) from None
            raise FileRejected(
                "cell_too_long",
                f"Row {number + 1} has a cell longer than {limits.max_cell_chars:,} characters, "
                "the most allowed in one cell.",
            ) from None
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                longest = min(limits.max_cell_chars, csv.field_size_limit())
                raise FileRejected(
                    "cell_too_long",
                    f"Row {number + 1} has a cell longer than {longest:,} characters. This "
                    f'usually means a double quote (") in row {number + 1} was opened and never '
                    "closed.",
                ) from None
            raise FileRejected(
                "unknown_format", f"The file cannot be read as CSV after row {number}: {exc}."
            ) from None
        if fields is not None:
            self.number += 1
        return fields

    def __iter__(self) -> Iterator[_Record]:
        while (fields := self._next()) is not None:
            self._taken.clear()
            yield self.number, _cells(self.number, fields)

    def blocks(self, size: int) -> Iterator[tuple[int, list[str], list[bool]]]:
        """The remaining records, `size` at a time: (number of the first, the text of each,
        whether each is blank). A read error comes after the block of the records before it."""
        first = self.number + 1
        texts: list[str] = []
        blanks: list[bool] = []
        taken = self._taken
        while True:
            try:
                fields = self._next()
            except FileRejected:
                if texts:
                    yield first, texts, blanks
                raise
            if fields is None:
                break
            texts.append(taken[0] if len(taken) == 1 else "".join(taken))
            taken.clear()
            blanks.append(_fields_blank(fields))
            if len(texts) == size:
                yield first, texts, blanks
                first, texts, blanks = self.number + 1, [], []
        if texts:
            yield first, texts, blanks


def _csv_reader(lines: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    return csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)


def _cells(number: int, fields: list[str]) -> list[str | None]:
    """Record `number` as the cells of a row: None when empty, Unicode NFC."""
    cells: list[str | None] = []
    for value in fields:
        if not value:
            cells.append(None)
            continue
        if "\x00" in value:
            raise _garbage(f"row {number} contains NUL characters")
        cells.append(_nfc(value))
    return cells


def _fields_blank(fields: list[str]) -> bool:
    """`_is_blank` of the record's cells, on csv's fields ("" for an empty cell)."""
    for f in fields:  # noqa: SIM110 (a loop that stops at the first cell beats any())
        if f and not f.isspace():
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Excel workbooks.


def _truncated(detail: str = "") -> FileRejected:
    return FileRejected(
        "truncated_xlsx",
        "The Excel file is damaged or incomplete" + (f" ({detail})" if detail else "") + "; "
        "it was probably cut off while copying or uploading. Open it in Excel to check it, "
        "save it again, and upload it again.",
    )


def _bomb(detail: str) -> FileRejected:
    return FileRejected(
        "xlsx_bomb",
        f"The Excel file cannot be read safely: {detail}. Real citizen lists do not look like "
        'this; open the file in Excel, save it as "CSV UTF-8", and upload that instead.',
    )


def _inspect_zip(path: Path, size: int, limits: Limits) -> None:
    """Reject a damaged, hostile or non-Excel ZIP before openpyxl touches it."""
    with path.open("rb") as f:
        f.seek(max(0, size - (65_535 + 22)))
        tail = f.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise _truncated("its table of contents is missing")
    _, _, _, parts, directory_bytes, _, _ = struct.unpack("<4s4HLLH", tail[at : at + 22])[1:]
    if parts > MAX_XLSX_PARTS or directory_bytes > MAX_XLSX_DIRECTORY_BYTES:
        raise _bomb(f"it is made of more than {MAX_XLSX_PARTS:,} parts")
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, struct.error) as exc:
        raise _truncated(str(exc)) from None
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    if unpacked > limits.max_xlsx_uncompressed_bytes:
        raise _bomb(
            f"it unpacks to {_size(unpacked)}, more than the "
            f"{_size(limits.max_xlsx_uncompressed_bytes)} allowed"
        )
    ratio = unpacked / max(packed, 1)
    if unpacked > XLSX_RATIO_FLOOR_BYTES and ratio > limits.max_xlsx_compression_ratio:
        raise _bomb(
            f"it unpacks to {ratio:,.0f} times its size, more than the "
            f"{limits.max_xlsx_compression_ratio:,.0f} times allowed"
        )
    for info in infos:
        _inspect_part(info, limits)
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names:
        raise FileRejected("unknown_format", _describe_zip(path, names))


#: The part openpyxl reads whole into a list before the first row (even in read-only mode).
SHARED_STRINGS = "xl/sharedstrings.xml"


def _inspect_part(info: zipfile.ZipInfo, limits: Limits) -> None:
    """Each part on its own: the archive's totals can be diluted with stored (uncompressed)
    padding, so a 200-fold part hides behind a 100-fold archive. zipfile never inflates a
    part past its declared size (it stops there and fails the CRC), so declared sizes bound
    the work; the shared strings, which openpyxl holds in memory whole, have a cap of their
    own."""
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > XLSX_RATIO_FLOOR_BYTES and ratio > limits.max_xlsx_compression_ratio:
        raise _bomb(
            f"its part {info.filename!r} unpacks to {ratio:,.0f} times its size, more than "
            f"the {limits.max_xlsx_compression_ratio:,.0f} times allowed"
        )
    if (
        info.filename.lower() == SHARED_STRINGS
        and info.file_size > limits.max_xlsx_shared_strings_bytes
    ):
        raise _bomb(
            f"its table of shared texts unpacks to {_size(info.file_size)}, more than the "
            f"{_size(limits.max_xlsx_shared_strings_bytes)} allowed"
        )


def _describe_zip(path: Path, names: set[str]) -> str:
    ask = 'Open it and save it as "Excel Workbook (.xlsx)" or "CSV UTF-8", then upload that.'
    if "word/document.xml" in names:
        return f"This is a Word document, not a spreadsheet. {ask}"
    if "ppt/presentation.xml" in names:
        return f"This is a PowerPoint presentation, not a spreadsheet. {ask}"
    if "mimetype" in names:
        with zipfile.ZipFile(path) as zf:
            kind = zf.read("mimetype")[:100]
        if b"opendocument.spreadsheet" in kind:
            return f"This is an OpenDocument spreadsheet (.ods), not an Excel workbook. {ask}"
    return (
        "This is a ZIP archive, not an Excel workbook. If the spreadsheet is inside it, "
        "unpack it and upload the spreadsheet itself."
    )


def xlsx_text(value: Any) -> str | None:
    """A workbook cell value as text: what the clerk typed, dates as ISO "YYYY-MM-DD"."""
    if value is None:
        return None
    if isinstance(value, str):
        return _nfc(value) if value else None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat(sep=" ")  # keep the time rather than lose it silently
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _open_xlsx(path: Path, size: int, sheet: str | None, limits: Limits) -> Table:
    from openpyxl import load_workbook  # heavy; only needed for workbooks

    _inspect_zip(path, size, limits)
    fh = path.open("rb")  # a file object: openpyxl would otherwise insist on the extension
    try:
        try:
            wb = load_workbook(fh, read_only=True, data_only=True, keep_links=False)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise _truncated(str(exc)) from None
        except MemoryError:
            raise
        except Exception as exc:
            raise FileRejected(
                "unknown_format",
                f"The file looks like an Excel workbook but cannot be opened ({exc}). Open it "
                'in Excel and save it again as "Excel Workbook (.xlsx)" or "CSV UTF-8".',
            ) from None
    except BaseException:
        fh.close()
        raise

    def close() -> None:
        try:
            wb.close()
        finally:
            fh.close()

    try:
        ws, notes = _select_sheet(wb, sheet)
        ws.reset_dimensions()  # the stored dimensions may be wrong: read every row there is
    except BaseException:
        close()
        raise
    return _assemble(
        _xlsx_records(ws, limits),
        format="xlsx",
        encoding=None,
        delimiter=None,
        sheet=ws.title,
        notes=notes,
        limits=limits,
        close=close,
        what=f'The sheet "{ws.title}"',
    )


def _select_sheet(wb: Any, sheet: str | None) -> tuple[Any, list[str]]:
    names: list[str] = wb.sheetnames
    listing = ", ".join(f'"{n}"' for n in names)
    notes: list[str] = []
    if sheet is None:
        if not wb.worksheets:
            raise FileRejected("empty_file", "The workbook has no worksheets.")
        ws = wb.worksheets[0]
        others = [w.title for w in wb.worksheets if w is not ws]
        if others:
            notes.append(
                f'Only the first sheet, "{ws.title}", was read; the workbook also has '
                + ", ".join(f'"{n}"' for n in others)
                + "."
            )
        return ws, notes
    if sheet not in names:
        folded = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
        if len(folded) != 1:
            raise FileRejected(
                "no_such_sheet",
                f'The workbook has no sheet named "{sheet}". Its sheets are: {listing}.',
            )
        notes.append(f'Sheet "{folded[0]}" was read for "{sheet}".')
        sheet = folded[0]
    ws = wb[sheet]
    if not hasattr(ws, "iter_rows"):
        raise FileRejected(
            "no_such_sheet",
            f'"{sheet}" is a chart, not a sheet of data. The sheets are: {listing}.',
        )
    return ws, notes


def _xlsx_records(ws: Any, limits: Limits) -> Iterator[_Record]:
    number, widest = 0, limits.max_columns
    try:
        for values in ws.iter_rows(min_row=1, values_only=True):
            number += 1
            if len(values) > widest:
                # A formatted cell far to the right widens the row; only values count.
                beyond = values[widest:]
                if beyond.count(None) != len(beyond):
                    raise FileRejected(
                        "too_many_columns",
                        f'Row {number} of the sheet "{ws.title}" has values beyond column '
                        f"{column_letter(widest - 1)}; at most {widest} columns are allowed.",
                    )
                values = values[:widest]
            yield number, [xlsx_text(v) for v in values]
    except FileRejected:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise _truncated(f"after row {number}: {exc}") from None
    except MemoryError:
        raise
    except Exception as exc:
        raise FileRejected(
            "unknown_format",
            f'The sheet "{ws.title}" cannot be read after row {number} ({exc}). Open the file '
            'in Excel and save it again as "Excel Workbook (.xlsx)" or "CSV UTF-8".',
        ) from None
