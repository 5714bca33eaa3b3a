"""Personal identification numbers and old CMND numbers (domain.md 2, 4.7, A.4 #50-53)."""

from __future__ import annotations

import dataclasses
import pickle
import random
import unicodedata
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from popdb.core import pin
from popdb.core.pin import (
    COUNTRY_CODE_RANGE,
    PIN_PLACES,
    PinError,
    PinInfo,
    cross_check,
    generate_pin,
    is_duplicated_cmnd,
    normalize_cmnd,
    normalize_pin,
    parse_pin,
)

TODAY = date(2025, 11, 23)
FAR_FUTURE = date(2399, 12, 31)


def error_of(raw: object, **kwargs: object) -> PinError:
    with pytest.raises(PinError) as caught:
        parse_pin(raw, today=TODAY, **kwargs)  # type: ignore[arg-type]
    return caught.value


# --- Section 4.7 "Identification numbers" -------------------------------------------------


def test_001089012345_is_a_man_born_1989_registered_in_ha_noi() -> None:
    info = parse_pin("001089012345", today=TODAY)
    assert info == PinInfo(
        number="001089012345",
        place_code="001",
        place_name="Hà Nội",
        abroad=False,
        sex=1,
        birth_year=1989,
        warnings=(),
    )


def test_a_number_typed_in_groups_is_a_woman_born_2003_registered_in_ho_chi_minh_city() -> None:
    info = parse_pin("079 303 000 123", today=TODAY)
    assert info.number == "079303000123"
    assert (info.place_name, info.sex, info.birth_year) == ("TP Hồ Chí Minh", 2, 2003)


def test_an_11_digit_number_is_reported_as_a_lost_leading_zero_with_the_padded_number() -> None:
    err = error_of("01089012345")
    assert err.code == "leading_zero_lost"
    assert err.suggestion == "001089012345"
    assert "001089012345" in err.message


def test_place_code_098_is_rejected_as_unknown() -> None:
    assert error_of("098199000001").code == "unknown_place"


def test_a_number_saying_born_2099_is_rejected_as_a_future_year() -> None:
    err = error_of("001299000001")
    assert err.code == "future_year"
    assert "2099" in err.message


def test_a_number_saying_1939_on_a_record_born_1994_gives_a_year_warning_not_an_error() -> None:
    info = parse_pin("027139005852", today=TODAY)
    assert (info.birth_year, info.sex, info.place_name) == (1939, 2, "Bắc Ninh")
    assert cross_check(info, birth_year=1994) == ["pin_birth_year_mismatch"]


def test_the_same_9_digit_cmnd_from_two_provinces_is_one_string_flagged_as_duplicated() -> None:
    # 271460000 issued in Đồng Nai and in Bà Rịa-Vũng Tàu: the number alone cannot tell the
    # two holders apart, so it must never link them.
    dong_nai, ba_ria = normalize_cmnd("271460000"), normalize_cmnd("271 460 000")
    assert dong_nai == ba_ria == "271460000"
    assert is_duplicated_cmnd(dong_nai)


# --- Appendix A.4 #50-53 ------------------------------------------------------------------


def test_a_10_digit_number_equals_the_12_digit_one_after_padding_with_a_warning() -> None:
    padded = parse_pin("1089012345", today=TODAY, restore_leading_zeros=True)
    original = parse_pin("001089012345", today=TODAY)
    assert padded.number == original.number == "001089012345"
    assert padded.warnings == ("leading_zero_restored",)
    assert dataclasses.replace(padded, warnings=()) == original


def test_a_10_digit_number_is_refused_unless_restoring_zeros_is_asked_for() -> None:
    err = error_of("1089012345")
    assert (err.code, err.suggestion) == ("leading_zero_lost", "001089012345")


def test_a_number_grouped_by_threes_equals_the_ungrouped_number() -> None:
    assert parse_pin("001 089 012 345", today=TODAY) == parse_pin("001089012345", today=TODAY)


