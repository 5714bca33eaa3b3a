"""Excel workbooks (.xlsx) as records: the archive inspected before openpyxl opens it (damaged,
hostile or not a workbook: refused with a reason), then one worksheet read in read-only mode,
every cell value as the text the clerk typed (`xlsx_text`).
"""

from __future__ import annotations

import datetime as dt
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from importers.limits import Limits
from importers.rejections import FileRejected
from importers.table import Record, Source, column_letter, nfc, size_text

#: A real workbook has tens of parts; a ZIP directory far larger than this is hostile.
MAX_XLSX_PARTS = 10_000
MAX_XLSX_DIRECTORY_BYTES = 4 * 1024 * 1024
#: Below this uncompressed size the compression ratio is not checked (nothing to fear).
XLSX_RATIO_FLOOR_BYTES = 1024 * 1024


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
            f"it unpacks to {size_text(unpacked)}, more than the "
            f"{size_text(limits.max_xlsx_uncompressed_bytes)} allowed"
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
            f"its table of shared texts unpacks to {size_text(info.file_size)}, more than the "
            f"{size_text(limits.max_xlsx_shared_strings_bytes)} allowed"
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
        return nfc(value) if value else None
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


def open_xlsx(path: Path, size: int, sheet: str | None, limits: Limits) -> Source:
    """Open a workbook (after `_inspect_zip`) and one of its sheets: the first, or `sheet`."""
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
    return Source(
        _xlsx_records(ws, limits),
        format="xlsx",
        encoding=None,
        delimiter=None,
        sheet=ws.title,
        notes=notes,
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


def _xlsx_records(ws: Any, limits: Limits) -> Iterator[Record]:
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
