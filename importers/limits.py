"""Hard limits on what an uploaded file may contain; enforced by the readers (`importers.table`)."""

from __future__ import annotations

from dataclasses import dataclass, fields

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class Limits:
    #: Size of the uploaded file on disk.
    max_file_bytes: int = 512 * MiB
    #: Sum of the declared uncompressed sizes of every part inside an .xlsx (a ZIP archive).
    max_xlsx_uncompressed_bytes: int = 1 * GiB
    #: Uncompressed / compressed size of an .xlsx, and of each part in it; far beyond what
    #: real workbooks reach.
    max_xlsx_compression_ratio: float = 200.0
    #: Declared size of xl/sharedStrings.xml, which openpyxl reads whole into memory (about
    #: 3 bytes of memory per byte of XML); texts of 5 million unique rows fit.
    max_xlsx_shared_strings_bytes: int = 256 * MiB
    #: Columns in the heading row, and cells in any data row.
    max_columns: int = 200
    #: Data rows after the heading row (blank rows count: they still cost reading time).
    max_rows: int = 5_000_000
    #: Characters in any one cell.
    max_cell_chars: int = 4_000

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) <= 0:
                raise ValueError(f"Limits.{f.name} must be positive")
