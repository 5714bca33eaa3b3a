"""The engine's stages on frames small enough to check by hand."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from dedup.blocking import DEFAULT_RULES, BlockingRule, candidate_pairs
from dedup.clustering import cluster, one_slip
from dedup.comparisons import (
    ALL_COMPARISONS,
    DateComparison,
    ExactComparison,
    IdComparison,
    NameComparison,
    comparison_from_dict,
    compute_gammas,
)
from dedup.features import COLUMNS, INT_UNKNOWN, features, frame_from_rows, halves
from dedup.model import MatchModel, Thresholds
from dedup.scoring import (
    AUTO_LINK,
    DISTINCT,
    REVIEW,
    clean,
    decide,
    disagreements,
    match_weights,
    tf_adjustments,
    vouched,
)
from dedup.training import expectation_maximisation, refine_with_labels, seed_m
from dedup.types import Gammas, Pairs, Scores


def record(**fields: object) -> dict:
    base = {c: None for c in ("family_name", "middle_name", "given_name", "dob_year",
            "dob_month", "dob_day", "sex", "personal_id_number", "other_id_number",
            "birth_registration_code", "birth_registration_place", "permanent_address",
            "current_address", "permanent_commune_code", "current_commune_code",
            "father_name", "mother_name")}  # fmt: skip
    base.update(fields)
    return features(base)


def frame_of(*records: dict):
    return frame_from_rows(list(range(1, len(records) + 1)), records)


def pairs_of(*pairs: tuple[int, int]) -> Pairs:
    left, right = zip(*pairs, strict=True)
    return Pairs(np.array(left), np.array(right), np.zeros(len(pairs), np.int8))


def test_names_are_keyed_canonically_and_folded_for_blocking():
    a = record(family_name="NGUYỄN", middle_name="VĂN", given_name="HOÀ")
    b = record(family_name="Nguyễn", middle_name="Văn", given_name="Hòa")
    c = record(family_name="Nguyen", middle_name="Van", given_name="Hoa")
    assert (a["family"], a["given"]) == (b["family"], b["given"]) == ("nguyễn", "hòa")
    assert c["given"] == "hoa" != a["given"]
    assert a["name_fold"] == c["name_fold"] == "nguyen van hoa"
    assert a["initials"] == "nh"


def test_a_cmnd_from_the_range_issued_twice_is_no_key():
    assert record(other_id_number="271460000")["other_id"] is None
    assert record(other_id_number="B 1234567")["other_id"] == "B1234567"


def test_missing_values_use_the_unknown_markers():
    keys = record(given_name="An")
    assert {c: keys[c] for c in INT_UNKNOWN} == INT_UNKNOWN
    assert set(keys) == set(COLUMNS)


def test_blocking_gives_each_pair_once_ordered_and_tagged_with_its_first_rule():
    frame = frame_of(
        record(given_name="An", family_name="Lê", dob_year=1990, personal_id_number="001090000001"),
        record(given_name="An", family_name="Lê", dob_year=1990, personal_id_number="001090000001"),
        record(given_name="An", family_name="Lê", dob_year=1990),
        record(given_name="Bình", family_name="Lê", dob_year=1990),
    )
    rules = [BlockingRule("pin", ("pin",)), BlockingRule("given_year", ("given_fold", "dob_year"))]
    pairs, report = candidate_pairs(frame, rules)
    got = sorted(zip(pairs.left.tolist(), pairs.right.tolist(), pairs.rule.tolist(), strict=True))
    assert got == [(0, 1, 0), (0, 2, 1), (1, 2, 1)]
    assert [(r.rule, r.pairs, r.new_pairs) for r in report.rules] == [
        ("pin", 1, 1), ("given_year", 3, 2),
    ]  # fmt: skip


def test_a_giant_block_is_split_and_what_stays_too_big_is_reported():
    families = ["Lê"] * 4 + ["Vũ"] * 2
    people = [record(given_name="Hoa", dob_year=1970, family_name=f) for f in families]
    frame = frame_of(*people)
    rule = BlockingRule("given_year", ("given_fold", "dob_year"), max_block=3,
                        split_by=("family_fold",))  # fmt: skip
    pairs, report = candidate_pairs(frame, [rule])
    assert sorted(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)) == [(4, 5)]
    count = report.rules[0]
    giant = (count.giant_blocks, count.records_in_giant_blocks, count.pairs_not_generated)
    assert giant == (1, 4, 6)


def test_incremental_blocking_keeps_only_pairs_touching_a_new_record():
    frame = frame_of(*(record(given_name="An", dob_year=1990) for _ in range(3)))
    pairs, _ = candidate_pairs(frame, [BlockingRule("g", ("given_fold", "dob_year"))],
                               new=np.array([False, False, True]))  # fmt: skip
    assert sorted(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)) == [(0, 2), (1, 2)]


def test_name_levels_tell_exact_from_folded_and_similar():
    frame = frame_of(
        record(given_name="Hòa"),
        record(given_name="Hoà"),
        record(given_name="Hoa"),
        record(given_name="Hoan"),
        record(given_name="Long"),
        record(),
    )
    comparison = NameComparison("given_name", "given", fold_column="given_fold")
    gamma = comparison.gammas(frame, np.array([0, 0, 0, 0, 0]), np.array([1, 2, 3, 4, 5]))
    labels = [comparison.levels[g] if g >= 0 else None for g in gamma]
    assert labels == ["exact", "exact_fold", "jaro_winkler_0.92", "else", None]


def test_a_full_name_written_in_another_order_is_not_another_given_name():
    frame = frame_of(
        record(family_name="Nguyễn", middle_name="Minh", given_name="Hào"),
        # the same name written given name first, split by position
        record(family_name="Minh", middle_name="Hào", given_name="Nguyễn"),
        record(family_name="Hào", middle_name="Minh", given_name="Nguyễn"),
        record(family_name="Nguyễn", middle_name="Minh", given_name="Hảo"),
    )
    given = next(c for c in ALL_COMPARISONS if c.name == "given_name")
    gamma = given.gammas(frame, np.array([0, 0, 0]), np.array([1, 2, 3]))
    assert [given.levels[g] for g in gamma] == ["swapped", "swapped", "exact_fold"]
    assert not np.isin(gamma, given.disagreement).any()
    assert comparison_from_dict(given.to_dict()) == given


def test_date_levels_handle_partial_dates_swaps_and_placeholders():
    d = [
        record(dob_year=1985, dob_month=3, dob_day=5),
        record(dob_year=1985, dob_month=3, dob_day=5),
        record(dob_year=1985),
        record(dob_year=1985, dob_month=5, dob_day=3),
        record(dob_year=1985, dob_month=3, dob_day=6),
        record(dob_year=1985, dob_month=1, dob_day=1),
        record(dob_year=1985, dob_month=8, dob_day=20),
        record(dob_year=1986, dob_month=3, dob_day=5),
        record(dob_year=1950),
    ]
    comparison = DateComparison("dob")
    gamma = comparison.gammas(frame_of(*d), np.zeros(8, int), np.arange(1, 9))
    assert [comparison.levels[g] for g in gamma] == [
        "exact", "compatible", "day_month_swapped", "one_day_off", "compatible", "same_year",
        "one_year_off", "else",
    ]  # fmt: skip


def test_id_levels_catch_one_wrong_digit_and_a_transposition():
    frame = frame_of(*(record(personal_id_number=p) for p in
                       ("001090000123", "001090000123", "001090000124", "001090000132",
                        "079303000999")))  # fmt: skip
    comparison = IdComparison("personal_id_number", "pin")
    gamma = comparison.gammas(frame, np.zeros(4, int), np.arange(1, 5))
    levels = [comparison.levels[g] for g in gamma]
    assert levels == ["exact", "one_digit_off", "transposition", "else"]


def _sex_model(m: list[float], u: list[float], prior: float = 0.5) -> MatchModel:
    return MatchModel((ExactComparison("sex", "sex"),), (np.array(m),), (np.array(u),), prior)


def test_a_bayes_factor_of_five_is_a_weight_of_log2_5():
    model = _sex_model([0.5, 0.5], [0.1, 0.9])  # exact: m/u = 0.5/0.1 = 5.0
    gammas = Gammas(("sex",), np.array([[0], [1], [-1]], dtype=np.int8))
    scores = match_weights(gammas, model, contributions=True)
    assert scores.contributions is not None
    assert scores.contributions[0, 0] == pytest.approx(np.log2(5.0))
    assert scores.weight[0] == pytest.approx(np.log2(5.0))  # prior 0.5 weighs nothing
    assert scores.probability[0] == pytest.approx(5.0 / 6.0)
    assert scores.contributions[1, 0] == pytest.approx(np.log2(0.5 / 0.9))
    assert scores.weight[2] == 0.0 and scores.probability[2] == 0.5  # null level: no evidence


def test_term_frequency_makes_a_common_name_weaker_evidence():
    frame = frame_of(*(record(family_name=f) for f in ("Nguyễn", "Nguyễn", "Âu Dương", "Âu Dương")))
    comparison = NameComparison("family_name", "family", tf=True)
    model = MatchModel((comparison,), (np.array([0.9, 0.05, 0.04, 0.01]),),
                       (np.array([0.05, 0.05, 0.1, 0.8]),), 0.5,
                       tf={"family_name": {"nguyễn": 0.4, "âu dương": 0.001}},
                       tf_expected={"family_name": 0.2})  # fmt: skip
    pairs = pairs_of((0, 1), (2, 3))
    gammas = compute_gammas(frame, pairs, [comparison])
    adjust = tf_adjustments(model, frame, pairs, gammas)
    dense = adjust.dense()
    assert dense[0, 0] == pytest.approx(np.log2(0.2 / 0.4))  # half as telling as average
    assert dense[1, 0] == pytest.approx(np.log2(0.2 / 0.001))
    weights = match_weights(gammas, model, adjust).weight
    assert weights[0] == pytest.approx(np.log2(0.9 / 0.05) - 1.0)
    assert weights[1] > weights[0]


def test_seed_pairs_anchor_m_on_identity_not_on_households():
    names = ("personal_id_number", "given_name", "father_name")
    comparisons = (IdComparison(names[0], "pin"), NameComparison(names[1], "given"),
                   NameComparison(names[2], "father"))  # fmt: skip
    # 100 pairs with the same number: the same person, given name agrees 90 times;
    # 900 siblings: no number, different given names, the same father.
    matrix = np.zeros((1000, 3), dtype=np.int8)
    matrix[:100, 0] = 0
    matrix[90:100, 1] = 3
    matrix[100:, 0] = -1
    matrix[100:, 1] = 3
    model = MatchModel(comparisons, tuple(np.full(len(c.levels), 1 / len(c.levels))
                                          for c in comparisons),
                       tuple(np.full(len(c.levels), 1 / len(c.levels)) for c in comparisons),
                       0.5)  # fmt: skip
    m = seed_m(Gammas(names, matrix), model)
    assert m[1][0] == pytest.approx(90.5 / 102)  # given name: exact among the seeds
    assert m[1][3] == pytest.approx(10.5 / 102)
    np.testing.assert_array_equal(m[0], model.m[0])  # no seeds without the number itself


def test_em_recovers_known_m_and_u_from_synthetic_gammas():
    rng = np.random.default_rng(7)
    true_m = [np.array([0.85, 0.1, 0.05]), np.array([0.9, 0.1]), np.array([0.7, 0.2, 0.1])]
    true_u = [np.array([0.02, 0.08, 0.9]), np.array([0.5, 0.5]), np.array([0.05, 0.15, 0.8])]
    n, share = 200_000, 0.2
    is_match = rng.random(n) < share
    matrix = np.empty((n, 3), dtype=np.int8)
    for c in range(3):
        matrix[:, c] = np.where(
            is_match,
            rng.choice(len(true_m[c]), n, p=true_m[c]),
            rng.choice(len(true_u[c]), n, p=true_u[c]),
        )
    comparisons = tuple(ExactComparison(f"c{c}", "sex") for c in range(3))
    start = MatchModel(comparisons, tuple(np.full(len(m), 1 / len(m)) + np.eye(len(m))[0] * 0.3
                                          for m in true_m),
                       tuple(true_u), 0.5)  # fmt: skip
    start = replace(start, m=tuple(m / m.sum() for m in start.m))
    fitted, _ = expectation_maximisation(Gammas(("c0", "c1", "c2"), matrix), start,
                                         iterations=200, tolerance=1e-8)  # fmt: skip
    assert fitted.prior == pytest.approx(share, abs=0.01)
    for got, want in zip(fitted.m, true_m, strict=True):
        np.testing.assert_allclose(got, want, atol=0.02)


def test_a_rule_prior_is_fitted_on_what_its_pairs_show_beyond_the_rules_own_keys():
    # Pairs blocked on given name + birth date all agree on both; 30 % are matches, told
    # apart only by the family name. Those two agreements must not lift the rule's prior.
    comparisons = (ExactComparison("given_name", "given_fold"), ExactComparison("dob", "dob"),
                   ExactComparison("family_name", "family"))  # fmt: skip
    rules = (BlockingRule("given_dob", ("given_fold", "dob")),)
    n, share = 10_000, 0.3
    is_match = np.random.default_rng(3).random(n) < share
    matrix = np.zeros((n, 3), dtype=np.int8)
    matrix[:, 2] = np.where(is_match, 0, 1)
    m = (np.array([0.9, 0.1]), np.array([0.9, 0.1]), np.array([0.97, 0.03]))
    u = (np.array([0.01, 0.99]), np.array([0.001, 0.999]), np.array([0.02, 0.98]))
    start = MatchModel(comparisons, m, u, 0.5, rules=rules)
    fitted, _ = expectation_maximisation(Gammas(("given_name", "dob", "family_name"), matrix),
                                         start, fit_m=False, fit_u=False,
                                         tags=np.zeros(n, dtype=np.int8))  # fmt: skip
    assert fitted.rule_priors["given_dob"] == pytest.approx(share, abs=0.02)


def test_labels_move_m_towards_what_reviewers_decided():
    model = _sex_model([0.5, 0.5], [0.5, 0.5])
    gammas = Gammas(("sex",), np.zeros((100, 1), dtype=np.int8))
    refined = refine_with_labels(model, gammas, np.ones(100, dtype=bool), strength=100)
    assert refined.m[0][0] == pytest.approx(0.75)
    np.testing.assert_array_equal(refined.u[0], model.u[0])


def test_decisions_follow_thresholds_and_outright_disagreement_blocks_auto_link():
    comparison = NameComparison("given_name", "given")
    model = MatchModel((comparison,), (np.array([0.5, 0.3, 0.15, 0.05]),),
                       (np.array([0.5, 0.3, 0.15, 0.05]),), 0.5,
                       thresholds=Thresholds(auto_link=0.99, review=0.6))  # fmt: skip
    gammas = Gammas(("given_name",), np.array([[0], [3], [0], [0]], dtype=np.int8))
    scores = replace(match_weights(gammas, model), probability=np.array([0.995, 0.995, 0.7, 0.2]))
    assert decide(gammas, scores, model).tolist() == [AUTO_LINK, REVIEW, REVIEW, DISTINCT]


def test_clusters_do_not_chain_through_a_record_between_twins():
    # 0 and 2 are twins with their own ID numbers; 1 has no number and links to both.
    frame = frame_of(
        record(given_name="An", dob_year=2000, sex=1, personal_id_number="001200000001"),
        record(given_name="An", dob_year=2000, sex=1),
        record(given_name="Ân", dob_year=2000, sex=1, personal_id_number="001200000002"),
    )
    pairs = pairs_of((0, 1), (1, 2), (0, 2))
    probability = np.array([0.9999, 0.9995, 0.2])
    decision = np.array([AUTO_LINK, AUTO_LINK, DISTINCT], dtype=np.int8)
    result = cluster(frame, pairs, probability, decision)
    assert result.labels[0] == result.labels[1] != result.labels[2]
    assert result.decision.tolist() == [AUTO_LINK, REVIEW, DISTINCT]
    assert result.refused == {1: "different_pin"}


def test_a_low_scored_pair_inside_vetoes_the_join_even_without_ids():
    frame = frame_of(*(record(given_name="An", dob_year=2000) for _ in range(3)))
    pairs = pairs_of((0, 1), (1, 2), (0, 2))
    decision = np.array([AUTO_LINK, AUTO_LINK, DISTINCT], dtype=np.int8)
    result = cluster(frame, pairs, np.array([0.9999, 0.9995, 0.01]), decision)
    assert result.labels[0] == result.labels[1] != result.labels[2]
    assert result.refused == {1: "distinct_inside"}


def test_a_link_vouched_by_a_shared_number_may_join_across_a_mistyped_birth_year():
    # 0 and 1 share a document number, their years differ by a slip; 2 has no number.
    frame = frame_of(
        record(given_name="An", dob_year=1966, other_id_number="7119771"),
        record(given_name="An", dob_year=1913, other_id_number="7119771"),
        record(given_name="An", dob_year=1940),
    )
    pairs = pairs_of((0, 1), (0, 2))
    decision = np.array([AUTO_LINK, AUTO_LINK], dtype=np.int8)
    probability = np.array([0.9999, 0.9995])
    plain = cluster(frame, pairs, probability, decision)
    assert plain.refused == {0: "different_birth_year", 1: "different_birth_year"}
    result = cluster(frame, pairs, probability, decision, vouched=np.array([True, False]))
    assert result.labels[0] == result.labels[1] != result.labels[2]
    assert result.refused == {1: "different_birth_year"}


def test_two_copies_sharing_a_number_each_with_its_own_slip_do_not_keep_their_original_apart():
    # 0 is the original; 1 has a mistyped date, 2 another given name; all share a number.
    # 1 and 2 disagree twice, but their shared number says they are copies of one record.
    frame = frame_of(*(record(given_name="An", dob_year=2000) for _ in range(3)))
    pairs = pairs_of((0, 1), (0, 2), (1, 2))
    decision = np.array([AUTO_LINK, AUTO_LINK, REVIEW], dtype=np.int8)
    probability = np.array([0.9999, 0.9995, 0.9])
    disagree = np.array([False, False, True])
    kept = cluster(frame, pairs, probability, decision, disagree=disagree)
    assert kept.refused == {1: "distinct_inside"}
    joined = cluster(frame, pairs, probability, decision, disagree=disagree,
                     vouched=np.array([True, True, True]))  # fmt: skip
    assert joined.labels[0] == joined.labels[1] == joined.labels[2]
    assert joined.refused == {}


def test_two_registered_persons_are_never_merged_automatically():
    frame = frame_of(*(record(given_name="An", dob_year=2000) for _ in range(3)))
    pairs = pairs_of((0, 2), (1, 2))
    decision = np.array([AUTO_LINK, AUTO_LINK], dtype=np.int8)
    result = cluster(frame, pairs, np.array([0.9999, 0.9995]), decision,
                     persons=np.array([10, 11, -1]))  # fmt: skip
    assert result.labels[2] == result.labels[0] != result.labels[1]
    assert result.refused == {1: "two_persons"}


def test_only_evidence_of_two_people_vetoes_a_join_not_a_lack_of_evidence():
    frame = frame_of(*(record(given_name="An", dob_year=2000) for _ in range(3)))
    pairs = pairs_of((0, 1), (1, 2), (0, 2))
    decision = np.array([AUTO_LINK, AUTO_LINK, DISTINCT], dtype=np.int8)
    probability = np.array([0.9999, 0.9995, 0.01])
    thin = cluster(frame, pairs, probability, decision, disagree=np.array([False] * 3))
    assert thin.labels[0] == thin.labels[1] == thin.labels[2]  # (0, 2) just lacks evidence
    against = cluster(frame, pairs, probability, decision,
                      disagree=np.array([False, False, True]))  # fmt: skip
    assert against.labels[0] == against.labels[1] != against.labels[2]


def test_a_shared_document_number_clears_one_disagreement_never_two_nor_another_number():
    comparisons = (IdComparison("personal_id_number", "pin"),
                   IdComparison("other_id_number", "other_id"),
                   NameComparison("given_name", "given"), DateComparison("dob"))  # fmt: skip
    model = MatchModel(comparisons, tuple(np.full(len(c.levels), 0.5) for c in comparisons),
                       tuple(np.full(len(c.levels), 0.5) for c in comparisons), 0.5)  # fmt: skip
    matrix = np.array([
        [0, -1, 0, 5],   # same personal number, one year off: a slip
        [-1, 0, 3, 0],   # same other document number, another given name: a slip
        [0, -1, 3, 5],   # same number, another given name and year: a sibling's number copied
        [3, 0, 0, 0],    # same other number, another personal number: two people
        [-1, -1, 0, 5],  # no number to vouch, one year off
        [1, -1, 0, 5],   # the number one digit off: the same number with a slip, it vouches
        [-1, 2, 3, 0],   # the other number with two digits swapped: it vouches too
        [-1, 3, 3, 0],   # another other number vouches for nothing
    ], dtype=np.int8)  # fmt: skip
    gammas = Gammas(tuple(c.name for c in comparisons), matrix)
    assert disagreements(gammas, model).tolist() == [0, 0, 1, 1, 1, 0, 0, 1]
    assert vouched(gammas, model).tolist() == [True, True, True, True, False, True, True, False]
    unvouched = model.with_thresholds(Thresholds(vouching=()))
    assert disagreements(gammas, unvouched).tolist() == [1, 1, 2, 1, 1, 1, 1, 1]
    # clean: no disagreement at all before vouching (a slip on the number is none)
    assert clean(gammas, model).tolist() == [False, False, False, False, False, False, False, False]
    assert clean(Gammas(gammas.names, np.array([[1, -1, 0, 0], [2, -1, 1, 1], [1, -1, 3, 0]],
                                                  dtype=np.int8)), model).tolist() == [
        True, False, False]  # given names only similar: not clean  # fmt: skip


def test_one_slip_is_one_digit_off_or_two_adjacent_digits_swapped():
    assert one_slip("035324761892", "035324761893")
    assert one_slip("137191747118", "037191747118")  # a leading digit changed
    assert one_slip("035324761892", "035324761829")  # the last two swapped
    assert not one_slip("035324761892", "035324761811")  # two digits off
    assert not one_slip("035324761892", "035324761892")
    assert not one_slip("035324761892", "35324761892")


def test_numbers_one_slip_apart_join_when_all_else_agrees_but_twins_stay_apart():
    """A clerk links 035324761892 / 035324761893 when name, date and address agree: a typo.
    Twins' numbers may be one slip apart too, but their given names differ (not clean)."""
    frame = frame_of(
        record(given_name="An", dob_year=2000, personal_id_number="035300761892"),
        record(given_name="An", dob_year=2000, personal_id_number="035300761893"),
        record(given_name="An", dob_year=2000, personal_id_number="035300761811"),
    )
    pairs = pairs_of((0, 1), (0, 2))
    decision = np.array([AUTO_LINK, AUTO_LINK], dtype=np.int8)
    probability = np.array([0.9999, 0.9995])
    before = cluster(frame, pairs, probability, decision, vouched=np.array([True, False]))
    assert before.refused == {0: "different_pin", 1: "different_pin"}
    typo = cluster(frame, pairs, probability, decision, vouched=np.array([True, False]),
                   clean=np.array([True, True]))  # fmt: skip
    assert typo.labels[0] == typo.labels[1] != typo.labels[2]
    assert typo.refused == {1: "different_pin"}  # two digits off: another person
    twins = cluster(frame, pairs, probability, decision, vouched=np.array([True, False]),
                    clean=np.array([False, False]))  # fmt: skip
    assert twins.refused == {0: "different_pin", 1: "different_pin"}


