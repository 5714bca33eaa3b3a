"""A dedup run on a real database: persons, numbers, events, pairs; incremental = rebuild."""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dedup.report import evaluate, explain_keys, export_clusters, export_pairs
from dedup.run import RunOptions
from importers.batches import BatchRequest, register
from importers.pipeline import run_batch
from popdb.core.models import MatchCandidate, Person, PersonEvent, SourceRecord
from popdb.registry.matching import match
from tests.support.dc01 import HEADERS, dc01_row, fake_rows

#: (truth, source key, name, dob, sex, PIN, father, mother, address)
PEOPLE = [
    ("A", "k1", "Nguyễn Văn Hòa", "12/05/1980", "Nam", "001080000111", "Nguyễn Văn Bình",
     "Lê Thị Lan", "Số 5 phố Huế, Phường Ba Đình, Hà Nội"),
    ("A", "k2", "NGUYEN VAN HOA", "12/05/1980", "Nam", "", "Nguyễn Văn Bình", "Lê Thị Lan",
     "Số 5 phố Huế, P. Ba Đình, Hà Nội"),
    ("A", "k3", "Nguyễn Hoà", "00/00/1980", "Nam", "001080000111", "", "", ""),
    # twins: same parents, address and birth date; their own numbers and given names
    ("B", "k4", "Trần Minh Anh", "03/09/2015", "Nữ", "001315000222", "Trần Văn Tú",
     "Phạm Thị Hoa", "Số 9 ngõ 3 phố Kim Mã, Phường Ba Đình, Hà Nội"),
    ("C", "k5", "Trần Minh Châu", "03/09/2015", "Nữ", "001315000333", "Trần Văn Tú",
     "Phạm Thị Hoa", "Số 9 ngõ 3 phố Kim Mã, Phường Ba Đình, Hà Nội"),
    ("B", "k6", "Trần Minh Anh", "03/09/2015", "Nữ", "", "Trần Văn Tú", "Phạm Thị Hoa",
     "Số 9 ngõ 3 phố Kim Mã, Phường Ba Đình, Hà Nội"),
    # namesakes: same name and year, nothing else in common
    ("D", "k7", "Lê Thị Hoa", "01/02/1970", "Nữ", "001170000444", "Lê Văn Sơn", "Đỗ Thị Mai",
     "Số 1 phố Hàng Bài, Phường Hoàn Kiếm, Hà Nội"),
    ("E", "k8", "Lê Thị Hoa", "17/11/1970", "Nữ", "", "Lê Văn Long", "Vũ Thị Yến",
     "Số 80 đường Láng, Phường Láng, Hà Nội"),
    ("F", "k9", "Phạm Quốc Việt", "25/12/1999", "Nam", "", "Phạm Văn Nam", "Ngô Thị Thu",
     "Số 2 phố Lý Thái Tổ, Phường Hoàn Kiếm, Hà Nội"),
]  # fmt: skip


