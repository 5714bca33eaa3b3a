"""Address keys, parts and unit resolution (domain.md 3.2, 4.4, 4.6, 4.7 "Addresses", A.4 34-44)."""

from __future__ import annotations

import time
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dedup.address import (
    AddressParts,
    address_components,
    address_fold,
    address_key,
    address_keys,
    address_parts,
    address_tokens,
    resolve_units,
)
from popdb.core.admin_units import VINTAGES, Vintage, read_units
from popdb.core.text import fold


def same(*texts: str) -> None:
    keys = {t: address_key(t) for t in texts}
    assert len(set(keys.values())) == 1, keys


def different(a: str, b: str) -> None:
    assert address_key(a) != address_key(b), (a, b, address_key(a))


# --- worked examples -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            "Số 12 ngõ 5 phố Huế, P. Ba Đình, TP. Hà Nội",
            "12 ngõ 5 phố huế, phường ba đình, hà nội",
        ),
        ("P.15, Q.Tân Bình, TP.HCM", "phường 15, quận tân bình, hồ chí minh"),
        ("Xa Ngu Hiep, H. Thanh Tri, Ha Noi", "xa ngu hiep, huyện thanh tri, hà nội"),
        ("F15, Q.TB, HCM", "phường 15, quận tb, hồ chí minh"),
        ("phường 015", "phường 15"),
        ("ward 15", "phường 15"),
        ("Thừa Thiên Huế", "huế"),
        ("Huế", "huế"),
    ],
)
def test_examples(text: str, key: str) -> None:
    assert address_key(text) == key


# --- 4.4 abbreviations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "variants",
    [
        # TP./T.P/Tp/thành phố (a district-level city: the name is not a province, so it stays)
        (
            "TP. Thủ Đức",
            "T.P Thủ Đức",
            "T.P. Thủ Đức",
            "Tp Thủ Đức",
            "TP.Thủ Đức",
            "Thành phố Thủ Đức",
        ),
        ("Q. Tân Bình", "Q.Tân Bình", "Quận Tân Bình", "QUẬN TÂN BÌNH"),
        ("H. Thanh Trì", "H.Thanh Trì", "Huyện Thanh Trì"),
        ("TX. Sơn Tây", "Tx Sơn Tây", "TX.Sơn Tây", "Thị xã Sơn Tây"),
        ("TT. Văn Điển", "TT Văn Điển", "Thị trấn Văn Điển", "Thị Trấn Văn Điển"),
        ("P. Phúc Xá", "P.Phúc Xá", "Phường Phúc Xá", "P Phúc Xá"),
        ("X. Ngũ Hiệp", "X.Ngũ Hiệp", "Xã Ngũ Hiệp", "xã Ngũ Hiệp"),
        ("KP3", "KP 3", "KP.3", "Khu phố 3", "khu phố 03"),
        ("TDP 5", "Tổ dân phố 5", "Tổ dân phố 05"),
        ("Đ. Lê Lợi", "Đường Lê Lợi", "đường Lê Lợi"),
        ("KĐT Linh Đàm", "KDT Linh Đàm", "Khu đô thị Linh Đàm"),
        ("Tổ 5", "Tổ 05", "tổ 005"),
        ("Ấp 3", "ấp 03"),
        ("Số 12 ngõ 5", "12 ngõ 5", "SN 12 ngõ 5", "Số nhà 12 ngõ 5", "số nhà 012 ngõ 05"),
    ],
)
def test_abbreviations_expand_to_full_unit_words(variants: tuple[str, ...]) -> None:
    same(*variants)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("TP. Thủ Đức", "thành phố thủ đức"),
        ("TX. Sơn Tây", "thị xã sơn tây"),
        ("TT. Văn Điển", "thị trấn văn điển"),
        ("KP3", "khu phố 3"),
        ("KĐT Linh Đàm", "khu đô thị linh đàm"),
        ("Đ. Lê Lợi", "đường lê lợi"),
        ("Thôn Đông", "thôn đông"),
        ("Xóm 2", "xóm 2"),
        ("Bản Phố Mới", "bản phố mới"),
        ("Ngách 12/3", "ngách 12/3"),
    ],
)
def test_expanded_forms(text: str, key: str) -> None:
    assert address_key(text) == key


