"""The one error an uploaded file can be rejected with: a machine code plus a clerk's message."""

from __future__ import annotations

#: Every code `FileRejected` may carry. Callers branch on these, never on message text.
CODES: frozenset[str] = frozenset(
    {
        "empty_file",
        "header_only",
        "duplicate_headers",
        "blank_header",
        "unknown_format",
        "binary_garbage",
        "truncated_xlsx",
        "xlsx_bomb",
        "too_many_columns",
        "too_many_rows",
        "cell_too_long",
        "bad_encoding",
        "no_such_sheet",
        "file_too_large",
    }
)


class FileRejected(Exception):
    """The uploaded file cannot be imported; nothing from it is kept.

    `code` is stable and machine-readable (one of `CODES`); `message` is plain English for
    the police clerk who uploaded the file and names the row, column or limit involved.
    """

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:
            raise ValueError(f"unknown FileRejected code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def __reduce__(self) -> tuple[type[FileRejected], tuple[str, str]]:
        return (type(self), (self.code, self.message))
