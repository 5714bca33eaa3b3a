"""Session 9 (issue 17, quality): small labelled cases for the rules that find FEBRL's
pairs whose names are both corrupted, swapped or blank, while the birth date and half of
the other document number agree."""

from __future__ import annotations

from dedup.blocking import DEFAULT_RULES, candidate_pairs
from tests.dedup.test_engine import frame_of, record


def _rules_of(frame) -> dict[tuple[int, int], str]:
    pairs, _ = candidate_pairs(frame, DEFAULT_RULES)
    return {
        (a, b): DEFAULT_RULES[t].name
        for a, b, t in zip(pairs.left.tolist(), pairs.right.tolist(), pairs.rule.tolist(),
                           strict=True)
    }  # fmt: skip


def test_both_names_mistyped_with_the_birth_date_and_half_the_number_is_a_candidate():
    # FEBRL 3 rec-202: "elizaseth stephneson" / "stephenson elizbeth", same birth date, the
    # number one digit off in its second half: no name key, no initials in common
    frame = frame_of(
        record(given_name="elizaseth", family_name="stephneson", dob_year=1912, dob_month=3,
               dob_day=4, other_id_number="4481230", permanent_address="56 hallen close"),
        record(given_name="stephenson", family_name="elizbeth", dob_year=1912, dob_month=3,
               dob_day=4, other_id_number="4481239", permanent_address="56 hallen c lose"),
        # a stranger born that day, whose number shares nothing
        record(given_name="mary", family_name="jones", dob_year=1912, dob_month=3,
               dob_day=4, other_id_number="9017725"),
    )  # fmt: skip
    assert _rules_of(frame) == {(0, 1): "other_id_head_dob"}


def test_a_blank_given_name_with_the_family_name_and_half_the_number_is_a_candidate():
    # FEBRL 1 rec-261: no given name on one record (no initials), the birth day mistyped,
    # two digits of the number swapped
    frame = frame_of(
        record(family_name="wilde", dob_year=1927, dob_month=5, dob_day=12,
               other_id_number="6646723"),
        record(given_name="sebastian", family_name="wilde", dob_year=1927, dob_month=5,
               dob_day=21, other_id_number="6646273"),
        # another Wilde, another number
        record(given_name="sebastian", family_name="wilde", dob_year=1960, dob_month=1,
               dob_day=2, other_id_number="1203398"),
    )  # fmt: skip
    assert _rules_of(frame) == {(0, 1): "other_id_head_family"}


def test_no_family_name_and_a_mistyped_given_name_at_one_address_and_birth_date():
    # FEBRL 4 rec-3782: no family name on either record, "tiffany" / "tifafny", the number
    # with two digits swapped across its halves: only the home and the birth date agree
    frame = frame_of(
        record(given_name="tiffany", dob_year=1986, dob_month=9, dob_day=14,
               other_id_number="7926952", permanent_address="26 southern close westleigh"),
        record(given_name="tifafny", dob_year=1986, dob_month=9, dob_day=14,
               other_id_number="7929652", permanent_address="26 southern close westleigh"),
        # a neighbour born another day
        record(given_name="tiffany", dob_year=1990, dob_month=9, dob_day=14,
               other_id_number="1234567", permanent_address="26 southern close westleigh"),
    )  # fmt: skip
    assert _rules_of(frame) == {(0, 1): "address_dob"}


def test_a_number_swapped_across_its_middle_with_the_birth_year_is_a_candidate():
    # FEBRL 2 rec-352: "reid harry" / "rei d william", 3527397 / 3523797 (the fourth and
    # fifth digits swapped: both halves changed), one birth year, the home mistyped
    frame = frame_of(
        record(given_name="harry", family_name="reid", dob_year=1928, dob_month=7,
               dob_day=14, other_id_number="3527397"),
        record(given_name="william", family_name="rei d", dob_year=1928, dob_month=7,
               dob_day=15, other_id_number="3523797"),
        # the same outer digits, born another year: a stranger
        record(given_name="harry", family_name="cole", dob_year=1950, dob_month=1,
               dob_day=2, other_id_number="3521197"),
    )  # fmt: skip
    assert _rules_of(frame) == {(0, 1): "other_id_outer"}