def write(path: Path, rows: list[tuple]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow([*HEADERS, "truth_id"])
        for truth, key, name, dob, sex, pin, father, mother, address in rows:
            cells = dict(source_key=key, full_name=name, dob=dob, sex=sex,
                         personal_id_number=pin, father_name=father, mother_name=mother,
                         permanent_address=address, birth_registration_place="Hà Nội")  # fmt: skip
            writer.writerow([*dc01_row(**cells), truth])
        for row in fake_rows(BACKGROUND, seed=len(rows)):  # other people, for training
            writer.writerow([*row, row[0]])
    return path


#: Unrelated records around the cases, so that there is something to train on.
BACKGROUND = 300


def load(session: Session, scope, path: Path) -> None:
    batch, _ = register(session, BatchRequest(path=path, commune_code="00004"))
    run_batch(scope, batch.id, path)


def partition(session: Session) -> set[frozenset[str]]:
    groups: dict[int, set[str]] = {}
    for key, person in session.execute(sa.select(SourceRecord.source_key, SourceRecord.person_id)):
        groups.setdefault(person, set()).add(key)
    return {frozenset(g) for g in groups.values()}


def test_a_run_makes_persons_of_clusters_and_keeps_twins_and_namesakes_apart(
    session, scope, tmp_path
):
    load(session, scope, write(tmp_path / "a.csv", PEOPLE))
    summary = match(session.connection(), RunOptions())
    assert summary.trained and summary.new_records == len(PEOPLE) + BACKGROUND
    groups = partition(session)
    assert frozenset({"k4"}) in groups or frozenset({"k4", "k6"}) in groups
    assert all(not {"k4", "k5"} <= g and not {"k5", "k6"} <= g for g in groups)  # twins
    assert all(not {"k7", "k8"} <= g for g in groups)  # namesakes
    assert frozenset({"k1", "k2", "k3"}) in groups
    # a person with a valid number keeps it; every new person has a "created" event
    person = session.scalars(
        sa.select(Person).join(SourceRecord, SourceRecord.person_id == Person.id)
        .where(SourceRecord.source_key == "k1")
    ).one()  # fmt: skip
    assert (person.personal_id_number, person.pin_state) == ("001080000111", "kept")
    assert person.dob_day == 12 and person.full_name == "Nguyễn Văn Hòa" or person.dob_day == 12
    persons = session.scalar(sa.select(sa.func.count()).select_from(Person))
    created = session.scalar(
        sa.select(sa.func.count()).select_from(PersonEvent).where(PersonEvent.kind == "created")
    )
    assert persons == created == len(groups)
    assert session.scalar(sa.select(sa.func.count()).select_from(SourceRecord)
                          .where(~SourceRecord.matched)) == 0  # fmt: skip


def test_an_incremental_run_equals_a_rebuild_on_the_same_data(session, scope, tmp_path):
    load(session, scope, write(tmp_path / "a.csv", PEOPLE[::2]))
    match(session.connection(), RunOptions())
    load(session, scope, write(tmp_path / "b.csv", PEOPLE[1::2]))
    second = match(session.connection(), RunOptions())
    assert not second.trained and second.new_records == len(PEOPLE[1::2]) + BACKGROUND
    incremental = partition(session)
    match(session.connection(), RunOptions(rebuild=True))
    assert partition(session) == incremental


def test_nothing_new_means_nothing_to_do(session, scope, tmp_path):
    load(session, scope, write(tmp_path / "a.csv", PEOPLE[:3]))
    match(session.connection(), RunOptions())
    again = match(session.connection(), RunOptions())
    assert again.new_records == 0 and again.pairs == 0


def test_explain_export_and_evaluate(session, scope, tmp_path):
    load(session, scope, write(tmp_path / "a.csv", PEOPLE))
    match(session.connection(), RunOptions())
    connection = session.connection()
    explained = explain_keys(connection, "k1", "k2")
    fields = {f["comparison"]: f for f in explained["fields"]}
    assert fields["given_name"]["level"] == "exact_fold"  # Hòa vs HOA: no diacritics
    assert fields["dob"]["level"] == "exact"
    assert fields["personal_id_number"]["level"] is None  # missing on k2: weighs nothing
    total = explained["prior_weight"] + sum(f["weight"] for f in explained["fields"])
    assert abs(total - explained["match_weight"]) < 0.01
    pairs = export_pairs(connection, tmp_path / "pairs.csv")
    stored = session.scalar(sa.select(sa.func.count()).select_from(MatchCandidate))
    assert pairs == stored > 0
    assert export_clusters(connection, tmp_path / "clusters.csv") == len(PEOPLE) + BACKGROUND
    rows = list(csv.DictReader((tmp_path / "clusters.csv").open(encoding="utf-8")))
    assert {p[1] for p in PEOPLE} <= {r["source_key"] for r in rows}
    scores = evaluate(connection, "truth_id")
    assert scores["clusters"]["false_merges"] == 0
    assert scores["clusters"]["precision"] == 1.0


def test_records_naming_no_commune_are_paired_on_their_names_in_the_uploading_commune(
    session, scope, tmp_path
):
    """A foreign file's rows have no commune codes; without a birth date or a number, the
    name within the commune that uploaded them is all that can bring two of them together."""
    load(session, scope, write(tmp_path / "background.csv", []))
    path = tmp_path / "foreign.csv"
    path.write_text(
        "id,first,last,street,mother\n"
        "f1,Vanessa,Harris,12 High Street Kingston,Taylor\n"
        "f2,Vanessa,Harris,12 High St Kingston,Taylor\n"
        "f3,Gregory,Garcia,3 Mill Lane Leeds,Noble\n",
        encoding="utf-8",
    )
    mapping = {"source_key": "id", "name_order": "given_first",
               "fields": {"given_name": "first", "family_name": "last",
                          "permanent_address": "street", "mother_name": "mother"}}  # fmt: skip
    batch, _ = register(session, BatchRequest(path=path, commune_code="00004", mapping=mapping))
    run_batch(scope, batch.id, path)
    match(session.connection(), RunOptions())
    record_id = dict(session.execute(sa.select(SourceRecord.source_key, SourceRecord.id)).all())
    rules = dict(
        session.execute(
            sa.select(MatchCandidate.right_record_id, MatchCandidate.blocking_rule).where(
                MatchCandidate.left_record_id == record_id["f1"]
            )
        ).all()
    )
    assert rules.get(record_id["f2"]) == "family_given_commune"
    assert record_id["f3"] not in rules


def test_a_later_record_typed_without_diacritics_or_sex_does_not_degrade_the_person(
    session, scope, tmp_path
):
    """The golden name keeps its diacritics and the sex stays known when a later record of the
    same person writes NGO VAN CUONG and sex 0 ("no information"), and sex 0 is no
    disagreement for the matcher."""
    first = [("P", "g1", "Ngô Văn Cường", "04/07/1985", "Nam", "001085000777", "Ngô Văn Tư",
              "Lê Thị Hạnh", "Số 3 phố Huế, Phường Hai Bà Trưng, Hà Nội")]  # fmt: skip
    later = [("P", "g2", "NGO VAN CUONG", "04/07/1985", "0", "001085000777", "NGO VAN TU",
              "LE THI HANH", "So 3 pho Hue, Phuong Hai Ba Trung, Ha Noi")]  # fmt: skip
    load(session, scope, write(tmp_path / "first.csv", first))
    match(session.connection(), RunOptions())
    with (tmp_path / "later.csv").open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for _, key, name, dob, sex, pin, father, mother, address in later:
            writer.writerow(dc01_row(source_key=key, full_name=name, dob=dob, sex=sex,
                                     personal_id_number=pin, father_name=father,
                                     mother_name=mother, permanent_address=address))  # fmt: skip
    load(session, scope, tmp_path / "later.csv")
    match(session.connection(), RunOptions())
    sex_of = dict(session.execute(sa.select(SourceRecord.source_key, SourceRecord.sex)).all())
    assert sex_of["g2"] == 0
    (person,) = session.scalars(
        sa.select(Person).join(SourceRecord, SourceRecord.person_id == Person.id)
        .where(SourceRecord.source_key.in_(["g1", "g2"])).distinct()
    ).all()  # fmt: skip
    assert (person.full_name, person.given_name, person.sex) == ("Ngô Văn Cường", "Cường", 1)
    keys = session.execute(
        sa.text("SELECT k.sex FROM match_key k JOIN source_record sr ON sr.id = k.record_id "
                "WHERE sr.source_key = 'g2'")
    ).scalar_one()  # fmt: skip
    assert keys == -1


def test_explain_tells_a_link_held_for_review_because_the_numbers_differ(session, scope, tmp_path):
    same = ("Trần Minh Anh", "03/09/2015", "Nữ")
    rest = ("Trần Văn Tú", "Phạm Thị Hoa", "Số 9 ngõ 3 phố Kim Mã, Phường Ba Đình, Hà Nội")
    # one slip apart, but the given names only similar (Anh / Ahn): not plainly a typo
    other = ("Trần Minh Ahn", *same[1:])
    cases = [("X", "d1", *same, "001315000222", *rest), ("X", "d2", *other, "001315000522", *rest)]
    load(session, scope, write(tmp_path / "a.csv", cases))
    match(session.connection(), RunOptions())
    explained = explain_keys(session.connection(), "d1", "d2")
    assert explained["decision"] == "auto_link"
    assert (explained["stored_decision"], explained["review_status"]) == ("review", "pending")
    assert "different personal ID numbers" in explained["held_because"]
    reasons = session.scalars(
        sa.select(MatchCandidate.review_reason).where(MatchCandidate.review_reason.isnot(None))
    ).all()
    assert reasons == ["different_pin"]


def test_a_number_one_slip_apart_is_a_typo_but_twins_numbers_one_slip_apart_stay_apart(
    session, scope, tmp_path
):
    """Name, date, parents and address agree and the numbers are one digit off: one person
    (it was held as different_pin). Twins born the same day to the same parents, with numbers
    one slip apart but other given names: two persons."""
    rest = ("Trần Văn Tú", "Phạm Thị Hoa", "Số 9 ngõ 3 phố Kim Mã, Phường Ba Đình, Hà Nội")
    cases = [
        ("A", "s1", "Trần Minh Anh", "03/09/2015", "Nữ", "001315000222", *rest),
        ("A", "s2", "Trần Minh Anh", "03/09/2015", "Nữ", "001315000522", *rest),
        ("B", "t1", "Lê Thu Hà", "07/01/2012", "Nữ", "001312004711", *rest),
        ("C", "t2", "Lê Thu Hằng", "07/01/2012", "Nữ", "001312004712", *rest),
    ]
    load(session, scope, write(tmp_path / "a.csv", cases))
    match(session.connection(), RunOptions())
    groups = partition(session)
    assert frozenset({"s1", "s2"}) in groups
    assert frozenset({"t1"}) in groups and frozenset({"t2"}) in groups


def test_the_golden_date_of_birth_is_the_one_the_number_and_most_records_agree_on(
    session, scope, tmp_path
):
    """The latest record's date contradicts the personal ID number (born 1990): the person's
    date stays 12/05/1990, so the citizen still passes verify."""
    rest = ("Nguyễn Văn Ba", "Lê Thị Tư", "Số 5 phố Huế, Phường Hai Bà Trưng, Hà Nội")
    cases = [
        ("P", "v1", "Nguyễn Thị Hòa", "12/05/1990", "Nữ", "001190000123", *rest),
        ("P", "v2", "Nguyễn Thị Hòa", "12/05/1991", "Nữ", "001190000123", *rest),
    ]
    load(session, scope, write(tmp_path / "a.csv", cases))
    match(session.connection(), RunOptions())
    assert frozenset({"v1", "v2"}) in partition(session)
    (person,) = session.scalars(
        sa.select(Person).join(SourceRecord, SourceRecord.person_id == Person.id)
        .where(SourceRecord.source_key == "v1")
    ).all()  # fmt: skip
    assert (person.dob_year, person.dob_month, person.dob_day) == (1990, 5, 12)


def _open_items_per_persons(session: Session) -> dict[frozenset[int], int]:
    rows = session.execute(sa.text(
        "SELECT l.person_id, r.person_id FROM match_candidate mc "
        "JOIN source_record l ON l.id = mc.left_record_id "
        "JOIN source_record r ON r.id = mc.right_record_id "
        "WHERE mc.review_status IN ('pending', 'claimed', 'skipped')"
    )).all()  # fmt: skip
    out: dict[frozenset[int], int] = {}
    for a, b in rows:
        out[frozenset((a, b))] = out.get(frozenset((a, b)), 0) + 1
    return out


def test_two_persons_wait_in_the_queue_once_however_many_records_they_have(
    session, scope, tmp_path
):
    """Issue 17: the queue held one item per pair of records, so two persons with two and
    one records waited twice. One open item stays (the likeliest), the other is superseded,
    and a later run does not bring the repeat back."""
    rest = ("Phạm Văn Nam", "Ngô Thị Thu", "Số 2 phố Lý Thái Tổ, Phường Hoàn Kiếm, Hà Nội")
    cases = [
        ("A", "a1", "Phạm Quốc Việt", "25/12/1999", "Nam", "001099000111", *rest),
        ("A", "a2", "PHẠM QUỐC VIỆT", "25/12/1999", "Nam", "001099000111", *rest),
        # everything alike but a number of its own: a person must look
        ("B", "b1", "Phạm Quốc Việt", "25/12/1999", "Nam", "001099874523", *rest),
    ]
    load(session, scope, write(tmp_path / "a.csv", cases))
    summary = match(session.connection(), RunOptions())
    groups = partition(session)
    assert frozenset({"a1", "a2"}) in groups and frozenset({"b1"}) in groups
    keys = sa.select(SourceRecord.source_key, SourceRecord.person_id)
    persons = dict(session.execute(keys.where(SourceRecord.source_key.in_(["a1", "b1"]))).all())
    pair = frozenset((persons["a1"], persons["b1"]))
    assert _open_items_per_persons(session)[pair] == 1
    assert summary.reviews_superseded >= 1 and summary.review_items >= 1
    assert summary.as_dict()["review_items_per_1000"] > 0
    match(session.connection(), RunOptions(rebuild=True))
    assert _open_items_per_persons(session)[pair] == 1


def test_twins_are_held_with_a_reason_and_not_at_a_hundred_percent(session, scope, tmp_path):
    """Issue 17: twins (same birth date, parents, address and family name, other given names)
    sat in the queue at "100.0 %" with no reason. Their given names are alike (Hà / Hằng) and
    both are names people have, so they are held, say why, and the household they share
    counts once."""
    rest = ("Lê Văn Sơn", "Đỗ Thị Mai", "Số 1 phố Hàng Bài, Phường Hoàn Kiếm, Hà Nội")
    cases = [
        ("T1", "t1", "Lê Thu Hà", "07/01/2012", "Nữ", "", *rest),
        ("T2", "t2", "Lê Thu Hằng", "07/01/2012", "Nữ", "", *rest),
    ]
    # the two names are common in this registry: other women called Hà and Hằng
    others = [
        (f"H{i}", f"h{i}", f"{family} {middle} {given}", f"{day:02d}/03/19{60 + i}", "Nữ", "",
         "", "", f"Số {i} phố Huế, Phường Hai Bà Trưng, Hà Nội")
        for i, (family, middle, given, day) in enumerate(
            [("Phạm", "Thị", "Hà", 3), ("Vũ", "Ngọc", "Hà", 9), ("Đỗ", "Thị", "Hà", 14),
             ("Ngô", "Thị", "Hằng", 5), ("Bùi", "Kim", "Hằng", 21), ("Hồ", "Thị", "Hằng", 27)]
        )
    ]  # fmt: skip
    load(session, scope, write(tmp_path / "a.csv", cases + others))
    match(session.connection(), RunOptions())
    groups = partition(session)
    assert frozenset({"t1"}) in groups and frozenset({"t2"}) in groups
    item = session.execute(sa.text(
        "SELECT mc.probability, mc.review_reason, mc.review_status FROM match_candidate mc "
        "JOIN source_record l ON l.id = mc.left_record_id "
        "JOIN source_record r ON r.id = mc.right_record_id "
        "WHERE l.source_key IN ('t1', 't2') AND r.source_key IN ('t1', 't2')"
    )).one()  # fmt: skip
    if item.review_status is not None:  # in the queue: never at 100 %, always with a reason
        assert item.probability < 0.9995
        assert item.review_reason in ("given_name_similar", "given_name_differs")
    explained = explain_keys(session.connection(), "t1", "t2")
    assert explained["decision"] != "auto_link"
    assert explained["household_counted_once"] < 0


def test_an_old_card_in_the_pin_column_links_through_the_old_number_not_against_the_pin(
    session, scope, tmp_path
):
    """Issue 17: one "Số CMND/CCCD" column with a 9-digit CMND on one record and the 12-digit
    CCCD on another was compared as two numbers that disagree. The CMND is the record's old
    card now: against a CCCD it is not comparable (name, date and address decide), and it
    links to a record carrying the same old card in its own column."""
    rest = ("Đỗ Văn Hải", "Lê Thị Nga", "Số 12 phố Nguyễn Trãi, Phường Thanh Xuân, Hà Nội")
    cases = [
        ("A", "c1", "Đỗ Minh Khoa", "14/06/1983", "Nam", "001083004321", *rest),
        ("A", "c2", "ĐỖ MINH KHOA", "14/06/1983", "Nam", "013456789", *rest),  # the old card
        # one-sided: the same person's record without any number
        ("A", "c3", "Đỗ Minh Khoa", "14/06/1983", "Nam", "", *rest),
    ]
    path = write(tmp_path / "a.csv", cases)
    load(session, scope, path)
    old = session.execute(sa.select(SourceRecord.personal_id_number, SourceRecord.other_id_number)
                          .where(SourceRecord.source_key == "c2")).one()  # fmt: skip
    assert tuple(old) == (None, "013456789")
    match(session.connection(), RunOptions())
    assert frozenset({"c1", "c2", "c3"}) in partition(session)
    explained = explain_keys(session.connection(), "c1", "c2")
    levels = {f["comparison"]: f["level"] for f in explained["fields"]}
    assert levels["personal_id_number"] is None  # not compared: two documents