@pytest.mark.parametrize(
    ("text", "key"),
    [
        # Words that start with p/f/h/x/q/d are words, not abbreviations.
        ("Phố Huế", "phố huế"),
        ("Phan Đình Phùng", "phan đình phùng"),
        ("Fansipan", "fansipan"),
        ("Quang Trung", "quang trung"),
        ("Hùng Vương", "hùng vương"),
        ("Xuân Thủy", "xuân thủy"),
        ("Dương Nội", "dương nội"),
        # A.4 #39: "H." must not become Huyện inside a street; a lane is not a district.
        ("Hẻm 12, Đường Lê Lợi", "hẻm 12, đường lê lợi"),
        ("H. 12 Lê Lợi", "h 12 lê lợi"),
        # F is the southern slang for phường only before a number; rooms and plots stay.
        ("F Tân Định", "f tân định"),
        ("Phòng F15, Tòa A", "phòng f 15, tòa a"),
        ("Lô P 3", "lô p 3"),
        # An initial in a street name is not an abbreviation.
        ("Nguyễn T. Minh Khai", "nguyễn t minh khai"),
        # Road names that contain a type word.
        ("Đường Tỉnh lộ 10", "đường tỉnh lộ 10"),
        ("Hợp tác xã Tân Thành", "hợp tác xã tân thành"),
    ],
)
def test_real_words_are_not_eaten(text: str, key: str) -> None:
    assert address_key(text) == key


# --- 4.4 numbered wards -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["P.15", "Phường 15", "P15", "phường 015", "ward 15", "Ward 15", "F15", "f.15", "F 15",
     "P. 15", "PHƯỜNG 15", "Phuong 15", "phuong 015", "p15"],
)  # fmt: skip
def test_numbered_wards(text: str) -> None:
    assert address_key(text) == "phường 15"


@pytest.mark.parametrize(
    "text", ["Q.1", "Q1", "Quận 1", "quận 01", "District 1", "Dist. 1", "Quan 1"]
)
def test_numbered_districts(text: str) -> None:
    assert address_key(text) == "quận 1"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Phường 1", "Phường 15"),
        ("Phường 1", "Phường 10"),
        ("Quận 1", "Quận 11"),
        ("P.15, Q.11, TP.HCM", "P.15, Q.10, TP.HCM"),  # A.4 #36
        ("Phường 15, Quận 11, TP.HCM", "Phường 15, Quận 10, TP.HCM"),
        ("Phường 1, Quận 15", "Phường 15, Quận 1"),
        ("Xã Tân Thành", "Xã Tân Thạnh"),
        ("Xã Tân Thành", "Phường Tân Thành"),
        ("Số 12 ngõ 5 phố Huế", "Số 21 ngõ 5 phố Huế"),  # house numbers are kept
        ("12/5 Lê Lợi", "125 Lê Lợi"),
        ("Phường Sài Gòn, TP.HCM", "TP.HCM"),  # a ward named Sài Gòn is not the city
        ("Thành phố Thanh Hóa", "Tỉnh Thanh Hóa"),  # the provincial capital, not the province
        ("Đắk Lắk", "Đắk Nông"),
        ("Hòa Bình", "Hoa Bình"),  # canonical keeps diacritics
        ("Huyện Hoài Đức", "Thị xã Hoài Đức"),
    ],
)
def test_distinct_places_stay_distinct(a: str, b: str) -> None:
    different(a, b)


def test_numbered_tokens_are_bound_to_their_type() -> None:
    a = address_tokens(address_key("Phường 1, Quận 15"))
    b = address_tokens(address_key("Phường 15, Quận 1"))
    assert a == {"phường 1", "quận 15"}
    assert b == {"phường 15", "quận 1"}
    assert not a & b


