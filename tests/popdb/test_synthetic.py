"""Synthetic citizen records: deterministic, labelled, hard in the field's ways, importable."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import random
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from importers.dc01 import DC01_COLUMNS
from importers.mapping import parse_profile
from importers.readers import open_table
from importers.recognise import resolve_profile
from importers.validate import RowValidator
from popdb import synthetic
from popdb.core import admin_units
from popdb.core.dates import parse_date
from popdb.core.pin import parse_pin
from popdb.core.text import canonical, fold
from popdb.synthetic import (
    DC01_HEADERS,
    DEFAULT_RATES,
    FOREIGN_HEADERS,
    FOREIGN_PROFILE,
    TRUTH_COLUMN,
    PersonTruth,
    SyntheticConfig,
    SyntheticRecord,
    generate,
    generate_foreign,
    generate_records,
    summarize,
    write_csv,
    write_demo_files,
)
from popdb.synthetic.names import _names as synthetic_names
from popdb.synthetic.variants import _ascii as ascii_fold
from popdb.synthetic.variants import _new_style as new_style
from popdb.synthetic.variants import vn_typo
from tests.support.reference_validate import RowResult, validate_row

PERSONS = 3000
TODAY = dt.date(2026, 11, 23)
H = {field: header for header, field in DC01_COLUMNS if field}


@pytest.fixture(scope="module")
def records() -> list[SyntheticRecord]:
    return list(generate_records(PERSONS, seed=11))


class Reference:
    """What the importer reads from the database, built from the shipped unit lists."""

    def __init__(self) -> None:
        units = {v.key: list(admin_units.read_units(v)) for v in admin_units.VINTAGES}
        self.in_force = {
            key: frozenset(u.code for u in rows if u.level == "commune")
            for key, rows in units.items()
        }
        self.known = frozenset(u.code for rows in units.values() for u in rows)
        self.province_of: dict[str, str] = {}
        for v in admin_units.VINTAGES:  # later vintages override earlier ones, as in pipeline
            if v.has_districts:
                for u in units[v.key]:
                    if u.level != "province":
                        self.province_of[u.code] = u.province_code
        self._validators: dict[tuple[dt.date, str], RowValidator] = {}

    def validator(self, collected_on: dt.date, vintage: str) -> RowValidator:
        key = (collected_on, vintage)
        if key not in self._validators:
            self._validators[key] = RowValidator(
                collected_on=collected_on,
                communes_in_force=self.in_force[vintage],
                vintage=vintage,
                known_codes=self.known,
                province_of=self.province_of,
                today=TODAY,
            )
        return self._validators[key]


@pytest.fixture(scope="module")
def reference() -> Reference:
    return Reference()


def ascii_letters(text: str) -> bool:
    """No diacritic on any letter (a zero-width space or a curly apostrophe may remain)."""
    return all(ch.isascii() for ch in text if ch.isalpha() or unicodedata.combining(ch))


DC01_BOUND = resolve_profile(list(DC01_HEADERS), None)


def validate(reference: Reference, record: SyntheticRecord, n: int) -> RowResult:
    bound = DC01_BOUND
    validator = reference.validator(record.collected_on, record.vintage)
    raw: dict[str, str | None] = dict(record.row)
    return validate_row(validator, n, bound.map_row(raw), bound.source_key(raw))


# --- shape and determinism ------------------------------------------------------------------


def test_rows_have_the_dc01_template_headers_and_the_truth_column() -> None:
    assert list(DC01_HEADERS) == [h for h, _ in DC01_COLUMNS] + [TRUTH_COLUMN]
    row = next(generate(1, seed=1))
    assert list(row) == list(DC01_HEADERS)
    assert all(isinstance(v, str) for v in row.values())


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows() -> None:
    first = list(generate(400, seed=5))
    assert first == list(generate(400, seed=5))
    assert first != list(generate(400, seed=6))
    foreign = list(generate_foreign(400, seed=5))
    assert foreign == list(generate_foreign(400, seed=5))
    assert foreign != list(generate_foreign(400, seed=6))


def test_generation_is_a_lazy_stream() -> None:
    rows = generate(10**9, seed=1)  # a billion people: only what is read gets made
    assert len(list(itertools.islice(rows, 50))) == 50


def test_form_numbers_are_unique_and_say_nothing_about_persons(records) -> None:
    keys = [r.row[H["source_key"]] for r in records]
    assert len(set(keys)) == len(keys)
    assert all(k.startswith(r.collected_by + "-") for k, r in zip(keys, records, strict=True))


def test_knobs_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown corruption"):
        next(generate(1, seed=1, rates={"name_asci": 0.5}))
    with pytest.raises(ValueError, match="duplicate_share"):
        SyntheticConfig(duplicate_share=1.5)
    with pytest.raises(ValueError, match="2025-07"):
        next(generate(1, seed=1, communes=("99999",)))
    assert set(DEFAULT_RATES) >= {"name_ascii", "dob_day_month_swap", "pin_typo", "moved"}


# --- the truth ---------------------------------------------------------------------------------


def test_truth_ids_name_one_person_each_and_every_person_has_a_first_record(records) -> None:
    persons: dict[str, PersonTruth] = {}
    firsts: Counter[str] = Counter()
    for r in records:
        assert r.row[TRUTH_COLUMN] == r.person.truth_id
        persons.setdefault(r.person.truth_id, r.person)
        assert persons[r.person.truth_id] == r.person
        firsts[r.person.truth_id] += r.first
    assert len(persons) == PERSONS
    assert set(firsts.values()) == {1}
    pins = [p.pin for p in persons.values()]
    assert len(set(pins)) == len(pins)  # unique per person


def test_the_configured_share_of_persons_has_two_to_four_records(records) -> None:
    per_person = Counter(r.person.truth_id for r in records)
    assert set(per_person.values()) <= {1, 2, 3, 4}
    share = sum(c > 1 for c in per_person.values()) / len(per_person)
    assert 0.21 <= share <= 0.29  # default 0.25
    more = Counter(r.person.truth_id for r in generate_records(2000, seed=3, duplicate_share=0.5))
    assert 0.45 <= sum(c > 1 for c in more.values()) / len(more) <= 0.55
    none = Counter(r.person.truth_id for r in generate_records(500, seed=3, duplicate_share=0))
    assert set(none.values()) == {1}


def test_duplicates_are_not_next_to_their_first_record(records) -> None:
    position = defaultdict(list)
    for i, r in enumerate(records):
        position[r.person.truth_id].append(i)
    gaps = [b - a for ps in position.values() for a, b in itertools.pairwise(ps)]
    assert gaps and sum(g == 1 for g in gaps) / len(gaps) < 0.05


def test_twins_share_birth_parents_household_and_family_name_not_given_name(records) -> None:
    groups: defaultdict[int, dict[str, PersonTruth]] = defaultdict(dict)
    for r in records:
        if r.person.twin_group is not None:
            groups[r.person.twin_group][r.person.truth_id] = r.person
    twins = [list(g.values()) for g in groups.values() if len(g) > 1]
    assert len(twins) >= 10
    sexes = set()
    for a, b in twins:
        assert (a.year, a.month, a.day) == (b.year, b.month, b.day)
        assert (a.father_name, a.mother_name) == (b.father_name, b.mother_name)
        assert a.household_id == b.household_id and a.family == b.family
        assert a.given != b.given
        sexes.add(a.sex == b.sex)
    assert sexes == {True, False}  # same and different sex


def test_namesakes_share_name_and_birth_year_some_in_one_commune(records) -> None:
    by_key: defaultdict[tuple[str | None, int], dict[str, PersonTruth]] = defaultdict(dict)
    for r in records:
        p = r.person
        by_key[canonical(p.full_name), p.year][p.truth_id] = p
    clashes = [list(g.values()) for g in by_key.values() if len(g) > 1]
    assert len(clashes) >= 20
    assert any(len({p.commune_code for p in g}) < len(g) for g in clashes)
    assert any(r.person.namesake_of for r in records)


def test_households_pass_the_family_name_down_and_name_the_parents(records) -> None:
    people = {r.person.truth_id: r.person for r in records}
    by_household = defaultdict(list)
    for p in people.values():
        by_household[p.household_id].append(p)
    children_with_parents = 0
    for members in by_household.values():
        named = {p.full_name: p for p in members}
        for child in members:
            if child.father_name in named and child.mother_name in named:
                father, mother = named[child.father_name], named[child.mother_name]
                if max(father.year, mother.year) >= child.year:
                    continue  # small minority name lists: a namesake, not the parent
                line = mother if child.ethnicity in ("Ê Đê", "Gia Rai") else father
                assert child.family.split()[0] == line.family.split()[0]  # Tôn Nữ/Tôn Thất
                assert child.year >= max(father.year, mother.year) + 15
                children_with_parents += 1
    assert children_with_parents > PERSONS // 4


def test_ages_run_from_babies_to_a_hundred(records) -> None:
    years = [r.person.year for r in records]
    assert 2025 - max(years) <= 1 and 2025 - min(years) >= 85
    assert all(2025 - y <= 100 for y in years)


# --- realism ------------------------------------------------------------------------------------


def test_every_row_is_accepted_and_a_clean_row_raises_no_warning(records, reference) -> None:
    warnings: Counter[str] = Counter()
    for n, r in enumerate(records, 2):
        result = validate(reference, r, n)
        assert not result.rejected
        if r.corruptions:
            warnings.update(i.code for i in result.issues)
            continue
        expected = set()
        if (r.person.month, r.person.day) == (1, 1):
            expected.add("placeholder_jan_1")  # born on 1 January: indistinguishable
        if r.person.cmnd and 271_450_001 <= int(r.person.cmnd) <= 271_500_000:
            expected.add("cmnd_issued_twice")
        assert {i.code for i in result.issues} <= expected, (r.row, result.issues)
    # Corrupted rows are what the validator is for.
    assert warnings["pin_birth_year_mismatch"] + warnings["two_digit_year"] > 0


def test_pins_agree_with_birth_year_sex_and_place_on_uncorrupted_records(records) -> None:
    touched = {"pin_typo", "pin_zero_lost", "dob_typo", "dob_two_digit_year", "sex_wrong"}
    checked = 0
    for r in records:
        cell = r.row[H["personal_id_number"]]
        if not cell or touched & set(r.corruptions):
            continue
        info = parse_pin(cell, today=TODAY)
        assert info.number == r.person.pin
        assert info.birth_year == r.person.year and info.sex == r.person.sex
        dob = r.row[H["dob"]]
        if dob:
            assert parse_date(dob, today=TODAY)[0].year == r.person.year
        code = r.row[H["birth_registration_code"]]
        if len(code) == 2:
            assert info.place_code == "0" + code
        checked += 1
    assert checked > PERSONS // 3


def test_the_numbers_the_brief_asks_for_are_in_range(records) -> None:
    stats = summarize(records)
    assert stats["persons"] == PERSONS
    assert 0.35 < stats["share_with_pin"] < 0.7  # many records have none
    assert 0.15 < stats["share_with_cmnd"] < 0.45
    assert 0.08 < stats["share_legacy"] < 0.22
    rates = stats["corruption_rates"]
    for kind in ("name_ascii", "name_typo", "middle_omitted", "dob_day_month_swap",
                 "dob_year_only", "pin_typo", "moved", "address_legacy_text", "nfd"):  # fmt: skip
        assert rates.get(kind, 0) > 0, kind


def test_corruptions_look_like_the_field(records) -> None:
    name, dob = H["full_name"], H["dob"]
    for r in records:
        kinds = set(r.corruptions)
        text = r.row[name]
        if "name_ascii" in kinds:
            assert ascii_letters(text)
            assert fold(text) == fold(r.person.full_name) or kinds & {
                "name_typo", "middle_omitted", "middle_changed", "name_order"}  # fmt: skip
        if "nfd" in kinds and not text.isascii():
            assert unicodedata.normalize("NFD", text) == text != unicodedata.normalize("NFC", text)
        if "dob_year_only" in kinds:
            assert r.row[dob] in {f"00/00/{r.person.year}", str(r.person.year),
                                  f"--/--/{r.person.year}"}  # fmt: skip
        if "dob_day_month_swap" in kinds and not kinds & {"dob_typo", "dob_format",
                                                          "dob_two_digit_year"}:  # fmt: skip
            assert r.row[dob] == f"{r.person.month:02d}/{r.person.day:02d}/{r.person.year}"
        if "middle_omitted" in kinds and not kinds & {"name_typo", "name_order", "name_ascii"}:
            p = r.person
            parts = (p.family, p.given) if p.full_name.startswith(p.family) else (p.given, p.family)
            assert canonical(text) == canonical(" ".join(parts))


def test_without_errors_a_record_spells_the_truth() -> None:
    for r in generate_records(300, seed=2, error_scale=0.0):
        assert r.corruptions == ()
        assert canonical(r.row[H["full_name"]]) == canonical(r.person.full_name)
        if r.person.date_known:
            p = r.person
            assert r.row[H["dob"]] == f"{p.day:02d}/{p.month:02d}/{p.year}"


def test_a_rate_can_be_forced() -> None:
    rows = list(generate(200, seed=4, rates={"name_ascii": 1.0}, first_record_error_scale=1.0))
    assert all(ascii_letters(row[H["full_name"]]) for row in rows)


def test_tone_style_and_ascii_variants_keep_the_match_keys() -> None:
    words = {"Hòa", "Thủy", "Khỏe", "Úy", "HÒA", "Hoàng", "Quý", "Quỳnh", "Toàn"}
    for word in words | synthetic_names().vocabulary:
        variant = new_style(word)
        assert canonical(variant) == canonical(word)
        assert fold(ascii_fold(word)) == fold(word)
    assert new_style("Hòa") == "Hoà" and new_style("Thủy") == "Thuỷ"
    assert new_style("Quý") == "Quý" and new_style("Hoàng") == "Hoàng"
    assert ascii_fold("Đặng Thị Thủy") == "Dang Thi Thuy"


def test_typos_are_small_and_keep_the_case() -> None:
    rng = random.Random(1)
    for word in ("Nguyễn", "TRẦN", "Hương", "Dũng", "Ngọc", "Vũ", "Lý"):
        for _ in range(30):
            typo = vn_typo(word, rng)
            assert typo.isupper() == word.isupper()
            assert abs(len(fold(typo) or "") - len(fold(word) or "")) <= 2


def test_commune_codes_come_from_the_list_in_force_on_the_collection_date(
    records, reference
) -> None:
    for r in records:
        assert r.collected_by in reference.in_force[r.vintage]
        assert r.vintage == admin_units.vintage_in_force(r.collected_on).key
        assert r.person.commune_code in reference.in_force["2025-07"]
    assert {r.vintage for r in records} >= {"2025-07", "2020-02"}


# --- files -----------------------------------------------------------------------------------


def test_write_csv_writes_utf8_with_bom_and_counts_rows(tmp_path: Path) -> None:
    path = tmp_path / "dc01.csv"
    assert write_csv(path, generate(50, seed=1), DC01_HEADERS) >= 50
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        assert next(csv.reader(f)) == list(DC01_HEADERS)


def test_demo_files_are_one_importable_batch_per_commune_and_date(tmp_path, reference) -> None:
    files = write_demo_files(tmp_path / "demo", 600, seed=3, truth_column=False)
    assert len(files) >= 5 and sum(f.rows for f in files) >= 600
    assert [f.collected_on for f in files] == sorted(f.collected_on for f in files)
    truth = list(csv.DictReader((tmp_path / "demo" / "truth.csv").open(encoding="utf-8")))
    assert len(truth) == sum(f.rows for f in files)
    for f in files:
        assert Path(f).name == f"dc01-{f.commune_code}-{f.collected_on:%Y%m%d}.csv"
        assert f.commune_code in reference.in_force[f.vintage]
        validator = reference.validator(f.collected_on, f.vintage)
        with open_table(f.path) as table:
            assert table.header == list(DC01_HEADERS[:-1])
            bound = resolve_profile(table.header, None)
            rows = list(table.rows)
            assert len(rows) == f.rows
            for n, raw in rows:
                result = validate_row(validator, n, bound.map_row(raw), bound.source_key(raw))
                assert not result.rejected
                codes = {i.code for i in result.issues}
                assert "unknown_commune" not in codes or raw[H["permanent_commune_code"]] == ""
    current = {f.commune_code for f in files if f.vintage == "2025-07"}
    assert current == set(synthetic.DEMO_COMMUNES)


# --- the Western variant -----------------------------------------------------------------------


def test_foreign_rows_map_through_the_profile_and_are_accepted() -> None:
    rows = list(generate_foreign(1500, seed=9))
    assert all(list(row) == list(FOREIGN_HEADERS) for row in rows)
    profile = parse_profile(json.loads(json.dumps(FOREIGN_PROFILE)), name="foreign")
    bound = resolve_profile(list(FOREIGN_HEADERS), profile)
    assert bound.unmapped_columns == [TRUTH_COLUMN]
    validator = RowValidator(
        collected_on=dt.date(2025, 10, 1), communes_in_force=frozenset(), vintage="2025-07",
        name_order=bound.name_order, today=TODAY,
    )  # fmt: skip
    issues: Counter[str] = Counter()
    for n, row in enumerate(rows, 2):
        raw: dict[str, str | None] = dict(row)
        result = validate_row(validator, n, bound.map_row(raw), bound.source_key(raw))
        assert not result.rejected
        issues.update(i.code for i in result.issues)
        if row["date_of_birth"] and not result.issues:
            assert result.record["dob_year"] == int(row["date_of_birth"][:4])
    assert "format_mismatch" not in issues and "repeated_source_key" not in issues


def test_foreign_records_have_truth_duplicates_and_households() -> None:
    rows = list(generate_foreign(2000, seed=9))
    per_person = Counter(r[TRUTH_COLUMN] for r in rows)
    assert len(per_person) == 2000
    assert 0.21 <= sum(c > 1 for c in per_person.values()) / 2000 <= 0.29
    ids = [r["soc_sec_id"] for r in rows if r["soc_sec_id"]]
    assert all(len(i) == 7 and i.isdigit() for i in ids)
    by_address = Counter((r["street_number"], r["address_1"], r["suburb"]) for r in rows)
    assert max(by_address.values()) >= 3