def test_one_disagreement_goes_to_review_two_are_distinct_however_strong_the_rest():
    comparisons = (NameComparison("given_name", "given"), DateComparison("dob"),
                   NameComparison("mother_name", "mother"))  # fmt: skip
    model = MatchModel(comparisons, tuple(np.full(len(c.levels), 0.5) for c in comparisons),
                       tuple(np.full(len(c.levels), 0.5) for c in comparisons), 0.5)  # fmt: skip
    # all agree; other birth year; other given name and birth year (a sibling); weak evidence
    matrix = np.array([[0, 0, 0], [0, 6, 0], [3, 6, 0], [0, 0, 0]], dtype=np.int8)
    gammas = Gammas(tuple(c.name for c in comparisons), matrix)
    probability = np.array([0.999, 0.999, 0.999, 0.5])
    scores = Scores(np.zeros(4), probability, np.zeros((4, 3)))
    assert decide(gammas, scores, model).tolist() == [AUTO_LINK, REVIEW, DISTINCT, REVIEW]


def test_an_unknown_day_and_month_block_together_only_where_the_rule_says_so():
    def phan(**dob: int) -> dict:
        return record(family_name="Phan", middle_name="Thu", given_name="Thủy", **dob)

    frame = frame_of(phan(dob_year=1970), phan(dob_year=1970),
                     phan(dob_year=1970, dob_month=5, dob_day=2))  # fmt: skip
    on = ("family_fold", "given_fold", "dob_year", "dob_month", "dob_day")
    strict = BlockingRule("strict", on)
    lenient = BlockingRule("lenient", on, unknown_is_value=("dob_month", "dob_day"))
    assert len(candidate_pairs(frame, [strict])[0]) == 0
    pairs, _ = candidate_pairs(frame, [lenient])
    assert list(zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)) == [(0, 1)]
    assert BlockingRule.from_dict(lenient.to_dict()) == lenient


