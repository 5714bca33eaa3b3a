"""Coded fields through alias tables (domain.md 1.2, 1.5, 1.6, A.1, A.2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from popdb.core import codes
from popdb.core.codes import (
    ALPHA3_TO_ALPHA2,
    ETHNICITIES,
    HOUSEHOLD_RELATIONS,
    ISO_ALPHA2,
    RELIGIONS,
    SEXES,
    Coded,
    blood_group,
    ethnicity,
    household_relation,
    marital_status,
    nationality,
    religion,
    sex,
)

Field = Callable[[str | None], Coded | None]

ALL: list[Field] = [
    sex,
    ethnicity,
    religion,
    marital_status,
    blood_group,
    nationality,
    household_relation,
]


def code_of(result: Coded | None) -> str | int | None:
    assert result is not None
    return result.code


def clean_code(result: Coded | None) -> str | int | None:
    """The code of a result that carries no warning."""
    assert result is not None
    assert result.warning is None, result.warning
    return result.code


def refused(result: Coded | None, raw: str) -> str:
    """The warning of a result without a code; it must quote the raw value."""
    assert result is not None
    assert result.code is None
    assert result.warning is not None
    assert f'"{raw}"' in result.warning
    return result.warning


# --- common behaviour -------------------------------------------------------------------------


@pytest.mark.parametrize("fn", ALL)
@pytest.mark.parametrize("blank", [None, "", "   ", "\u00a0\u200b"])
def test_a_missing_value_gives_no_result_at_all(fn: Field, blank: str | None) -> None:
    assert fn(blank) is None


@pytest.mark.parametrize("fn", ALL)
def test_an_unknown_value_gives_no_code_and_a_warning_quoting_it(fn: Field) -> None:
    warning = refused(fn("Sao Hỏa xyz"), "Sao Hỏa xyz")
    assert "kept as text" in warning


@pytest.mark.parametrize("fn", [ethnicity, religion, nationality, household_relation])
def test_no_alias_table_has_a_folded_key_shared_by_two_codes_except_the_known_ones(
    fn: Field,
) -> None:
    tables: dict[Field, codes._Aliases] = {  # type: ignore[type-arg]
        ethnicity: codes._ETHNICITY,
        religion: codes._RELIGION,
        nationality: codes._NATIONALITY,
        household_relation: codes._HOUSEHOLD,
    }
    shared = tables[fn].ambiguous_folded_keys()
    assert shared == ({"ba": {"father", "grandmother"}} if fn is household_relation else {})


def test_surrounding_spaces_and_invisible_characters_do_not_matter() -> None:
    assert clean_code(ethnicity("  Mường\u200b ")) == "04"
    assert clean_code(religion("Phật\u00a0giáo")) == "01"


# --- sex ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Nam", 1),
        ("nam", 1),
        ("NAM", 1),
        ("M", 1),
        ("Male", 1),
        ("1", 1),
        ("Trai", 1),
        ("Nữ", 2),
        ("NỮ", 2),
        ("Nu", 2),
        ("NU", 2),
        ("F", 2),
        ("female", 2),
        ("2", 2),
        ("Gái", 2),
        ("Gai", 2),
        ("0", 0),
        ("Không rõ", 0),
        ("Khong ro", 0),
        ("Unknown", 0),
    ],
)
def test_sex_is_coded_as_qcvn_109_integers(text: str, code: int) -> None:
    assert clean_code(sex(text)) == code


def test_the_sex_list_has_the_three_qcvn_values() -> None:
    assert dict(SEXES) == {1: "Nam", 2: "Nữ", 0: "Không rõ"}


def test_sex_with_the_wrong_accent_is_read_with_a_warning() -> None:
    result = sex("Nũ")
    assert code_of(result) == 2
    assert result is not None and result.warning is not None and '"Nũ"' in result.warning


@pytest.mark.parametrize("text", ["3", "X", "Khác"])
def test_any_other_sex_value_is_refused(text: str) -> None:
    refused(sex(text), text)


# --- ethnicity ------------------------------------------------------------------------------


def test_the_ethnicity_list_is_the_54_groups_of_2008_in_code_order() -> None:
    assert [code for code, _ in ETHNICITIES] == [f"{n:02d}" for n in range(1, 55)]
    assert len({name for _, name in ETHNICITIES}) == 54


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("01", "Kinh"),
        ("02", "Tày"),
        ("03", "Thái"),
        ("04", "Mường"),
        ("05", "Khơ me"),
        ("06", "Hoa"),
        ("08", "Mông"),
        ("11", "Ê Đê"),
        ("21", "Thổ"),
        ("43", "Ngái"),
        ("52", "Rơ Măm"),
        ("54", "Ơ Đu"),
    ],
)
def test_the_2008_codes_are_those_of_qcvn_109_not_the_1979_ones(code: str, name: str) -> None:
    assert dict(ETHNICITIES)[code] == name
    assert clean_code(ethnicity(name)) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Kinh", "01"),
        ("KINH", "01"),
        ("Việt", "01"),
        ("Kinh (Việt)", "01"),
        ("Dân tộc Kinh", "01"),
        ("Tày", "02"),
        ("Tay", "02"),
        ("Thái", "03"),
        ("Thai", "03"),
        ("Mường", "04"),
        ("MƯỜNG", "04"),
        ("Muong", "04"),
        ("Khơ-me", "05"),
        ("Khơ me", "05"),
        ("Khmer", "05"),
        ("KHO ME", "05"),
        ("Hoa", "06"),
        ("Người Hoa", "06"),
        ("H'Mông", "08"),
        ("H\u2019Mông", "08"),
        ("HMông", "08"),
        ("Mông", "08"),
        ("Hmong", "08"),
        ("Mèo", "08"),
        ("Mán", "09"),
        ("Dao", "09"),
        ("Ê-đê", "11"),
        ("Ê Đê", "11"),
        ("ê đê", "11"),
        ("Ede", "11"),
        ("Xtiêng", "22"),
        ("Stiêng", "22"),
        ("X'Tiêng", "22"),
        ("Cờ Lao", "47"),
        ("Cơ Lao", "47"),
        ("Co Lao", "47"),
        ("Co", "30"),
        ("Rơ-măm", "52"),
        ("Ro Mam", "52"),
        ("Bru-Vân Kiều", "24"),
        ("Giẻ Triêng", "29"),
        ("O Du", "54"),
    ],
)
def test_ethnicity_aliases_of_appendix_a1_reach_their_2008_code(text: str, code: str) -> None:
    assert clean_code(ethnicity(text)) == code


def test_tho_is_the_official_group_21_when_written_exactly() -> None:
    assert clean_code(ethnicity("Thổ")) == "21"
    assert clean_code(ethnicity("THỔ")) == "21"


@pytest.mark.parametrize(("text", "code"), [("04", "04"), ("4", "04"), ("54", "54"), ("1", "01")])
def test_a_bare_number_is_a_2008_ethnicity_code(text: str, code: str) -> None:
    assert clean_code(ethnicity(text)) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Người nước ngoài", "55"),
        ("Nguoi nuoc ngoai", "55"),
        ("Foreigner", "55"),
        ("55", "55"),
        ("Không rõ", "00"),
        ("Unknown", "00"),
        ("0", "00"),
    ],
)
def test_foreigner_and_unknown_have_the_system_extension_codes(text: str, code: str) -> None:
    assert clean_code(ethnicity(text)) == code


@pytest.mark.parametrize("text", ["56", "99"])
def test_a_number_outside_the_list_is_refused(text: str) -> None:
    refused(ethnicity(text), text)


def test_an_ethnicity_with_the_wrong_accents_is_read_with_a_warning_to_check_it() -> None:
    result = ethnicity("Mương")
    assert code_of(result) == "04"
    assert result is not None and result.warning is not None
    assert '"Mương"' in result.warning
    assert "Mường (04)" in result.warning


def test_every_official_name_and_its_ascii_form_reach_its_own_code() -> None:
    from popdb.core.text import fold

    for code, name in ETHNICITIES:
        assert clean_code(ethnicity(name)) == code
        assert clean_code(ethnicity(fold(name))) == code
        assert clean_code(ethnicity(name.upper())) == code


# --- religion -------------------------------------------------------------------------------


def test_the_religion_list_is_none_plus_the_14_codes_of_appendix_a2() -> None:
    assert [code for code, _ in RELIGIONS] == [f"{n:02d}" for n in range(15)]
    assert RELIGIONS[0] == ("00", "Không")
    assert dict(RELIGIONS)["02"] == "Công giáo"
    assert dict(RELIGIONS)["14"] == "Mặc Môn"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Không", "00"),
        ("KHÔNG", "00"),
        ("Khong", "00"),
        ("Không có", "00"),
        ("Không tôn giáo", "00"),
        ("None", "00"),
        ("KTG", "00"),
        ("Phật giáo", "01"),
        ("Phat giao", "01"),
        ("PHẬT GIÁO", "01"),
        ("Đạo Phật", "01"),
        ("Phật", "01"),
        ("Buddhism", "01"),
        ("Công giáo", "02"),
        ("Thiên chúa giáo", "02"),
        ("Đạo Thiên Chúa", "02"),
        ("Catholic", "02"),
        ("Phật giáo Hoà Hảo", "03"),
        ("Hòa Hảo", "03"),
        ("Hồi giáo", "04"),
        ("Islam", "04"),
        ("Cao đài", "05"),
        ("Đạo Cao Đài", "05"),
        ("Tin lành", "08"),
        ("Đạo Tin Lành", "08"),
        ("Protestant", "08"),
        ("Tứ Ân Hiếu Nghĩa", "10"),
        ("Baha'i", "12"),
        ("Bà-la-môn", "13"),
        ("Mormon", "14"),
    ],
)
def test_religions_and_their_aliases_reach_their_code(text: str, code: str) -> None:
    assert clean_code(religion(text)) == code


@pytest.mark.parametrize(("text", "code"), [("00", "00"), ("0", "00"), ("2", "02"), ("14", "14")])
def test_a_bare_number_is_a_religion_code(text: str, code: str) -> None:
    assert clean_code(religion(text)) == code


@pytest.mark.parametrize("text", ["Cơ đốc Phục lâm", "Phật giáo Hiếu Nghĩa Tà Lơn", "Adventist"])
def test_a_recognised_religion_without_a_code_is_kept_as_text_with_a_warning(text: str) -> None:
    warning = refused(religion(text), text)
    assert "recognised religion" in warning
    assert "kept as text" in warning


@pytest.mark.parametrize("text", ["Khác", "Không rõ", "99", "15"])
def test_other_unknown_and_unlisted_religion_codes_are_kept_as_text(text: str) -> None:
    assert "kept as text" in refused(religion(text), text)


# --- marital status -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Chưa kết hôn", 1),
        ("Chua ket hon", 1),
        ("Độc thân", 1),
        ("Single", 1),
        ("Đã kết hôn", 2),
        ("ĐÃ KẾT HÔN", 2),
        ("Có vợ", 2),
        ("Có chồng", 2),
        ("Married", 2),
        ("Ly hôn", 3),
        ("Góa", 3),
        ("Goá", 3),
        ("Goa", 3),
        ("Divorced", 3),
        ("Widowed", 3),
        ("0", 0),
        ("Không rõ", 0),
        ("1", 1),
        ("2", 2),
        ("3", 3),
    ],
)
def test_marital_status_is_coded_0_to_3(text: str, code: int) -> None:
    assert clean_code(marital_status(text)) == code


@pytest.mark.parametrize("text", ["4", "Ly thân"])
def test_other_marital_statuses_are_refused(text: str) -> None:
    refused(marital_status(text), text)


# --- blood group ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("A", "01"),
        ("a", "01"),
        ("B", "02"),
        ("AB", "03"),
        ("ab", "03"),
        ("O", "04"),
        ("o", "04"),
        ("Nhóm máu O", "04"),
        ("nhom mau AB", "03"),
        ("00", "00"),
        ("01", "01"),
        ("04", "04"),
        ("Không rõ", "00"),
    ],
)
def test_blood_groups_are_coded_00_to_04(text: str, code: str) -> None:
    assert clean_code(blood_group(text)) == code


@pytest.mark.parametrize(
    ("text", "code"),
    [("A+", "01"), ("O Rh-", "04"), ("AB Rh+", "03"), ("B Rh dương", "02"), ("0+", "04")],
)
def test_an_rh_factor_keeps_the_group_with_a_warning_that_rh_is_not_recorded(
    text: str, code: str
) -> None:
    result = blood_group(text)
    assert code_of(result) == code
    assert result is not None and result.warning is not None
    assert f'"{text}"' in result.warning
    assert "Rh" in result.warning


def test_a_lone_zero_is_refused_as_either_group_o_or_no_information() -> None:
    warning = refused(blood_group("0"), "0")
    assert "group O" in warning


@pytest.mark.parametrize("text", ["05", "C", "A2B"])
def test_other_blood_groups_are_refused(text: str) -> None:
    refused(blood_group(text), text)


# --- nationality ----------------------------------------------------------------------------


def test_the_alpha2_list_has_all_249_iso_codes_and_the_alpha3_map_points_into_it() -> None:
    assert len(ISO_ALPHA2) == 249
    assert all(len(c) == 2 and c.isupper() for c in ISO_ALPHA2)
    assert {"VN", "LA", "KH", "CN", "AX", "SS"} <= ISO_ALPHA2
    assert "XK" not in ISO_ALPHA2  # Kosovo: user-assigned, not an ISO code
    assert set(ALPHA3_TO_ALPHA2.values()) <= ISO_ALPHA2
    assert len(ALPHA3_TO_ALPHA2) >= 40


@pytest.mark.parametrize(
    "alpha3", ["VNM", "LAO", "KHM", "THA", "MMR", "MYS", "SGP", "IDN", "PHL", "BRN", "TLS"]
)
def test_every_asean_alpha3_code_is_mapped(alpha3: str) -> None:
    assert clean_code(nationality(alpha3)) == ALPHA3_TO_ALPHA2[alpha3]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Việt Nam", "VN"),
        ("VIỆT NAM", "VN"),
        ("Viet Nam", "VN"),
        ("Vietnam", "VN"),
        ("VN", "VN"),
        ("vn", "VN"),
        ("VNM", "VN"),
        ("Trung Quốc", "CN"),
        ("China", "CN"),
        ("Lào", "LA"),
        ("Laos", "LA"),
        ("Lao", "LA"),
        ("Campuchia", "KH"),
        ("Cam-pu-chia", "KH"),
        ("Cambodia", "KH"),
        ("Hàn Quốc", "KR"),
        ("Han Quoc", "KR"),
        ("Nhật Bản", "JP"),
        ("Hoa Kỳ", "US"),
        ("Mỹ", "US"),
        ("USA", "US"),
        ("Pháp", "FR"),
        ("Úc", "AU"),
        ("Australia", "AU"),
        ("Đài Loan", "TW"),
        ("Thái Lan", "TH"),
        ("Nga", "RU"),
        ("NGA", "RU"),
        ("Quốc tịch Việt Nam", "VN"),
        ("ZW", "ZW"),
        ("MY", "MY"),
        ("AO", "AO"),
    ],
)
def test_nationality_is_coded_iso_alpha2_from_codes_and_names(text: str, code: str) -> None:
    assert clean_code(nationality(text)) == code


@pytest.mark.parametrize(("text", "options"), [("my", ("MY", "US")), ("ao", ("AO", "AT"))])
def test_lower_case_letters_that_are_both_a_code_and_an_unaccented_name_are_refused(
    text: str, options: tuple[str, ...]
) -> None:
    warning = refused(nationality(text), text)
    assert all(f"{code})" in warning or f"code {code}" in warning for code in options)


def test_stateless_has_no_country_code_and_is_kept_as_text() -> None:
    assert "stateless" in refused(nationality("Không quốc tịch"), "Không quốc tịch")


@pytest.mark.parametrize("text", ["XX", "Atlantis", "UKR-X"])
def test_unknown_countries_are_refused(text: str) -> None:
    refused(nationality(text), text)


# --- relationship to the household head -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Chủ hộ", "head"),
        ("CHỦ HỘ", "head"),
        ("Chu ho", "head"),
        ("Vợ", "wife"),
        ("Vo", "wife"),
        ("Chồng", "husband"),
        ("Con", "child"),
        ("Con đẻ", "child"),
        ("Con ruột", "child"),
        ("Con nuôi", "adopted_child"),
        ("Con riêng", "stepchild"),
        ("Con dâu", "daughter_in_law"),
        ("CON DAU", "daughter_in_law"),
        ("Con rể", "son_in_law"),
        ("Cha", "father"),
        ("Bố", "father"),
        ("Mẹ", "mother"),
        ("Ông nội", "grandfather"),
        ("Ông ngoại", "grandfather"),
        ("Bà nội", "grandmother"),
        ("Bà ngoại", "grandmother"),
        ("Bà", "grandmother"),
        ("Cháu nội", "grandchild"),
        ("Cháu ngoại", "grandchild"),
        ("Cháu ruột", "nephew_niece"),
        ("Cháu", "grandchild_or_nephew_niece"),
        ("Anh ruột", "sibling"),
        ("Chị", "sibling"),
        ("Em ruột", "sibling"),
        ("Cô", "uncle_aunt"),
        ("Dì", "uncle_aunt"),
        ("Chú", "uncle_aunt"),
        ("Bác", "uncle_aunt"),
        ("Cậu", "uncle_aunt"),
        ("Mợ", "uncle_aunt"),
        ("Thím", "uncle_aunt"),
        ("Người ở nhờ", "lodger"),
        ("Người giúp việc", "domestic_worker"),
        ("Khác", "other"),
        ("Wife", "wife"),
    ],
)
def test_household_relations_of_section_1_2_reach_their_slug(text: str, slug: str) -> None:
    assert clean_code(household_relation(text)) == slug


def test_every_household_label_reaches_its_own_slug() -> None:
    for slug, label in HOUSEHOLD_RELATIONS:
        assert clean_code(household_relation(label)) == slug
    assert HOUSEHOLD_RELATIONS[0] == ("head", "Chủ hộ")
    assert HOUSEHOLD_RELATIONS[-1] == ("other", "Khác")


def test_an_unaccented_word_shared_by_two_relations_decides_nothing() -> None:
    # "Ba" is father in the South; "Bà" is grandmother: without accents it is either.
    warning = refused(household_relation("Ba"), "Ba")
    assert "father" in warning and "grandmother" in warning
    assert clean_code(household_relation("BA NOI")) == "grandmother"


def test_the_ambiguity_rule_accents_decide_but_a_shared_folded_key_does_not() -> None:
    table = codes._Aliases[str]({"A": ("Thái",), "B": ("Thải",)})
    assert table.find("Thái").codes == ("A",)
    assert table.find("THẢI").codes == ("B",)
    assert table.find("Thai").codes == ("A", "B")
    assert table.ambiguous_folded_keys() == {"thai": {"A", "B"}}


def test_an_alias_table_refuses_one_spelling_for_two_codes() -> None:
    with pytest.raises(ValueError, match="names both"):
        codes._Aliases[str]({"A": ("Khơ-me",), "B": ("Khơ me",)})
