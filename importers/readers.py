"""Read an uploaded citizen file (CSV in any common encoding, or .xlsx) as a stream of rows.

`open_table` looks at the bytes, not the file name: a ZIP archive is read as an Excel
workbook (`importers.xlsx_source`), anything else as delimited text
(`importers.csv_source`). The heading row is checked at once (so a bad file is rejected
before anything is written); the size limits are enforced while the rows stream, by raising
`FileRejected` mid-iteration (the loader is transactional). The rows come as a `Table`
(`importers.table`, assembled by `importers.blocks`).

Every cell comes back as the text the clerk typed, in Unicode NFC, or None when empty. Nothing
is dropped: cells beyond the heading row are kept under "_extra_1", "_extra_2", ...
"""

from __future__ import annotations

from pathlib import Path

from importers.blocks import assemble
from importers.csv_source import open_text
from importers.limits import Limits
from importers.rejections import FileRejected
from importers.table import Table, size_text
from importers.xlsx_source import open_xlsx

_ZIP_MAGIC = b"PK\x03\x04"
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
            f"The file is {size_text(size)}, more than the "
            f"{size_text(limits.max_file_bytes)} allowed for one upload. "
            "Split it into smaller files and upload each one.",
        )
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(_ZIP_MAGIC) or head.startswith(b"PK\x05\x06"):
        return assemble(open_xlsx(path, size, sheet, limits), limits)
    for magic, message in _FOREIGN_MAGIC:
        if head.startswith(magic):
            raise FileRejected("unknown_format", message)
    return assemble(open_text(path, size, encoding, delimiter, sheet, limits), limits)


# ---------------------------------------------------------------------------------------------
# Shared: heading row, blank rows, extra cells, limits.