# --- 4.4 province aliases ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["TP.HCM", "TP HCM", "TPHCM", "Tp.HCM", "T.P Hồ Chí Minh", "HCM", "HCMC", "Sài Gòn",
     "TP. Sài Gòn", "Saigon", "Thành phố Hồ Chí Minh", "THÀNH PHỐ HỒ CHÍ MINH", "Hồ Chí Minh",
     "Ho Chi Minh City", "Thanh pho Ho Chi Minh", "Ho Chi Minh"],
)  # fmt: skip
def test_ho_chi_minh_city_aliases(text: str) -> None:
    assert address_key(text) == "hồ chí minh"
    assert address_key(f"Phường 1, Quận 3, {text}") == "phường 1, quận 3, hồ chí minh"


@pytest.mark.parametrize(
    "text",
    ["Thừa Thiên Huế", "Tỉnh Thừa Thiên Huế", "Thừa Thiên - Huế", "Thừa Thiên-Huế", "Huế",
     "Thành phố Huế", "TP. Huế", "Thua Thien Hue", "Hue"],
)  # fmt: skip
def test_hue_aliases(text: str) -> None:
    """A.4 #44: Thừa Thiên Huế (to 2024) and Thành phố Huế (since 2025) are one province."""
    assert address_key(text) == "huế"


@pytest.mark.parametrize(
    ("variants", "key"),
    [
        (("Hà Nội", "TP. Hà Nội", "Thành phố Hà Nội", "Ha Noi", "Hanoi", "HN"), "hà nội"),
        (("Vĩnh Phúc", "Tỉnh Vĩnh Phúc", "Vinh Phuc", "tinh Vinh Phuc"), "vĩnh phúc"),
        (("Đắk Lắk", "Đăk Lăk", "Đắc Lắc", "Dak Lak", "Daklak", "Tỉnh Đắk Lắk"), "đắk lắk"),
        (("Bà Rịa - Vũng Tàu", "Bà Rịa – Vũng Tàu", "Bà Rịa-Vũng Tàu", "BRVT"), "bà rịa-vũng tàu"),
        (("Hoà Bình", "Tỉnh Hòa Bình", "HÒA BÌNH"), "hòa bình"),
        (("Cần Thơ", "TP Cần Thơ", "Thành phố Cần Thơ"), "cần thơ"),
    ],
)
def test_province_forms(variants: tuple[str, ...], key: str) -> None:
    for text in variants:
        assert address_key(text) == key, text


def test_province_form_only_for_the_last_component() -> None:
    assert address_key("Phường 1, TP Huế, Thừa Thiên Huế") == "phường 1, thành phố huế, huế"
    assert address_key("Đường Hà Nội, Phường 1") == "đường hà nội, phường 1"
    assert address_key("Phường Điện Biên, TP Thanh Hóa") == (
        "phường điện biên, thành phố thanh hóa"
    )


def test_trailing_country_is_dropped() -> None:
    same("Quận 1, TP.HCM, Việt Nam", "Quận 1, TP.HCM, Viet Nam", "Quận 1, TP.HCM, VN", "Q1, HCM")
    assert address_key("Việt Nam") == "việt nam"


# --- A.4 rows 34-44 as text keys --------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "a", "b"),
    [
        (
            34,
            "P. Phúc Xá, Q. Ba Đình, TP. Hà Nội",
            "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội",
        ),
        (35, "Phường 01, Quận 11, TP.HCM", "P1, Q11, Hồ Chí Minh"),
        (37, "Tx. Sơn Tây, Hà Nội", "Thị xã Sơn Tây, Thành phố Hà Nội"),
        (38, "H. Vĩnh Tường, Vĩnh Phúc", "Huyện Vĩnh Tường, Tỉnh Vĩnh Phúc"),
        (40, "Phường Yên Hoà, Quận Cầu Giấy", "Phường Yên Hòa, Quận Cầu Giấy"),
        (44, "Thừa Thiên Huế", "Thành phố Huế"),
    ],
)
def test_a4_same_key(row: int, a: str, b: str) -> None:
    same(a, b)