def test_a_fullwidth_digit_is_rejected_as_a_non_ascii_digit() -> None:
    assert error_of("00108901234５").code == "non_ascii_digit"
    with pytest.raises(PinError) as caught:
        normalize_pin("00108901234５")
    assert caught.value.code == "non_ascii_digit"
    assert "12" in caught.value.message


def test_cmnd_ranges_issued_twice_are_flagged_and_neighbours_are_not() -> None:
    assert is_duplicated_cmnd("271450001")
    assert is_duplicated_cmnd(271500000)
    assert not is_duplicated_cmnd("271450000")
    assert not is_duplicated_cmnd("271500001")


# --- Places, century and sex --------------------------------------------------------------


def test_the_place_table_has_the_63_pre_2025_provinces_as_zero_and_two_digits() -> None:
    assert len(PIN_PLACES) == 63
    assert all(len(code) == 3 and code.startswith("0") for code in PIN_PLACES)
    assert PIN_PLACES["001"] == "Hà Nội"
    assert PIN_PLACES["096"] == "Cà Mau"
    assert all(unicodedata.is_normalized("NFC", name) for name in PIN_PLACES.values())


def test_place_024_means_bac_giang_not_the_post_2025_province_24() -> None:
    assert PIN_PLACES["024"] == "Bắc Giang"
    assert parse_pin("024095000001", today=TODAY).place_name == "Bắc Giang"


def test_the_place_table_cannot_be_modified() -> None:
    with pytest.raises(TypeError):
        PIN_PLACES["099"] = "Nowhere"  # type: ignore[index]


@pytest.mark.parametrize(
    ("g", "birth_year", "sex"),
    [
        ("0", 1945, 1),
        ("1", 1945, 2),
        ("2", 2045, 1),
        ("3", 2045, 2),
        ("4", 2145, 1),
        ("5", 2145, 2),
        ("6", 2245, 1),
        ("7", 2245, 2),
        ("8", 2345, 1),
        ("9", 2345, 2),
    ],
)
def test_the_fourth_digit_gives_century_and_sex(g: str, birth_year: int, sex: int) -> None:
    info = parse_pin(f"001{g}45000001", today=FAR_FUTURE)
    assert (info.birth_year, info.sex) == (birth_year, sex)


@pytest.mark.parametrize(
    ("number", "birth_year"),
    [("001000000001", 1900), ("001199000001", 1999), ("001200000001", 2000)],
)
def test_century_boundaries_fall_on_the_years_ending_in_00(number: str, birth_year: int) -> None:
    assert parse_pin(number, today=TODAY).birth_year == birth_year


def test_a_century_digit_for_the_2100s_is_rejected_before_that_century_begins() -> None:
    assert error_of("001400000001").code == "bad_century"
    assert error_of("001900000001").code == "bad_century"


def test_a_birth_in_the_current_year_is_accepted_and_next_year_is_not() -> None:
    assert parse_pin("001225000001", today=TODAY).birth_year == 2025
    assert error_of("001226000001").code == "future_year"


def test_today_defaults_to_the_real_date() -> None:
    assert parse_pin("001089012345").birth_year == 1989
    next_year = date.today().year + 1
    with pytest.raises(PinError) as caught:
        parse_pin(f"001{(next_year - 1900) // 100 * 2}{next_year % 100:02d}000001")
    assert caught.value.code in {"future_year", "bad_century"}


def test_a_country_code_is_accepted_as_abroad_with_an_unverified_warning() -> None:
    info = parse_pin("101090000001", today=TODAY)
    assert (info.abroad, info.place_code, info.place_name) == (True, "101", None)
    assert info.warnings == ("abroad_code_unverified",)
    assert parse_pin("295090000001", today=TODAY).abroad
    assert (COUNTRY_CODE_RANGE.start, COUNTRY_CODE_RANGE.stop) == (101, 296)


@pytest.mark.parametrize("place", ["000", "003", "097", "100", "296", "999"])
def test_codes_outside_the_provinces_and_the_country_range_are_unknown(place: str) -> None:
    assert error_of(f"{place}090000001").code == "unknown_place"


