"""The bulk path's shortcut for new d/m/yyyy dates of birth (`BulkValidator._plain_date`)
gives exactly what the date check gives, or steps aside."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from importers.fields import FieldValue
from importers.mapping import CellPlan
from importers.readers import open_table
from importers.recognise import resolve_profile
from importers.validate import BulkValidator, RowValidator
from tests.support.dc01 import fake_rows, write_csv

TODAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def bound(tmp_path_factory: pytest.TempPathFactory) -> object:
    path = write_csv(tmp_path_factory.mktemp("dates") / "f.csv", fake_rows(3, seed=1))
    with open_table(path) as table:
        return resolve_profile(table.header, None)


def _bulk(bound: object, month_first: bool, collected_on: dt.date) -> BulkValidator:
    validator = RowValidator(
        collected_on=collected_on, communes_in_force={"00004"}, vintage="2025",
        today=TODAY, dob_month_first=month_first,
    )  # fmt: skip
    return BulkValidator(validator, CellPlan(bound))  # type: ignore[arg-type]


_PART = st.integers(0, 40).map(str) | st.integers(0, 9).map(lambda n: f"0{n}")


@settings(max_examples=600, deadline=None)
@given(
    day=_PART,
    month=_PART,
    year=st.integers(1840, 2030).map(str) | st.sampled_from(["0964", "1900", "2000", "1996"]),
    seps=st.sampled_from(["//", "..", "--", "/.", "/-"]),
    pad=st.sampled_from(["", " ", "  ", "\t"]),
    month_first=st.booleans(),
    collected_on=st.sampled_from([TODAY, dt.date(2026, 1, 15), dt.date(1999, 12, 31)]),
)
@example(day="29", month="2", year="2024", seps="//", pad="", month_first=False,
         collected_on=TODAY)  # fmt: skip
@example(day="29", month="2", year="1900", seps="//", pad="", month_first=False,
         collected_on=TODAY)  # fmt: skip
@example(day="23", month="11", year="2026", seps="//", pad="", month_first=False,
         collected_on=TODAY)  # fmt: skip
def test_a_plain_date_is_what_the_date_check_gives(
    bound: object, day: str, month: str, year: str, seps: str, pad: str, month_first: bool,
    collected_on: dt.date,
) -> None:  # fmt: skip
    bulk = _bulk(bound, month_first, collected_on)
    index = bulk.validator.field_checks.index("dob")
    fv = FieldValue(f"{pad}{day}{seps[0]}{month}{seps[1]}{year}{pad}", ("Ngày sinh",))
    fast = bulk._plain_date(fv)
    if fast is not None:
        assert fast == bulk.validator._compute(index, fv)


def test_plain_dates_take_the_shortcut_and_the_others_do_not(bound: object) -> None:
    bulk = _bulk(bound, False, TODAY)
    taken = [
        text for text in ("1/9/1964", "01.09.1964", "31-12-1999", "29/2/2024", "23/11/2026")
        if bulk._plain_date(FieldValue(text, ("c",))) is not None
    ]  # fmt: skip
    assert taken == ["1/9/1964", "01.09.1964", "31-12-1999", "29/2/2024", "23/11/2026"]
    others = ("1/1/1990", "29/2/2023", "24/11/2026", "13/13/1990", "00/09/1964", "1/9/1849",
              "1964-09-01", "1/9/64", "1/9.1964", "x/9/1964", "\uff11/9/1964")  # fmt: skip
    for text in others:
        assert bulk._plain_date(FieldValue(text, ("c",))) is None, text
    us = _bulk(bound, True, TODAY)  # a column written month first
    assert us._plain_date(FieldValue("9/30/1964", ("c",))) == us.validator._compute(
        us.validator.field_checks.index("dob"), FieldValue("9/30/1964", ("c",))
    )
    assert us._plain_date(FieldValue("30/9/1964", ("c",))) is None


def test_a_date_with_a_format_in_the_profile_is_left_to_the_check(bound: object) -> None:
    bulk = _bulk(bound, False, TODAY)
    assert bulk._plain_date(FieldValue("1/9/1964", ("c",), "%m/%d/%Y")) is None