# --- canonical form (4.2, 4.6, 4.7) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Xã Ea H'leo", "Xã Ea H’Leo"),  # 4.7: apostrophe and case
        ("Xã Ea H'leo", "XÃ EA H`LEO"),
        ("Xã Ea H'leo", "Xã Ea Hʼleo"),
        ("Phường Yên Hoà", "Phường Yên Hòa"),  # tone placement
        ("Xã Thuỷ An", "Xã Thủy An"),
        (unicodedata.normalize("NFD", "Phường Nguyễn Trãi"), "Phường Nguyễn Trãi"),
        ("Xã Nguye\u0302\u0323n", "Xã Nguyện"),  # non-canonical combining order
        ("  Phường\u00a0Phúc   Xá ", "Phường Phúc Xá"),  # NBSP, spaces
        ("Phường Phúc\u200b Xá", "Phường Phúc Xá"),  # zero-width space
        ("\u00d0ường Lê Lợi", "Đường Lê Lợi"),  # Icelandic Eth look-alike
        ("Số 12, ngõ 5 ;  P. Ba Đình", "Số 12, ngõ 5, P. Ba Đình"),  # separators
        ("Phường 15 - Quận Tân Bình - TP.HCM", "P.15, Q.Tân Bình, TP.HCM"),
        ("Phường 15-Quận Tân Bình-TP.HCM", "P.15, Q.Tân Bình, TP.HCM"),
        ("Số 12 ngõ 5. P. Ba Đình. TP. Hà Nội", "Số 12 ngõ 5, P. Ba Đình, TP. Hà Nội"),
        ("12 Lê Lợi P.Bến Nghé Q.1 TP.HCM", "12 Lê Lợi, P. Bến Nghé, Q.1, TP.HCM"),
        ("Phường 15 Quận Tân Bình Thành phố Hồ Chí Minh", "P.15, Q.Tân Bình, TP.HCM"),
        ("Phường 15,, Quận Tân Bình,", "Phường 15, Quận Tân Bình"),
    ],
)
def test_equal_after_canonical(a: str, b: str) -> None:
    same(a, b)


def test_dashed_official_names_stay_one_name() -> None:
    assert address_key("Phường Văn Miếu - Quốc Tử Giám, Quận Đống Đa") == (
        "phường văn miếu-quốc tử giám, quận đống đa"
    )
    assert address_key("TP. Phan Rang - Tháp Chàm") == "thành phố phan rang-tháp chàm"
    assert address_tokens("thành phố phan rang-tháp chàm") == {"phan", "rang", "tháp", "chàm"}
    assert address_key("12-14 Lê Lợi") == "12-14 lê lợi"


@pytest.mark.parametrize("text", [None, "", " ", "\u00a0\t\n", "\u200b", ",", " , ; . - ", "#"])
def test_nothing_is_none(text: str | None) -> None:
    assert address_key(text) is None
    assert address_fold(address_key(text)) is None
    assert address_tokens(address_key(text)) == frozenset()
    assert address_components(address_key(text)) == ()
    assert address_parts(address_key(text)) == AddressParts(None, None, None, None)
    assert resolve_units(text, "2025-01") is None


# --- diacritic-less input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ascii_text", "text"),
    [
        ("Xa Ngu Hiep, H. Thanh Tri, Ha Noi", "Xã Ngũ Hiệp, Huyện Thanh Trì, Hà Nội"),
        ("P. Phuc Xa, Q. Ba Dinh, TP. Ha Noi", "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội"),
        ("Phuong 15, Quan Tan Binh, TP HCM", "P.15, Q.Tân Bình, TP.HCM"),
        ("So 12 ngo 5 pho Hue, Ba Dinh, Ha Noi", "Số 12 ngõ 5 phố Huế, Ba Đình, Hà Nội"),
        ("Xa Ea H'Leo, Dak Lak", "Xã Ea H’Leo, Đắk Lắk"),
    ],
)
def test_ascii_input_matches_on_the_fold(ascii_text: str, text: str) -> None:
    a, b = address_key(ascii_text), address_key(text)
    assert a != b  # the key keeps diacritics: no exact match by itself...
    assert address_fold(a) == address_fold(b)  # ...the fold is for blocking and weak evidence