# --- Input forms and error codes ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["079-303-000-123", "079.303.000.123", " 079303000123 ", "079\u00a0303\u2013000 123"],
)
def test_spaces_dots_and_dashes_are_ignored(raw: str) -> None:
    assert normalize_pin(raw) == "079303000123"


def test_an_int_is_read_as_its_decimal_digits_so_its_leading_zero_is_lost() -> None:
    err = error_of(79303000123)
    assert (err.code, err.suggestion) == ("leading_zero_lost", "079303000123")
    restored = parse_pin(1089012345, today=TODAY, restore_leading_zeros=True)
    assert restored.number == "001089012345"
    assert "leading_zero_restored" in restored.warnings


def test_an_int_of_12_digits_parses_like_its_string() -> None:
    assert parse_pin(101090000001, today=TODAY) == parse_pin("101090000001", today=TODAY)


@pytest.mark.parametrize("raw", [True, -1089012345])
def test_booleans_and_negative_ints_are_not_numbers(raw: int) -> None:
    assert error_of(raw).code == "not_digits"


def test_letters_are_rejected_as_not_digits_naming_the_position() -> None:
    err = error_of("00108901234O")
    assert err.code == "not_digits"
    assert "12" in err.message
    with pytest.raises(PinError) as caught:
        normalize_pin("ABC")
    assert caught.value.code == "not_digits"


def test_a_spreadsheet_scientific_number_is_rejected_as_lost_digits() -> None:
    assert error_of("1.23457E+11").code == "scientific_notation"
    assert error_of("1,23457e+11").code == "scientific_notation"


def test_a_number_written_out_as_a_float_loses_only_its_fraction() -> None:
    assert pin.normalize_pin("001174371825.0") == "001174371825"
    assert pin.parse_pin("1174371825.00", restore_leading_zeros=True).number == "001174371825"
    assert pin.normalize_pin("079.303.000.123") == "079303000123"  # dots as group separators


@pytest.mark.parametrize("raw", ["", "   ", " - . "])
def test_an_empty_value_is_rejected_as_empty(raw: str) -> None:
    assert error_of(raw).code == "empty"


@pytest.mark.parametrize("raw", ["1", "00108901", "0010890123456", "001089012345001"])
def test_other_lengths_are_rejected_as_wrong_length(raw: str) -> None:
    assert error_of(raw).code == "wrong_length"


def test_a_9_digit_value_in_the_pin_field_points_the_clerk_to_the_cmnd_field() -> None:
    err = error_of("271460000")
    assert err.code == "wrong_length"
    assert "CMND" in err.message


def test_an_11_digit_value_that_cannot_be_a_province_code_is_a_wrong_length() -> None:
    # "0" + "99" is no province: padding would only invent a number.
    err = error_of("99123456789")
    assert err.code == "wrong_length"
    assert err.suggestion is None
    assert error_of("99123456789", restore_leading_zeros=True).code == "wrong_length"


def test_restored_zeros_still_go_through_every_other_check() -> None:
    assert error_of("1299000001", restore_leading_zeros=True).code == "future_year"


def test_a_pin_error_is_a_value_error_whose_text_is_the_message() -> None:
    err = error_of("098199000001")
    assert isinstance(err, ValueError)
    assert str(err) == err.message
    assert "098" in err.message


def test_a_pin_error_survives_pickling_with_its_code_and_suggestion() -> None:
    err = pickle.loads(pickle.dumps(error_of("01089012345")))
    assert (err.code, err.suggestion) == ("leading_zero_lost", "001089012345")
    assert str(err) == err.message


# --- cross_check --------------------------------------------------------------------------


@pytest.fixture
def hcm_woman_2003() -> PinInfo:
    return parse_pin("079303000123", today=TODAY)


def test_a_record_agreeing_with_the_number_gives_no_warning(hcm_woman_2003: PinInfo) -> None:
    assert cross_check(hcm_woman_2003, birth_year=2003, sex=2, birth_place_code="79") == []
    assert cross_check(hcm_woman_2003, birth_place_code="079") == []
    assert cross_check(hcm_woman_2003) == []