def test_a_rules_keys_imply_the_levels_they_guarantee_and_no_others():
    given = NameComparison("given_name", "given", fold_column="given_fold")
    dob = DateComparison("dob")
    year_rule = BlockingRule("name_year", ("name_fold", "dob_year")).equal_columns()
    assert given.implied_levels(year_rule) == (0, 1)  # exact or exact after the fold
    assert dob.implied_levels(year_rule) == (0, 1, 2, 3, 4)  # exact … same year
    full = frozenset({"dob_year", "dob_month", "dob_day"})
    assert dob.implied_levels(full) == (0,)
    assert given.implied_levels(frozenset({"initials"})) == ()
    assert IdComparison("other_id_number", "other_id").implied_levels(frozenset({"other_id"})) == (
        0,
    )


def test_a_number_with_one_slip_is_blocked_by_the_half_it_kept():
    assert halves("2486965") == ("2486", "965") and halves("12") == ("1", "2")
    assert halves("7") == (None, None) and halves(None) == (None, None)
    frame = frame_of(
        record(family_name="Jardine", given_name="Matthew", other_id_number="2211117"),
        record(family_name="Jaridne", given_name="Mathew", other_id_number="2211171"),  # tail
        record(family_name="Boyes", given_name="Harry", other_id_number="6398424"),
        record(family_name="Boyse", given_name="Hary", other_id_number="6388424"),  # head
        record(family_name="Nguyễn", given_name="An", other_id_number="1234567"),
        record(family_name="Jones", given_name="Erin", other_id_number="2211178"),  # initials
    )
    pairs, report = candidate_pairs(frame, DEFAULT_RULES)
    ordered = zip(pairs.left.tolist(), pairs.right.tolist(), strict=True)
    found = dict(zip(ordered, pairs.rule.tolist(), strict=True))
    names = [r.name for r in DEFAULT_RULES]
    assert {k: names[v] for k, v in found.items()} == {
        (0, 1): "other_id_head", (2, 3): "other_id_tail"}  # fmt: skip