def test_ascii_numbered_units_key_exactly() -> None:
    same("Phuong 15, Quan 11, Ho Chi Minh", "P.15, Q.11, TP.HCM", "Ward 15, District 11, HCMC")


def test_fold_keeps_components() -> None:
    key = address_key("Xã Ngũ Hiệp, Huyện Thanh Trì, Hà Nội")
    assert address_fold(key) == "xa ngu hiep, huyen thanh tri, ha noi"
    assert address_components(address_fold(key)) == tuple(fold(c) for c in address_components(key))


# --- key properties ---------------------------------------------------------------------------

_FRAGMENTS = [
    "Số 12", "ngõ 5", "P.15", "F15", "Q.TB", "TP.HCM", "H. Thanh Tri", "Xa Ngu Hiep",
    "Thừa Thiên Huế", "Phòng F15", "-", ".", ";", "Việt Nam", "KP3", "T.P", "p", "h", "x",
    "12/5", "Hẻm 12", "Thành phố", "Tỉnh", "Quận", "Huyện", "Xã", "Phường", "lộ", "hợp tác",
    "Hà Nội", "Huế", "015", "ward", "Sài Gòn", "Bà Rịa", "Vũng Tàu", "Đ.", "TX", "TT.",
    "số nhà", "SN", "F", "Lô", "15-Quận", "Văn Miếu", "Quốc Tử Giám", "Tp", "HCM", "city",
    "Thanh pho", "Dak Lak", "vn", "’", "(cũ)", "Phuong", "Ea H'Leo", "Hoà", "Thuỷ",
]  # fmt: skip
_GLUE = [" ", ", ", ". ", " - ", "", ".", ",", "-"]
addresses = st.lists(
    st.tuples(st.sampled_from(_GLUE), st.sampled_from(_FRAGMENTS)), min_size=1, max_size=8
).map(lambda parts: "".join(g + f for g, f in parts))


@settings(max_examples=400, deadline=None)
@given(st.one_of(addresses, st.text(max_size=40)))
@example("P.15, Q.Tân Bình, TP.HCM")
@example(", Hà Nội Thành phố SN, Việt Nam")
@example("F. Số 12 HCM")
def test_key_is_idempotent(text: str) -> None:
    key = address_key(text)
    assert address_key(key) == key
    if key is not None:
        assert key == key.strip() and "  " not in key and ",," not in key
        assert all(address_components(key))


def test_address_keys_matches_address_key() -> None:
    values = [
        "P.15, Q.Tân Bình, TP.HCM",
        None,
        "",
        "F15, Q.TB, HCM",
        "P.15, Q.Tân Bình, TP.HCM",
        "Hà Nội",
        None,
    ]
    assert address_keys(values) == [address_key(v) for v in values]
    assert address_keys([]) == []


def test_address_keys_throughput() -> None:
    """Addresses repeat within households and communes: 200,000 go through in well under the
    limit (about a second on a quiet machine; the limit allows for a loaded test run)."""
    tails = [
        f"P. {w}, Q. {d}, TP. Hà Nội"
        for w in ("Phúc Xá", "Trúc Bạch", "Cống Vị", "Liễu Giai", "Ngọc Hà")
        for d in ("Ba Đình", "Đống Đa", "Cầu Giấy")
    ]
    values = [
        f"Số {i % 9_000} ngõ {i % 37} phố Huế, {tails[i % len(tails)]}" for i in range(200_000)
    ]
    start = time.perf_counter()
    keys = address_keys(values)
    assert time.perf_counter() - start < 20
    assert keys[1] == "1 ngõ 1 phố huế, phường phúc xá, quận đống đa, hà nội"


# --- tokens and parts -------------------------------------------------------------------------