def test_a_different_sex_is_a_warning(hcm_woman_2003: PinInfo) -> None:
    assert cross_check(hcm_woman_2003, sex=1) == ["pin_sex_mismatch"]


@pytest.mark.parametrize("sex", [0, 9, None])
def test_an_unknown_sex_is_not_compared(hcm_woman_2003: PinInfo, sex: int | None) -> None:
    assert cross_check(hcm_woman_2003, sex=sex) == []


@pytest.mark.parametrize("code", ["01", "001", " 01 "])
def test_a_different_birth_province_is_a_warning(hcm_woman_2003: PinInfo, code: str) -> None:
    assert cross_check(hcm_woman_2003, birth_place_code=code) == ["pin_place_mismatch"]


@pytest.mark.parametrize("code", ["7", "98", "79001", "Hà Nội", ""])
def test_an_unrecognised_birth_place_code_is_a_warning_too(
    hcm_woman_2003: PinInfo, code: str
) -> None:
    assert cross_check(hcm_woman_2003, birth_place_code=code) == ["birth_place_code_unrecognised"]


def test_a_birth_abroad_differs_from_any_province(hcm_woman_2003: PinInfo) -> None:
    abroad = parse_pin("101090000001", today=TODAY)
    assert cross_check(abroad, birth_place_code="79") == ["pin_place_mismatch"]
    assert cross_check(abroad, birth_place_code="101") == []


def test_every_mismatch_is_reported_at_once(hcm_woman_2003: PinInfo) -> None:
    assert cross_check(hcm_woman_2003, birth_year=2004, sex=1, birth_place_code="01") == [
        "pin_birth_year_mismatch",
        "pin_sex_mismatch",
        "pin_place_mismatch",
    ]


# --- generate_pin -------------------------------------------------------------------------


def test_a_generated_number_starts_with_place_century_sex_and_year() -> None:
    number = generate_pin(place_code="079", sex=2, birth_year=2003, rng=random.Random(1))
    assert number[:6] == "079303"
    assert len(number) == 12 and number.isdigit()


def test_generation_draws_from_the_system_csprng_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    drawn: list[int] = []

    class FakeSystemRandom(random.Random):
        def randrange(self, *args: object, **kwargs: object) -> int:  # type: ignore[override]
            drawn.append(1)
            return 42

    monkeypatch.setattr(pin.secrets, "SystemRandom", FakeSystemRandom)
    assert generate_pin(place_code="001", sex=1, birth_year=1989) == "001089000042"
    assert drawn == [1]


def test_the_default_generator_gives_a_valid_number() -> None:
    info = parse_pin(generate_pin(place_code="096", sex=1, birth_year=1900), today=TODAY)
    assert (info.place_name, info.sex, info.birth_year) == ("Cà Mau", 1, 1900)


def test_generated_tails_are_random_not_sequential() -> None:
    rng = random.Random(20251123)
    tails = [
        int(generate_pin(place_code="001", sex=1, birth_year=1989, rng=rng)[6:])
        for _ in range(1000)
    ]
    # 1000 draws from 10^6 values collide about 39% of the time (birthday bound), so we do not
    # demand 1000 distinct values: that is what the database's unique constraint is for.
    assert len(set(tails)) >= 995
    steps = [b - a for a, b in zip(tails, tails[1:], strict=False)]
    assert 1 not in steps
    assert 350 < sum(step > 0 for step in steps) < 650
    assert min(tails) < 10_000 and max(tails) > 990_000


def test_the_first_100_draws_of_a_seeded_generator_are_all_distinct() -> None:
    rng = random.Random(7)
    numbers = [generate_pin(place_code="079", sex=2, birth_year=2003, rng=rng) for _ in range(100)]
    assert len(set(numbers)) == 100


