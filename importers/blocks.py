"""A file's records as a `Table`: the heading row read now, the data rows streamed, one at a
time (`Table.rows`) or in `RecordBlock`s (`Table.blocks`) that a `BlockParser` turns back into
rows where the work is done, in this process or a worker; the row limit enforced either way.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from itertools import accumulate, chain

from importers.csv_source import TextRecords, csv_reader, fields_blank, record_cells
from importers.limits import Limits
from importers.rejections import FileRejected
from importers.table import Layout, RawRow, Record, RecordBlock, Source, Table, is_blank


def assemble(source: Source, limits: Limits) -> Table:
    """Read the heading row and the first data row now; stream the rest."""
    records, close, what = source.records, source.close, source.what
    try:
        nonblank = (r for r in records if not is_blank(r[1]))
        first = next(nonblank, None)
        if first is None:
            raise FileRejected("empty_file", f"{what} has no content: every row is blank.")
        header_number, header_cells = first
        layout = Layout(header_number, header_cells, limits)
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
            if isinstance(records, TextRecords):
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
            batch: list[Record] = []
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
        format=source.format,
        encoding=source.encoding,
        delimiter=source.delimiter,
        sheet=source.sheet,
        notes=source.notes,
        _close=close,
        parser=BlockParser(layout, source.delimiter),
        _blocks=blocks,
    )


def _text_block(first: int, texts: list[str]) -> RecordBlock:
    return RecordBlock(first, "".join(texts), len(texts), longest=max(map(len, texts)))


class BlockParser:
    """Turns `RecordBlock`s back into rows, where the work is done: what `Table.rows` does
    to each record after reading it (cells, blank rows, `Layout.row`), minus the reading."""

    def __init__(self, layout: Layout, delimiter: str | None) -> None:
        self.layout = layout
        self.delimiter = delimiter
        # Rows of exactly the heading's width, with no blank heading and no cell over the
        # limit, need none of `Layout.row`'s checks and are their cells in heading order.
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
        whole = self._nfc_whole(text)
        rows = list(csv_reader(io.StringIO(whole or text, newline=""), self.delimiter or ","))
        if len(rows) != block.count:
            raise RuntimeError(f"block of {block.count} records parsed as {len(rows)}")
        out: list[tuple[int, list[str]]] = []
        if whole is not None:
            number = block.first_number
            for fields in rows:
                if not fields_blank(fields):
                    out.append((number, fields))
                number += 1
            return out, None
        for number, fields in enumerate(rows, block.first_number):
            try:
                cells = record_cells(number, fields)
            except FileRejected as exc:
                return out, exc
            if not is_blank(cells):
                out.append((number, ["" if c is None else c for c in cells]))
        return out, None

    def _nfc_whole(self, text: str) -> str | None:
        """`text` in NFC as one string, when its cells are then exactly the cells of `text`
        each put in NFC (what `record_cells` does, one cell at a time: 40 % of the work on a
        file with decomposed accents); None when that cannot be promised (NUL characters,
        which `record_cells` rejects, are among them).

        Cells are cut out of the text at ASCII delimiters, quotes and line ends, which no
        character combines with, so normalising the whole text normalises each cell; except
        where csv drops a quote between a character and a combining mark after it
        ("e"\u0301), and where normalising makes a delimiter, quote or line end out of
        another character (U+037E, the Greek question mark, becomes ";"): then the text is
        cut otherwise, so each structural character must be as many after as before.
        """
        delimiter = self.delimiter or ","
        if "\x00" in text or not delimiter.isascii() or _QUOTE_THEN_NON_ASCII.search(text):
            return None
        if text.isascii():
            return text
        whole = unicodedata.normalize("NFC", text)
        if whole != text and any(whole.count(c) != text.count(c) for c in {delimiter, *'"\r\n'}):
            return None
        return whole

    def plain(self, block: RecordBlock, rows: list[list[str]]) -> bool:
        """Whether `row` would return every one of these rows (of `block`) as it is."""
        if not rows or {len(fields) for fields in rows} != {self._plain_width}:
            return False
        longest = block.longest if block.text else max(map(len, chain.from_iterable(rows)))
        return longest <= self.layout.limits.max_cell_chars

    def row(self, number: int, fields: list[str]) -> tuple[list[str], RawRow | None]:
        """A record as cells in heading order ("" or None when empty), and its raw row when
        that is not simply the cells under the headings (extra cells, blank headings). Raises
        what `Layout.row` raises."""
        if (
            len(fields) == self._plain_width
            and max(map(len, fields)) <= self.layout.limits.max_cell_chars
        ):
            return fields, None
        raw = self.layout.row(number, [f or None for f in fields])
        return [raw[h] or "" for h in self.layout.header], raw


_QUOTE_THEN_NON_ASCII = re.compile(r'"[^\x00-\x7f]')