def test_tokens_drop_type_words_and_keep_house_numbers() -> None:
    key = address_key("Số 12 ngõ 5 phố Huế, P. Ba Đình, TP. Hà Nội")
    assert address_tokens(key) == {"12", "ngõ 5", "huế", "ba", "đình", "hà", "nội"}
    assert address_tokens(address_key("Ngõ 5 Phố Huế, Ba Đình, Hà Nội")) < address_tokens(key)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        (
            "Số 12 ngõ 5 phố Huế, P. Ba Đình, TP. Hà Nội",
            ("12 ngõ 5 phố huế", "phường ba đình", None, "hà nội"),
        ),
        ("P.15, Q.Tân Bình, TP.HCM", (None, "phường 15", "quận tân bình", "hồ chí minh")),
        ("Phúc Xá, Ba Đình, Hà Nội", (None, "phúc xá", "ba đình", "hà nội")),
        ("Phường Yên Hòa, Cầu Giấy", (None, "phường yên hòa", "cầu giấy", None)),
        (
            "Thôn Đông, Xã Phù Đổng, Huyện Gia Lâm, Hà Nội",
            ("thôn đông", "xã phù đổng", "huyện gia lâm", "hà nội"),
        ),
        ("Tx. Sơn Tây, Hà Nội", (None, None, "thị xã sơn tây", "hà nội")),
        ("Xã Tân Thành", (None, "xã tân thành", None, None)),
        ("Hẻm 12, Đường Lê Lợi", ("hẻm 12, đường lê lợi", None, None, None)),
        ("Thừa Thiên Huế", (None, None, None, "huế")),
        ("Quan Hoa, Cau Giay, Ha Noi", (None, "quan hoa", "cau giay", "hà nội")),
        ("Phúc Xá, Ba Đình", ("phúc xá, ba đình", None, None, None)),  # no anchor: no guess
    ],
)
def test_parts(text: str, parts: tuple[str | None, ...]) -> None:
    assert address_parts(address_key(text)) == AddressParts(*parts)


# --- resolution against the official lists ----------------------------------------------------


_TYPE_WORDS = {"phường", "xã", "thị", "trấn", "đặc", "khu"}


def codes(text: str, vintage: str) -> tuple[str | None, str | None, str | None] | None:
    r = resolve_units(text, vintage)
    if r is None:
        return None
    return (
        r.province.code,
        r.district.code if r.district else None,
        r.commune.code if r.commune else None,
    )


def test_a4_34_phuc_xa() -> None:
    for text in (
        "P. Phúc Xá, Q. Ba Đình, TP. Hà Nội",
        "Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội",
    ):
        assert codes(text, "2020-02") == ("01", "001", "00001")


def test_a4_35_36_numbered_wards_of_hcmc() -> None:
    same_unit = codes("Phường 01, Quận 11, TP.HCM", "2025-01")
    assert same_unit == codes("P1, Q11, Hồ Chí Minh", "2025-01") == ("79", "772", "27247")
    ward_15_district_10 = codes("Phường 15, Quận 10, TP.HCM", "2025-01")
    ward_15_district_11 = codes("Phường 15, Quận 11, TP.HCM", "2025-01")
    assert ward_15_district_10 == ("79", "771", "27163")
    assert ward_15_district_11 == ("79", "772", "27208")


def test_a4_37_38_districts() -> None:
    assert codes("Tx. Sơn Tây, Hà Nội", "2020-02") == ("01", "269", None)
    assert codes("Thị xã Sơn Tây, Thành phố Hà Nội", "2020-02") == ("01", "269", None)
    assert codes("H. Vĩnh Tường, Vĩnh Phúc", "2020-02") == ("26", "252", None)
    assert codes("Huyện Vĩnh Tường, Tỉnh Vĩnh Phúc", "2020-02") == ("26", "252", None)


def test_a4_40_yen_hoa_without_province() -> None:
    """A district named nowhere else in the country gives its province."""
    for text in ("Phường Yên Hoà, Quận Cầu Giấy", "Phường Yên Hòa, Cầu Giấy"):
        assert codes(text, "2020-02") == ("01", "005", "00172")