@pytest.mark.parametrize(
    "kwargs",
    [
        {"place_code": "098", "sex": 1, "birth_year": 1989},
        {"place_code": "79", "sex": 1, "birth_year": 1989},
        {"place_code": "101", "sex": 1, "birth_year": 1989},
        {"place_code": "001", "sex": 0, "birth_year": 1989},
        {"place_code": "001", "sex": 3, "birth_year": 1989},
        {"place_code": "001", "sex": True, "birth_year": 1989},
        {"place_code": "001", "sex": 1, "birth_year": 1899},
        {"place_code": "001", "sex": 1, "birth_year": 2400},
    ],
)
def test_generation_refuses_invalid_inputs(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        generate_pin(**kwargs)


# --- normalize_cmnd -----------------------------------------------------------------------


def test_a_9_digit_cmnd_is_returned_as_its_digits() -> None:
    assert normalize_cmnd("271 460 000") == "271460000"
    assert normalize_cmnd(271460000) == "271460000"
    assert normalize_cmnd("095123456") == "095123456"


def test_a_12_digit_cmnd_follows_the_pin_layout_and_is_returned() -> None:
    assert normalize_cmnd("001 089 012 345") == "001089012345"
    assert not is_duplicated_cmnd("001089012345")


def test_a_12_digit_cmnd_is_validated_as_a_pin() -> None:
    with pytest.raises(PinError) as caught:
        normalize_cmnd("098199000001")
    assert caught.value.code == "unknown_place"


def test_an_8_digit_cmnd_lost_its_leading_zero() -> None:
    with pytest.raises(PinError) as caught:
        normalize_cmnd(12345678)
    assert (caught.value.code, caught.value.suggestion) == ("leading_zero_lost", "012345678")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("1234567", "wrong_length"),
        ("5234567890", "wrong_length"),
        ("1234567890", "leading_zero_lost"),
        ("01089012345", "leading_zero_lost"),
        ("27146000O", "not_digits"),
        ("27146000０", "non_ascii_digit"),
        ("", "empty"),
    ],
)
def test_other_cmnd_values_are_rejected_with_a_code(raw: str, code: str) -> None:
    with pytest.raises(PinError) as caught:
        normalize_cmnd(raw)
    assert caught.value.code == code


# --- Properties ---------------------------------------------------------------------------


@given(
    place=st.sampled_from(sorted(PIN_PLACES)),
    sex=st.sampled_from([1, 2]),
    birth_year=st.integers(1900, 2399),
    seed=st.integers(0, 2**32),
)
def test_any_generated_number_parses_back_to_its_place_sex_and_year(
    place: str, sex: int, birth_year: int, seed: int
) -> None:
    number = generate_pin(place_code=place, sex=sex, birth_year=birth_year, rng=random.Random(seed))
    info = parse_pin(number, today=FAR_FUTURE)
    assert (info.number, info.place_code, info.sex, info.birth_year) == (
        number,
        place,
        sex,
        birth_year,
    )
    assert info.place_name == PIN_PLACES[place]
    assert info.warnings == ()


@given(st.from_regex(r"[0-9]{12}", fullmatch=True))
def test_a_valid_number_is_unchanged_by_separators_and_by_normalizing(number: str) -> None:
    spaced = f"{number[:3]} {number[3:6]}.{number[6:9]}-{number[9:]}"
    assert normalize_pin(spaced) == normalize_pin(number) == number


anything = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 .-５eE+,", max_size=16),
    st.from_regex(r"\d{8,13}", fullmatch=True),
    st.integers(),
    st.integers(0, 10**13),
)


@given(anything, st.booleans())
def test_parsing_arbitrary_input_raises_nothing_but_pin_error(
    raw: str | int, restore: bool
) -> None:
    try:
        info = parse_pin(raw, today=TODAY, restore_leading_zeros=restore)
    except PinError as err:
        assert err.code and err.message
    else:
        assert len(info.number) == 12 and info.number.isascii() and info.number.isdigit()
        assert info.birth_year <= TODAY.year


@given(anything)
def test_normalizing_an_arbitrary_cmnd_raises_nothing_but_pin_error(raw: str | int) -> None:
    try:
        digits = normalize_cmnd(raw)
    except PinError as err:
        assert err.code and err.message
    else:
        assert len(digits) in (9, 12) and digits.isascii() and digits.isdigit()
