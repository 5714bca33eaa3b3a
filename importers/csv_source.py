"""Delimited text (CSV in any common encoding) as records: the encoding chosen from the bytes
(byte order marks, UTF-16 without one, UTF-8, else windows-1258), the delimiter from the
heading row (or Excel's "sep=" line), files that are not text refused with a reason.

Records are read one at a time, or, once the heading row is known, as blocks of their text
(`TextRecords.blocks`), which `importers.blocks.BlockParser` parses where the work is done.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path

from importers.limits import Limits
from importers.rejections import FileRejected
from importers.table import Record, Source, nfc

#: Bytes of a text file looked at to choose its encoding and delimiter.
SAMPLE_BYTES = 1024 * 1024
#: Delimiters recognised in the heading row, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")

_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # (bom, codec used after skipping it, name reported) - UTF-32 before UTF-16: same prefix.
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)
#: C0 control characters other than tab, line feed and carriage return, plus DEL.
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f]")
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20)) + b"\x7f"
_NOT_CONTROL_BYTES = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_SEP_LINE = re.compile(r"sep=(.)(\r\n|\n|\r)")


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


def garbage(detail: str) -> FileRejected:
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
        raise garbage(f"it contains NUL bytes (the first at byte {nul:,})")
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
            raise garbage("it is full of control characters") from None
        raise _bad_encoding(label, f"near byte {exc.start:,}") from None
    nul = text.find("\x00")
    if nul >= 0:
        raise garbage(f"it contains NUL characters (the first at character {nul:,})")
    controls = len(_CONTROL_CHARS.findall(text))
    if controls > 0.01 * len(text) + 4:
        raise garbage(f"{controls:,} control characters in the first {len(text):,}")
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


def open_text(
    path: Path,
    size: int,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    limits: Limits,
) -> Source:
    """Open a text file: its encoding and delimiter chosen (unless given), then its records."""
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
    records = TextRecords(stream, delimiter, label, limits)
    return Source(
        records,
        format="csv",
        encoding=label,
        delimiter=delimiter,
        sheet=None,
        notes=notes,
        close=stream.close,
        what="The file",
    )


class TextRecords:
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
        #: lines `blocks` read ahead and handed back to the csv reader, and the error that
        #: reading on raised, to be raised once they are used up (where the reader would be)
        self._pending: deque[str] = deque()
        self._deferred: BaseException | None = None
        self._reader = csv_reader(self._lines(), delimiter)
        self.number = 0

    def _lines(self) -> Iterator[str]:
        cap, taken, pending = self._cap, self._taken, self._pending
        while True:
            if pending:
                line = pending.popleft()
            elif self._deferred is not None:
                error, self._deferred = self._deferred, None
                raise error
            else:
                line = self._stream.readline(cap)
                if not line:
                    return
            if len(line) >= cap and not line.endswith(("\n", "\r")):
                raise _LineTooLong(line)
            taken.append(line)
            yield line

    def _read_lines(self, n: int) -> list[str]:
        """Up to `n` physical lines (each cut at the line cap, as `_lines` reads them); an
        error while reading is kept for `_lines` to raise after these lines."""
        readline, cap, lines = self._stream.readline, self._cap, []
        try:
            for _ in range(n):
                line = readline(cap)
                if not line:
                    break
                lines.append(line)
        except Exception as exc:  # noqa: BLE001 (raised again by _lines, in its place)
            self._deferred = exc
        return lines

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

    def __iter__(self) -> Iterator[Record]:
        while (fields := self._next()) is not None:
            self._taken.clear()
            yield self.number, record_cells(self.number, fields)

    def blocks(self, size: int) -> Iterator[tuple[int, list[str], list[bool]]]:
        """The remaining records, `size` at a time: (number of the first, the text of each,
        whether each is blank). A read error comes after the block of the records before it."""
        first = self.number + 1
        texts: list[str] = []
        blanks: list[bool] = []
        taken, pending, delimiter = self._taken, self._pending, self._delimiter
        field_limit = csv.field_size_limit()
        while True:
            # Fast path: lines read as they come; when none holds a quote (or NUL, or is
            # long enough for a cell to pass csv's field limit or a line to reach the cap),
            # each line is one record, as csv would find, and its blankness is its text's.
            # Otherwise the lines go back to the csv reader, which reads them record by
            # record (a quoted cell may run on past them) exactly as before.
            if not pending and self._deferred is None:
                lines = self._read_lines(size - len(texts))
                joined = "".join(lines)
                if (
                    lines
                    and '"' not in joined
                    and "\x00" not in joined
                    and max(map(len, lines)) < min(field_limit, self._cap)
                ):
                    self.number += len(lines)
                    texts += lines
                    blanks += [_line_blank(line, delimiter) for line in lines]
                else:
                    pending.extend(lines)
                    if not lines and self._deferred is None:
                        break
            else:
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
                blanks.append(fields_blank(fields))
            if len(texts) >= size:
                yield first, texts, blanks
                first, texts, blanks = self.number + 1, [], []
        if texts:
            yield first, texts, blanks


def csv_reader(lines: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    return csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)


def record_cells(number: int, fields: list[str]) -> list[str | None]:
    """Record `number` as the cells of a row: None when empty, Unicode NFC."""
    cells: list[str | None] = []
    for value in fields:
        if not value:
            cells.append(None)
            continue
        if "\x00" in value:
            raise garbage(f"row {number} contains NUL characters")
        cells.append(nfc(value))
    return cells


def _line_blank(line: str, delimiter: str) -> bool:
    """`fields_blank` of a line without quotes: csv splits it at the delimiter, the line end
    dropped, so it is blank when what is left without delimiters is empty or whitespace."""
    rest = line.rstrip("\r\n").replace(delimiter, "")
    return not rest or rest.isspace()


def fields_blank(fields: list[str]) -> bool:
    """`is_blank` of the record's cells, on csv's fields ("" for an empty cell)."""
    for f in fields:  # noqa: SIM110 (a loop that stops at the first cell beats any())
        if f and not f.isspace():
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Excel workbooks.