def test_a4_41_sa_phin_spelling_variant() -> None:
    exact = resolve_units("xã Xà Phìn, huyện Đồng Văn", "2020-02")
    variant = resolve_units("xã Sà Phìn, H. Đồng Văn", "2020-02")
    assert exact is not None and variant is not None
    assert exact.commune is not None and exact.commune.code == "00736"
    assert not exact.approximate
    assert variant.commune == exact.commune and variant.approximate


@pytest.mark.parametrize(
    "text", ["Xã Tân Thành", "Tân Thành", "Phường 15", "Huyện Châu Thành", "Q.BT, HCM"]
)
def test_a4_42_ambiguous_names_do_not_resolve(text: str) -> None:
    """No province, or a name shared by several units: never a guess."""
    r = resolve_units(text, "2025-01")
    assert r is None or (r.district is None and r.commune is None)


def test_a4_43_same_code_different_unit_across_vintages() -> None:
    old = resolve_units("Phường Trúc Bạch, Quận Ba Đình, Hà Nội", "2025-01")
    new = resolve_units("Phường Ba Đình, Hà Nội", "2025-07")
    assert old is not None and old.commune is not None
    assert new is not None and new.commune is not None
    assert old.commune.code == new.commune.code == "00004"
    assert old.commune.name != new.commune.name


def test_a4_44_hue_is_one_province_in_every_vintage() -> None:
    for vintage in VINTAGES:
        for text in ("Thừa Thiên Huế", "Thành phố Huế", "Huế"):
            assert codes(text, vintage.key) == ("46", None, None)


def test_4_7_tan_son_27007() -> None:
    """P.15, Q.Tân Bình (legacy 27007) is now partly Phường Tân Sơn (27007 again) and partly
    Phường Tân Bình: the code alone is ambiguous, and the old address names no 2025 commune."""
    for text in ("P.15, Q.Tân Bình, TP.HCM", "Phường 15, Quận Tân Bình, Thành phố Hồ Chí Minh"):
        assert codes(text, "2020-02") == ("79", "766", "27007")
        assert codes(text, "2025-01") == ("79", "766", "27007")
        assert codes(text, "2025-07") == ("79", None, None)
    tan_son = resolve_units("Phường Tân Sơn, TP.HCM", "2025-07")
    assert tan_son is not None and tan_son.commune is not None
    assert tan_son.commune.code == "27007"


def test_old_addresses_on_new_records_are_carried_over() -> None:
    """Pre-2025 wording on a 2025-07 record: matched in 2025-01, then the official conversion
    table, only where the old commune went whole into one new commune."""
    r = resolve_units("Phường Phúc Xá, Q. Ba Đình, TP. Hà Nội", "2025-07")
    assert r is not None and r.commune is not None
    assert (r.commune.code, r.commune.name, r.district, r.via) == (
        "00097",
        "Phường Hồng Hà",
        None,
        "2025-01",
    )
    assert codes("Phường Trúc Bạch, Quận Ba Đình, Hà Nội", "2025-07") == ("01", None, "00004")
    assert codes("Ấp 9, Xã Lộc Tấn, Huyện Lộc Ninh, Tỉnh Bình Phước", "2025-07") == (
        "75",
        None,
        "25279",
    )
    # Split or merged in part: the province only.
    assert codes("Phường 15, Quận Tân Bình, TP.HCM", "2025-07") == ("79", None, None)
    assert codes("Xã Đặng Xá, Huyện Gia Lâm, Hà Nội", "2025-07") == ("01", None, None)
    # New-style addresses are matched in the new list directly.
    direct = resolve_units("Phường Ba Đình, Hà Nội", "2025-07")
    assert direct is not None and direct.via is None


def test_f15_q_tb_by_initials() -> None:
    """The form vietnamadminunits failed on: initials of a district, unique in its province."""
    r = resolve_units("F15, Q.TB, HCM", "2025-01")
    assert r is not None and r.commune is not None and r.district is not None
    assert (r.district.name, r.commune.code, r.approximate) == ("Quận Tân Bình", "27007", True)


