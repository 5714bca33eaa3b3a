"""Partial dates and the date parser (domain.md 4.5, 4.7, A.4 rows 45-49, A.5)."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from popdb.core.dates import (
    DateError,
    PartialDate,
    day_month_order,
    parse_date,
    swapped_day_month,
)

TODAY = dt.date(2025, 6, 15)


def parse(text: str, fmt: str | None = None) -> PartialDate:
    date, _ = parse_date(text, fmt, today=TODAY)
    return date


def error(text: str, fmt: str | None = None) -> DateError:
    with pytest.raises(DateError) as info:
        parse_date(text, fmt, today=TODAY)
    return info.value


@st.composite
def partial_dates(draw: st.DrawFn) -> PartialDate:
    year = draw(st.integers(1, 9999))
    month = draw(st.none() | st.integers(1, 12))
    if month is None:
        return PartialDate(year)
    last = calendar.monthrange(year, month)[1]
    return PartialDate(year, month, draw(st.none() | st.integers(1, last)))


# --- PartialDate ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("date", "precision", "iso"),
    [
        (PartialDate(1950), "year", "1950"),
        (PartialDate(1950, 5), "month", "1950-05"),
        (PartialDate(1950, 5, 12), "day", "1950-05-12"),
    ],
)
def test_a_partial_date_knows_its_precision_and_writes_itself_in_iso_form(
    date: PartialDate, precision: str, iso: str
) -> None:
    assert date.precision == precision
    assert date.iso() == iso
    assert PartialDate.from_iso(iso) == date


@given(partial_dates())
def test_from_iso_reads_back_every_date_that_iso_writes(date: PartialDate) -> None:
    assert PartialDate.from_iso(date.iso()) == date


@given(partial_dates())
def test_a_full_date_written_day_first_parses_back_to_itself(date: PartialDate) -> None:
    if date.year < 1850:
        return
    day = f"{date.day:02d}" if date.day else "00"
    month = f"{date.month:02d}" if date.month else "00"
    parsed, _ = parse_date(f"{day}/{month}/{date.year}", today=dt.date(9999, 12, 31))
    assert parsed == date


@given(partial_dates(), partial_dates())
def test_compatibility_is_symmetric_and_implied_by_equality(a: PartialDate, b: PartialDate) -> None:
    assert a.compatible(b) == b.compatible(a)
    assert a.compatible(a)
    if a == b:
        assert a.compatible(b)


@given(st.lists(partial_dates()))
def test_partial_dates_sort_without_error_year_before_month_before_day(
    dates: list[PartialDate],
) -> None:
    ordered = sorted(dates)
    assert [d.year for d in ordered] == sorted(d.year for d in dates)


def test_a_less_precise_date_sorts_before_the_more_precise_ones_of_its_period() -> None:
    assert sorted([PartialDate(1950, 1, 1), PartialDate(1950), PartialDate(1950, 1)]) == [
        PartialDate(1950),
        PartialDate(1950, 1),
        PartialDate(1950, 1, 1),
    ]


@pytest.mark.parametrize(
    "text", ["", "1950-5", "1950-05-1", "50", "1950-13", "1950-02-30", "1950/05/12", " 1950"]
)
def test_from_iso_refuses_anything_but_the_exact_iso_forms(text: str) -> None:
    with pytest.raises(ValueError):
        PartialDate.from_iso(text)


@pytest.mark.parametrize(
    ("year", "month", "day"), [(1950, 13, None), (1950, None, 5), (1985, 2, 29), (0, None, None)]
)
def test_a_partial_date_cannot_be_built_from_impossible_parts(
    year: int, month: int | None, day: int | None
) -> None:
    with pytest.raises(ValueError):
        PartialDate(year, month, day)


def test_a_year_only_date_is_compatible_with_every_date_in_that_year_and_no_other() -> None:
    year = PartialDate(1950)
    assert year.compatible(PartialDate(1950, 12, 31))
    assert year.compatible(PartialDate(1950, 5))
    assert not year.compatible(PartialDate(1951, 1, 1))


def test_a_month_date_is_compatible_with_any_day_of_that_month_only() -> None:
    month = PartialDate(1985, 3)
    assert month.compatible(PartialDate(1985, 3, 31))
    assert not month.compatible(PartialDate(1985, 4, 1))
    assert not month.compatible(PartialDate(1985, 4))


def test_two_full_dates_are_compatible_only_when_equal() -> None:
    assert PartialDate(1985, 3, 5).compatible(PartialDate(1985, 3, 5))
    assert not PartialDate(1985, 3, 5).compatible(PartialDate(1985, 3, 6))


# --- domain.md A.4 rows 45-49 and 4.7 ---------------------------------------------------------


def test_row_45_year_only_and_1_january_differ_but_are_compatible_with_a_placeholder_warning() -> (
    None
):
    year_only, no_warnings = parse_date("00/00/1950", today=TODAY)
    jan_1, warnings = parse_date("01/01/1950", today=TODAY)
    assert year_only != jan_1
    assert year_only.precision == "year"
    assert year_only.compatible(jan_1)
    assert no_warnings == []
    assert warnings == ["placeholder_jan_1"]


def test_row_46_zero_day_and_month_equal_the_bare_year() -> None:
    assert parse("00/00/1950") == parse("1950") == PartialDate(1950)


def test_row_47_one_digit_day_and_month_equal_two_digit_ones() -> None:
    assert parse("1/6/1985") == parse("01/06/1985") == PartialDate(1985, 6, 1)


def test_row_48_a_day_month_swap_is_neither_equal_nor_compatible_but_flagged() -> None:
    a, b = parse("05/03/1985"), parse("03/05/1985")
    assert a != b
    assert not a.compatible(b)
    assert swapped_day_month(a, b)
    assert not swapped_day_month(a, a)
    assert not swapped_day_month(a, parse("06/03/1985"))


def test_row_49_a_month_above_12_with_a_plausible_day_reports_a_month_day_order_error() -> None:
    assert parse("13/05/1985") == PartialDate(1985, 5, 13)
    e = error("05/13/1985")
    assert e.code == "month_day_order"
    assert "05/13/1985" in e.message
    assert "month/day/year" in e.message


def test_section_4_7_a_year_only_date_is_compatible_with_a_full_date_of_that_year() -> None:
    assert parse("00/00/1950").compatible(parse("12/05/1950"))


def test_section_4_7_a_one_digit_month_equals_the_two_digit_month() -> None:
    assert parse("05/3/1985") == parse("05/03/1985")


def test_section_4_7_different_years_conflict() -> None:
    assert not parse("1950").compatible(parse("1951"))


# --- parse_date without a format --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "05/03/1985",
        "5/3/1985",
        "05/3/1985",
        "05-03-1985",
        "05.03.1985",
        "1985-03-05",
        "1985/03/05",
        "1985-3-5",
        "19850305",
        "1985-03-05 00:00:00",
        "1985-03-05T00:00:00",
        "  05/03/1985  ",
        "05 / 03 / 1985",
    ],
)
def test_every_accepted_full_date_form_reads_as_5_march_1985(text: str) -> None:
    assert parse_date(text, today=TODAY) == (PartialDate(1985, 3, 5), [])


@pytest.mark.parametrize(
    "text",
    ["1950", "00/00/1950", "0/0/1950", "--/--/1950", "xx/xx/1950", "XX/XX/1950", "19500000"],
)
def test_every_year_only_form_reads_as_the_year_alone(text: str) -> None:
    assert parse(text) == PartialDate(1950)


@pytest.mark.parametrize(
    "text", ["00/05/1950", "0/5/1950", "05/1950", "5/1950", "1950-05", "19500500"]
)
def test_every_month_precision_form_reads_as_may_1950(text: str) -> None:
    assert parse(text) == PartialDate(1950, 5)


@pytest.mark.parametrize("text", ["05/00/1985", "19850005"])
def test_a_day_without_a_month_is_an_error(text: str) -> None:
    e = error(text)
    assert e.code == "day_without_month"
    assert text in e.message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("31/02/1985", "February has only 28 days"),
        ("30/02/1984", "February has only 29 days"),
        ("29/02/1985", "1985 is not a leap year"),
        ("31/04/1985", "April has only 30 days"),
        ("1985-02-30", "February"),
        ("32/01/1985", "January has only 31 days"),
    ],
)
def test_a_day_that_does_not_exist_in_the_calendar_is_an_invalid_date(text: str, why: str) -> None:
    e = error(text)
    assert e.code == "invalid_date"
    assert text in e.message
    assert why in e.message


def test_29_february_is_accepted_in_leap_years() -> None:
    assert parse("29/02/1984") == PartialDate(1984, 2, 29)
    assert parse("29/02/2000") == PartialDate(2000, 2, 29)
    assert error("29/02/1900").code == "invalid_date"


def test_a_month_above_12_is_invalid_when_the_day_cannot_be_a_month_either() -> None:
    assert error("25/13/1985").code == "invalid_date"
    assert error("1985-13-05").code == "invalid_date"


@pytest.mark.parametrize("text", ["16/06/2025", "07/2025", "2026", "2025-12-31"])
def test_a_date_after_today_is_a_future_date(text: str) -> None:
    e = error(text)
    assert e.code == "future_date"
    assert text in e.message


def test_today_itself_and_a_partial_date_that_has_begun_are_not_in_the_future() -> None:
    assert parse("15/06/2025") == PartialDate(2025, 6, 15)
    assert parse("06/2025") == PartialDate(2025, 6)
    assert parse("2025") == PartialDate(2025)


def test_today_defaults_to_the_real_date() -> None:
    next_year = dt.date.today().year + 1
    assert parse_date(str(next_year - 1))[0] == PartialDate(next_year - 1)
    with pytest.raises(DateError) as info:
        parse_date(str(next_year))
    assert info.value.code == "future_date"


def test_a_year_before_1850_is_out_of_range() -> None:
    assert parse("1850") == PartialDate(1850)
    e = error("01/01/1849")
    assert e.code == "year_out_of_range"
    assert "1849" in e.message


@pytest.mark.parametrize("text", ["05/03/85", "5/3/85", "05.03.85"])
def test_a_two_digit_year_is_refused_because_the_century_is_ambiguous(text: str) -> None:
    e = error(text)
    assert e.code == "two_digit_year"
    assert text in e.message
    assert "1985" in e.message and "2085" in e.message


@pytest.mark.parametrize("text", ["31118", "31118.0", "45000"])
def test_a_five_digit_number_is_reported_as_an_excel_serial_not_guessed(text: str) -> None:
    e = error(text)
    assert e.code == "excel_serial"
    assert text in e.message
    assert "Excel" in e.message


@pytest.mark.parametrize(
    "text", ["abc", "05/03", "1985-03-05 10:30:00", "90000", "05031985", "5 3 1985", "１９８５"]
)
def test_anything_else_is_unrecognised_with_the_value_and_the_accepted_forms(text: str) -> None:
    e = error(text)
    assert e.code == "unrecognised_date"
    assert text in e.message
    if text != "05031985":
        assert "dd/mm/yyyy" in e.message


def test_a_blank_date_is_reported_as_missing() -> None:
    assert error("   ").code == "missing_date"


def test_a_date_error_is_a_value_error_whose_text_is_the_message() -> None:
    e = error("31/02/1985")
    assert isinstance(e, ValueError)
    assert str(e) == e.message


def test_only_1_january_carries_the_placeholder_warning() -> None:
    assert parse_date("1950-01-01", today=TODAY)[1] == ["placeholder_jan_1"]
    assert parse_date("02/01/1950", today=TODAY)[1] == []
    assert parse_date("01/1950", today=TODAY)[1] == []


# --- parse_date with a format -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("19850305", "%Y%m%d", PartialDate(1985, 3, 5)),
        ("19850300", "%Y%m%d", PartialDate(1985, 3)),
        ("19850000", "%Y%m%d", PartialDate(1985)),
        ("03/05/1985", "%m/%d/%Y", PartialDate(1985, 3, 5)),
        ("05/13/1985", "%m/%d/%Y", PartialDate(1985, 5, 13)),
        ("3/5/1985", "%m/%d/%Y", PartialDate(1985, 3, 5)),
        ("05/00/1985", "%m/%d/%Y", PartialDate(1985, 5)),
        ("00/00/1950", "%m/%d/%Y", PartialDate(1950)),
        ("05.03.1985", "%d.%m.%Y", PartialDate(1985, 3, 5)),
        ("5.3.1985", "%d.%m.%Y", PartialDate(1985, 3, 5)),
        ("00.00.1950", "%d.%m.%Y", PartialDate(1950)),
        (" 05.03.1985 ", "%d.%m.%Y", PartialDate(1985, 3, 5)),
        ("03/1985", "%m/%Y", PartialDate(1985, 3)),
        ("1985", "%Y", PartialDate(1985)),
        ("ngày 05 tháng 03 năm 1985", "ngày %d tháng %m năm %Y", PartialDate(1985, 3, 5)),
        ("100%-1985", "100%%-%Y", PartialDate(1985)),
    ],
)
def test_a_format_reads_its_own_order_including_zero_for_unknown_parts(
    text: str, fmt: str, expected: PartialDate
) -> None:
    assert parse(text, fmt) == expected


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("05/03/1985", "%d.%m.%Y"),
        ("1985-03-05", "%Y%m%d"),
        ("1985035", "%Y%m%d"),
        ("198503050", "%Y%m%d"),
        ("05/03/85", "%d/%m/%Y"),
        ("1985", "%d/%m/%Y"),
    ],
)
def test_text_that_does_not_match_the_format_is_a_format_mismatch_naming_it(
    text: str, fmt: str
) -> None:
    e = error(text, fmt)
    assert e.code == "format_mismatch"
    assert text in e.message
    assert fmt in e.message


def test_a_format_still_checks_the_calendar_the_future_and_the_order() -> None:
    assert error("19850230", "%Y%m%d").code == "invalid_date"
    assert error("20300101", "%Y%m%d").code == "future_date"
    e = error("13/05/1985", "%m/%d/%Y")
    assert e.code == "month_day_order"
    assert "day/month/year" in e.message
    assert error("00/05/1985", "%m/%d/%Y").code == "day_without_month"


@pytest.mark.parametrize(
    "fmt", ["%y%m%d", "%d/%m/%y", "%d/%m", "%d/%Y", "%H:%M %Y", "%Y%Y", "%Y%", "%m %b %Y"]
)
def test_an_unsupported_or_incomplete_format_is_a_value_error_at_call_time(fmt: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_date("01/01/1985", fmt, today=TODAY)
    assert not isinstance(info.value, DateError)
    assert fmt in str(info.value)


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("15-Oct-1953", "%d-%b-%Y", PartialDate(1953, 10, 15)),
        ("15-OCT-1953", "%d-%b-%Y", PartialDate(1953, 10, 15)),
        ("5 Sept. 1953", "%d %b %Y", PartialDate(1953, 9, 5)),
        ("October 5, 1953", "%B %d, %Y", PartialDate(1953, 10, 5)),
        ("Oct 1953", "%b %Y", PartialDate(1953, 10)),
        ("5Oct1953", "%d%b%Y", PartialDate(1953, 10, 5)),
        ("00-Oct-1953", "%d-%b-%Y", PartialDate(1953, 10)),
    ],
)
def test_a_month_may_be_an_english_name_or_abbreviation(
    text: str, fmt: str, expected: PartialDate
) -> None:
    assert parse(text, fmt) == expected


def test_a_month_name_that_is_no_month_does_not_match() -> None:
    assert error("15-Foo-1953", "%d-%b-%Y").code == "format_mismatch"


def test_several_formats_are_tried_in_order_and_the_first_match_is_kept() -> None:
    formats = ["%m/%d/%Y", "%d-%b-%Y"]
    assert parse("10/05/1953", formats) == PartialDate(1953, 10, 5)  # US order, as listed
    assert parse("15-Oct-1953", formats) == PartialDate(1953, 10, 15)
    e = error("1953.10.15", formats)
    assert e.code == "format_mismatch" and "any of %m/%d/%Y, %d-%b-%Y" in e.message
    # a value that matches a format but is not a date is that error, not the next format's
    assert error("13/05/1953", formats).code == "month_day_order"


def test_y_lower_case_is_refused_because_the_century_is_ambiguous() -> None:
    with pytest.raises(ValueError, match="century"):
        parse_date("050385", "%d%m%y")


def test_month_first_reads_a_slash_date_the_us_way_and_flags_the_other_order() -> None:
    date, _ = parse_date("10/05/1953", today=TODAY, month_first=True)
    assert date == PartialDate(1953, 10, 5)
    assert parse_date("10/00/1953", today=TODAY, month_first=True)[0] == PartialDate(1953, 10)
    with pytest.raises(DateError) as info:
        parse_date("25/10/1953", today=TODAY, month_first=True)
    assert info.value.code == "month_day_order" and "day/month/year" in info.value.message
    # forms that carry their own order are unaffected
    assert parse_date("1953-10-05", today=TODAY, month_first=True)[0] == PartialDate(1953, 10, 5)


def test_day_month_order_counts_only_the_values_that_settle_their_order() -> None:
    texts = ["25/10/1980", "10/25/1980", "10 / 26 / 1981", "05/03/1985", "1980-10-25", None, "",
             "32/10/1980", "00/10/1980", "12-31-1999"]  # fmt: skip
    assert day_month_order(texts) == (1, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15-Oct-1953", PartialDate(1953, 10, 15)),
        ("15 October 1953", PartialDate(1953, 10, 15)),
        ("Oct 15, 1953", PartialDate(1953, 10, 15)),
        ("Sept. 5, 1953", PartialDate(1953, 9, 5)),
        ("Oct 1953", PartialDate(1953, 10)),
    ],
)
def test_a_month_written_as_an_english_name_needs_no_format(
    text: str, expected: PartialDate
) -> None:
    assert parse(text) == expected


def test_a_word_that_is_no_month_is_not_a_date_and_a_named_date_is_still_checked() -> None:
    assert error("15-Foo-1953").code == "unrecognised_date"
    assert error("31-Feb-1953").code == "invalid_date"
