"""Partial dates (dates of birth, death, disappearance) and a tolerant parser for the forms
that reach the registry from paper forms, spreadsheets and other systems.

Pure functions, no I/O (domain.md 4.5, A.4 rows 45-49, A.5). Dates of birth are often known
only to the year ("00/00/1950", "--/--/1950", "1950") or to the month, so a date is stored as
year, month? and day? with a precision, never as a `datetime.date` with invented parts: a
later record with the full date must read as *compatible* with the year-only one, not as a
conflict. The parser refuses to guess: day/month order, two-digit centuries and Excel serial
numbers are errors with a sentence a clerk can act on, never silent corrections.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache, total_ordering
from typing import Literal

__all__ = [
    "MIN_YEAR",
    "DateError",
    "FormatError",
    "PartialDate",
    "check_format",
    "day_month_order",
    "parse_date",
    "swapped_day_month",
]

#: The earliest year of birth accepted from input. Older values are typing errors.
MIN_YEAR = 1850

#: Warning: the date is exactly 1 January, the usual placeholder when only the year is known
#: (domain.md A.5; the QCVN 109 sample message itself uses 1950-01-01).
PLACEHOLDER_JAN_1 = "placeholder_jan_1"

_ACCEPTED_FORMS = (
    "dd/mm/yyyy, d/m/yyyy (also with - or .), yyyy-mm-dd, yyyymmdd, mm/yyyy, yyyy-mm, "
    "yyyy, a month name in English (15-Oct-1953, Oct 15, 1953), or 00/00/yyyy when the day "
    "and month are unknown"
)


@total_ordering
@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day. The day is only known with the month.

    Ordered chronologically, a less precise date before a more precise one in the same
    period (1950 < 1950-01 < 1950-01-01), so sorting never fails on the missing parts.
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year out of range: {self.year}")
        if self.month is None:
            if self.day is not None:
                raise ValueError("a day needs a month")
            return
        if not 1 <= self.month <= 12:
            raise ValueError(f"month out of range: {self.month}")
        if self.day is not None:
            last = calendar.monthrange(self.year, self.month)[1]
            if not 1 <= self.day <= last:
                raise ValueError(f"day out of range for {self.year}-{self.month:02d}: {self.day}")

    def _key(self) -> tuple[int, int, int]:
        # 0 is never a valid month or day, so "unknown" sorts first within its period.
        return (self.year, self.month or 0, self.day or 0)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, PartialDate):
            return NotImplemented
        return self._key() < other._key()

    @property
    def precision(self) -> Literal["year", "month", "day"]:
        """How much of the date is known."""
        if self.month is None:
            return "year"
        return "month" if self.day is None else "day"

    def iso(self) -> str:
        """ISO 8601 at the date's own precision: "1950", "1950-05", "1950-05-12"."""
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text

    @classmethod
    def from_iso(cls, s: str) -> PartialDate:
        """The inverse of `iso()`, strict: storage and the wire format use exactly that form.
        ValueError on anything else."""
        m = re.fullmatch(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?", s, flags=re.ASCII)
        if m is None:
            raise ValueError(f"not an ISO partial date (yyyy, yyyy-mm or yyyy-mm-dd): {s!r}")
        year, month, day = m.groups()
        return cls(
            int(year), None if month is None else int(month), None if day is None else int(day)
        )

    def compatible(self, other: PartialDate) -> bool:
        """True when both can be the same real date: every part known on both sides agrees.
        A year-only date is compatible with any date in that year (domain.md 4.5), a month
        with any day of that month; two full dates only when equal."""
        if self.year != other.year:
            return False
        if self.month is None or other.month is None:
            return True
        if self.month != other.month:
            return False
        return self.day is None or other.day is None or self.day == other.day

    def earliest(self) -> dt.date:
        """The first real day this date can be, to compare a partial date with a full one."""
        return dt.date(self.year, self.month or 1, self.day or 1)


def swapped_day_month(a: PartialDate, b: PartialDate) -> bool:
    """True when a and b are full dates that differ only by day and month being exchanged
    (05/03/1985 vs 03/05/1985), both parts <= 12: the trace of a US-locale spreadsheet
    (domain.md A.5). A flag for dedup, never a reason to treat them as equal."""
    if a.precision != "day" or b.precision != "day" or a == b:
        return False
    return a.year == b.year and a.day == b.month and a.month == b.day


class DateError(ValueError):
    """A date that cannot be read. `code` is for programs, `message` is a sentence for the
    clerk who has to correct the record, quoting the value."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- parsing without a format -----------------------------------------------------------------

_NUM = r"[0-9]{1,2}"
#: A day or month part: digits, or a placeholder for "unknown" ("--", "xx", "??").
_PART = r"[0-9]{1,2}|-{1,2}|[xX]{1,2}|\?{1,2}"
_MIDNIGHT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[ T]00:00(?::00(?:\.0+)?)?Z?", flags=re.ASCII
)
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}.*", flags=re.ASCII)
_YMD = re.compile(rf"([0-9]{{4}})([-/.])({_NUM})\2({_NUM})", flags=re.ASCII)
_YM = re.compile(rf"([0-9]{{4}})[-/.]({_NUM})", flags=re.ASCII)
_DMY = re.compile(rf"({_PART})([/.-])({_PART})\2([0-9]{{4}})", flags=re.ASCII)
_DMY_SHORT_YEAR = re.compile(rf"({_NUM})([/.-])({_NUM})\2([0-9]{{2}})", flags=re.ASCII)
_MY = re.compile(rf"({_PART})[/.-]([0-9]{{4}})", flags=re.ASCII)
_EXCEL = re.compile(r"([0-9]{5})(?:\.0+)?", flags=re.ASCII)
#: Spaces around separators are typing noise ("05 / 03 / 1985"); other spaces are not.
_SPACED_SEPARATORS = re.compile(r"\s*([/.-])\s*")


def _number(part: str) -> int:
    """A day or month part as a number; placeholders ("--", "xx") mean unknown, i.e. 0."""
    return int(part) if part.isdigit() else 0


def day_month_order(texts: Iterable[str | None]) -> tuple[int, int]:
    """(values that can only be day/month/year, values that can only be month/day/year)
    among `texts` written d/m/yyyy or m/d/yyyy: one with a part over 12 settles its own
    order; 05/03/1985 settles nothing."""
    day_first = month_first = 0
    for text in texts:
        m = _DMY.fullmatch(_SPACED_SEPARATORS.sub(r"\1", text.strip())) if text else None
        if m is None:
            continue
        first, second = _number(m.group(1)), _number(m.group(3))
        if 12 < first <= 31 and 1 <= second <= 12:
            day_first += 1
        elif 12 < second <= 31 and 1 <= first <= 12:
            month_first += 1
    return day_first, month_first


def _check_order(raw: str, day: int, month: int, order_hint: str) -> None:
    """Raise month_day_order when the month cannot be a month but the day could be one:
    the value was most likely written in the other order."""
    if month > 12 and 1 <= day <= 12 and month <= 31:
        raise DateError(
            "month_day_order",
            f'"{raw}" has {month} as its month, which does not exist. It looks like '
            f"{order_hint}: the day and the month seem to be the wrong way round. Please check "
            "the original document.",
        )


def _build(
    raw: str, year: int, month: int, day: int, today: dt.date, *, order_hint: str | None = None
) -> tuple[PartialDate, list[str]]:
    """Validate the parts read from `raw` (0 = unknown) and make the date and its warnings."""
    if order_hint is not None:
        _check_order(raw, day, month, order_hint)
    if month == 0 and day != 0:
        raise DateError(
            "day_without_month",
            f'"{raw}" gives a day ({day}) but no month. Enter 00 for both the day and the '
            "month when only the year is known.",
        )
    if year < MIN_YEAR:
        raise DateError(
            "year_out_of_range",
            f'"{raw}" has the year {year}, which is before {MIN_YEAR}. Please check the year.',
        )
    if year > today.year:
        raise DateError(
            "future_date",
            f'"{raw}" is in the future (the year {year} has not begun). Please check the year.',
        )
    if month > 12:
        raise DateError("invalid_date", f'"{raw}" has {month} as its month, which does not exist.')
    if day:
        last = calendar.monthrange(year, month)[1]
        if day > last:
            if month == 2 and day == 29:
                why = f"{year} is not a leap year, so February has only 28 days"
            else:
                why = f"{calendar.month_name[month]} has only {last} days"
            raise DateError("invalid_date", f'"{raw}" is not a real date: {why}.')
    date = PartialDate(year, month or None, day or None)
    if date.earliest() > today:
        raise DateError(
            "future_date",
            f'"{raw}" is in the future (today is {today:%d/%m/%Y}). Please check the date.',
        )
    warnings = [PLACEHOLDER_JAN_1] if (date.month, date.day) == (1, 1) else []
    return date, warnings


def _parse_free(
    raw: str, text: str, today: dt.date, month_first: bool = False
) -> tuple[PartialDate, list[str]]:
    """Parse `text` (spaces normalised) against the accepted forms, without a format."""
    if m := _MIDNIGHT.fullmatch(text):
        y, mo, d = m.groups()
        return _build(raw, int(y), int(mo), int(d), today)
    if _DATETIME.fullmatch(text):
        raise DateError(
            "unrecognised_date",
            f'"{raw}" carries a time of day; a date is expected. Accepted forms: '
            f"{_ACCEPTED_FORMS}.",
        )
    if m := _YMD.fullmatch(text):
        y, _, mo, d = m.groups()
        return _build(raw, int(y), int(mo), int(d), today)
    if m := _YM.fullmatch(text):
        y, mo = m.groups()
        return _build(raw, int(y), int(mo), 0, today)
    if m := _DMY.fullmatch(text):
        d, _, mo, y = m.groups()
        hint = "month/day/year (US order)"
        if month_first:
            d, mo, hint = mo, d, "day/month/year"
        return _build(raw, int(y), _number(mo), _number(d), today, order_hint=hint)
    if m := _DMY_SHORT_YEAR.fullmatch(text):
        yy = m.group(4)
        raise DateError(
            "two_digit_year",
            f'"{raw}" has a two-digit year ({yy}), so the century is unknown: it could be '
            f"19{yy} or 20{yy}. Please enter the year with four digits.",
        )
    if m := _MY.fullmatch(text):
        mo, y = m.groups()
        return _build(raw, int(y), _number(mo), 0, today)
    if re.fullmatch(r"[0-9]{8}", text, flags=re.ASCII):
        if int(text[:4]) < MIN_YEAR <= int(text[4:]):
            raise DateError(
                "unrecognised_date",
                f'"{raw}" has eight digits but does not start with a year, so the order of '
                "day, month and year is unclear. Write it as dd/mm/yyyy or yyyymmdd.",
            )
        return _build(raw, int(text[:4]), int(text[4:6]), int(text[6:]), today)
    if re.fullmatch(r"[0-9]{4}", text, flags=re.ASCII):
        return _build(raw, int(text), 0, 0, today)
    if named := _named_month(text):  # 15-Oct-1953, 15 October 1953, Oct 15, 1953, Oct 1953
        day, month, y = named
        return _build(raw, y, month, day, today)
    if (m := _EXCEL.fullmatch(text)) and 1 <= int(m.group(1)) <= 80000:
        raise DateError(
            "excel_serial",
            f'"{raw}" looks like a spreadsheet (Excel) serial number, not a date: the '
            "spreadsheet stored the date as a count of days. Please format the column as a "
            "date or as text in the spreadsheet and import it again, or enter the date by hand.",
        )
    raise DateError(
        "unrecognised_date",
        f'"{raw}" is not a date that can be read. Accepted forms: {_ACCEPTED_FORMS}.',
    )


_NAMED_DAY_FIRST = re.compile(r"([0-9]{1,2})[ /.-]?([A-Za-z]{3,9})\.?[ /.,-]*([0-9]{4})",
                              flags=re.ASCII)  # fmt: skip
_NAMED_MONTH_FIRST = re.compile(r"([A-Za-z]{3,9})\.?[ /.-]*(?:([0-9]{1,2}),?[ /.-]*)?([0-9]{4})",
                                flags=re.ASCII)  # fmt: skip


def _named_month(text: str) -> tuple[int, int, int] | None:
    """(day or 0, month, year) of a date whose month is an English name or abbreviation:
    the name settles the order, so no format is needed. None for anything else."""
    if m := _NAMED_DAY_FIRST.fullmatch(text):
        day, name, year = m.groups()
    elif m := _NAMED_MONTH_FIRST.fullmatch(text):
        name, day, year = m.groups()
    else:
        return None
    month = _MONTH_NUMBER.get(name.lower())
    return None if month is None else (int(day or 0), month, int(year))


# --- parsing with a format --------------------------------------------------------------------

_NUMERIC = {"d": "day", "m": "month", "Y": "year"}
_MONTH_DIRECTIVES = ("%m", "%b", "%B")
#: English month names and abbreviations, for %b and %B (either takes either; any case, and
#: "Sept." as well as "Sep"): files from other countries write "15-Oct-1953".
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")  # fmt: skip
_MONTH_NUMBER = (
    {name: i for i, name in enumerate(_MONTHS, 1)}
    | {name[:3]: i for i, name in enumerate(_MONTHS, 1)}
    | {"sept": 9}
)
#: What a format may use, as said in errors.
FORMAT_DIRECTIVES = "%d, %m, %b or %B (month name), %Y and literal text"


class FormatError(ValueError):
    """A date format `parse_date` cannot use; `reason` says why, for a sentence that names
    the format and where it came from (a mapping profile's field)."""

    def __init__(self, fmt: str, reason: str) -> None:
        super().__init__(f"date format {fmt!r} {reason}")
        self.format, self.reason = fmt, reason


@lru_cache(maxsize=256)
def _format_regex(fmt: str) -> re.Pattern[str]:
    """Translate a strptime-style format (%d, %m, %b, %B, %Y, literal text) into a regex
    with groups day/month/month_name/year. FormatError for anything else: %y because the
    century is ambiguous."""
    tokens: list[str] = []  # a directive ("%d") or one literal character
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            tokens.append(ch)
            i += 1
            continue
        if i + 1 == len(fmt):
            raise FormatError(fmt, "ends with a lone %")
        directive = fmt[i + 1]
        if directive == "%":
            tokens.append("%")
        elif directive == "y":
            raise FormatError(fmt, "uses %y: two-digit years are ambiguous (which century?); "
                              "use %Y")  # fmt: skip
        elif directive in _NUMERIC or directive in "bB":
            tokens.append("%" + directive)
        else:
            raise FormatError(fmt, f"uses %{directive}; only {FORMAT_DIRECTIVES} are allowed")
        i += 2
    directives = [t for t in tokens if len(t) == 2]
    months = [t for t in directives if t in _MONTH_DIRECTIVES]
    if "%Y" not in directives or len(set(directives)) != len(directives) or len(months) > 1:
        raise FormatError(fmt, "must contain %Y once, and the day and the month at most once")
    if "%d" in directives and not months:
        raise FormatError(fmt, "has a day (%d) but no month (%m, %b or %B)")
    parts: list[str] = []
    for k, token in enumerate(tokens):
        if len(token) == 1:
            parts.append(re.escape(token))
        elif token == "%Y":
            parts.append("(?P<year>[0-9]{4})")
        elif token in ("%b", "%B"):
            parts.append(r"(?P<month_name>[A-Za-z]{3,9})\.?")
        else:
            # Two digits exactly when run together with another number (%Y%m%d), where
            # one-digit parts would be ambiguous; otherwise one or two (5/3/1985).
            glued = any(0 <= j < len(tokens) and tokens[j][1:] in _NUMERIC for j in (k - 1, k + 1))
            width = "{2}" if glued else "{1,2}"
            parts.append(f"(?P<{_NUMERIC[token[1]]}>[0-9]{width})")
    return re.compile("".join(parts), flags=re.ASCII | re.IGNORECASE)


def check_format(fmt: str) -> None:
    """Raise FormatError if `parse_date` cannot use `fmt`."""
    _format_regex(fmt)


def _order_hint(fmt: str) -> str | None:
    """How a value would read if its day and month were the other way round (None when the
    month is a name, which cannot be read as a day)."""
    d, m = fmt.find("%d"), fmt.find("%m")
    if d < 0 or m < 0:
        return None
    return "day/month/year" if m < d else "month/day/year (US order)"


def _parse_formatted(
    raw: str, formats: tuple[str, ...], today: dt.date
) -> tuple[PartialDate, list[str]]:
    """`raw` read with the first of `formats` it matches; 00 still means unknown."""
    for fmt in formats:
        m = _format_regex(fmt).fullmatch(raw)
        if m is None:
            continue
        groups = m.groupdict()
        month = int(groups.get("month") or 0)
        if groups.get("month_name") is not None:
            named = _MONTH_NUMBER.get(groups["month_name"].lower())
            if named is None:
                continue
            month = named
        return _build(raw, int(groups["year"]), month, int(groups.get("day") or 0), today,
                      order_hint=_order_hint(fmt))  # fmt: skip
    shown = formats[0] if len(formats) == 1 else "any of " + ", ".join(formats)
    raise DateError(
        "format_mismatch",
        f'"{raw}" does not match the expected date format {shown} '
        "(%d = day, %m = month, %b = month name, %Y = four-digit year).",
    )


def parse_date(
    text: str,
    fmt: str | Sequence[str] | None = None,
    *,
    today: dt.date | None = None,
    month_first: bool = False,
) -> tuple[PartialDate, list[str]]:
    """Read a date as written on forms and in spreadsheets; return it with warning codes.

    Without `fmt` the common Vietnamese forms are accepted (day first, or month first with
    `month_first`, for a column found to be written the US way: `day_month_order`), with 00,
    "--" or "xx" for an unknown day or month. With `fmt` (%d, %m, %b, %B, %Y and literal
    characters only), or a list of formats tried in order, the text must match one exactly;
    00 still means unknown, which `time.strptime` refuses. Raises DateError rather than guess
    a day/month order, a century or an Excel serial; FormatError for a format it cannot use.
    """
    formats = () if fmt is None else (fmt,) if isinstance(fmt, str) else tuple(fmt)
    for f in formats:
        check_format(f)
    today = today or dt.date.today()
    raw = text.strip()
    if not raw:
        raise DateError("missing_date", "No date was given.")
    if formats:
        return _parse_formatted(raw, formats, today)
    return _parse_free(raw, _SPACED_SEPARATORS.sub(r"\1", raw), today, month_first)