def test_4_7_ngu_hiep_split_between_two_new_communes() -> None:
    """Xã Ngũ Hiệp (00667) went to two 2025 communes: only the old list resolves it."""
    for text in ("Xã Ngũ Hiệp, Huyện Thanh Trì, Hà Nội", "Xa Ngu Hiep, H. Thanh Tri, Ha Noi"):
        assert codes(text, "2025-01") == ("01", "020", "00667")
        assert codes(text, "2025-07") == ("01", None, None)
    ascii_input = resolve_units("Xa Ngu Hiep, H. Thanh Tri, Ha Noi", "2025-01")
    assert ascii_input is not None and ascii_input.approximate


def test_resolution_details() -> None:
    # Districts upgraded since: a different type is accepted, flagged approximate.
    r = resolve_units("Q. Thủ Đức, TP.HCM", "2021-02")
    assert r is not None and r.district is not None
    assert (r.district.name, r.approximate) == ("Thành phố Thủ Đức", True)
    # A province merged away: matched in the old list, carried over to the new province.
    assert codes("Bình Dương", "2025-01") == ("74", None, None)
    merged = resolve_units("Bình Dương", "2025-07")
    assert merged is not None and (merged.province.code, merged.via) == ("79", "2025-01")
    assert resolve_units("Tỉnh Tiền Giang", "2025-07") is None  # split between two provinces
    # An untyped name after a street may be the district.
    assert codes("12 Lê Lợi, Ba Đình, Hà Nội", "2025-01") == ("01", "001", None)
    assert codes("12 Lê Lợi, Ba Đình, Hà Nội", "2025-07") == ("01", None, "00004")
    # An ASCII type word may be part of the name.
    assert codes("Phuong Mai, Dong Da, Ha Noi", "2025-01") == ("01", "006", "00232")
    assert codes("Quan Hoa, Cau Giay, Ha Noi", "2025-01") == ("01", "005", "00169")
    # Names written without diacritics in an address that has them are meant as written.
    assert codes("Xã Ia Bang, Huyện Chư Prông, Tỉnh Gia Lai", "2025-01") == ("64", "632", "23924")
    # ...and ambiguous when the whole address is ASCII (Ia Bang / Ia Băng).
    assert codes("Xa Ia Bang, Huyen Chu Prong, Gia Lai", "2025-01") == ("64", "632", None)
    # Vintage objects work too; unknown vintages are an error.
    assert codes("Hà Nội", VINTAGES[0].key) == ("01", None, None)
    assert resolve_units("Hà Nội", VINTAGES[0]) == resolve_units("Hà Nội", "2020-02")
    with pytest.raises(ValueError, match="unknown vintage"):
        resolve_units("Hà Nội", "2019-01")


@pytest.mark.parametrize("vintage", VINTAGES, ids=lambda v: v.key)
def test_official_names_resolve_to_themselves_and_never_elsewhere(vintage: Vintage) -> None:
    """Every 7th commune of each list, written as the list writes it, with diacritics stripped,
    and without separators: it resolves to itself, or (ASCII, ambiguous) not at all; never to
    another unit."""
    rows = list(read_units(vintage))
    by_code = {(r.level, r.code): r for r in rows}
    communes = [r for r in rows if r.level == "commune"][::7]
    unresolved = 0
    for row in communes:
        parents = [by_code["province", row.province_code]]
        if vintage.has_districts:
            parents.insert(0, by_code["district", row.parent_code or ""])
        names = [row.name, *(p.name for p in parents)]
        for text, exact in (
            (", ".join(names), True),
            (" ".join(names), False),
            (", ".join(fold(n) or "" for n in names), False),
        ):
            r = resolve_units(text, vintage)
            assert r is not None and r.province.code == row.province_code, text
            if r.commune is None:
                unresolved += 1
                # Written as listed, only names without diacritics (Sa Pa / Sa Pả in one
                # district, ambiguous) and the name listed twice in 2025-01 stay unresolved.
                bare = [w for w in row.name.split() if w.casefold() not in _TYPE_WORDS]
                assert not exact or all(w.isascii() for w in bare) or "Đông Khê" in row.name, text
            else:
                assert r.commune.code == row.code, (text, r.commune)
    assert unresolved < len(communes) * 0.05
