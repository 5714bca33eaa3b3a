"""Households from uploads: grouping by household number or address, dated memberships,
moves as events, memberships that follow merges and unmerges, the admin's end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from dedup.run import RunOptions
from importers.batches import BatchRequest, register
from importers.pipeline import run_batch
from popdb.core import audit, households
from popdb.core.errors import InvalidInput, NotFound
from popdb.registry import households as writes
from popdb.registry import merges
from popdb.registry.matching import match
from popdb.registry.reads import read_person
from tests.support.dc01 import HEADERS, dc01_row, fake_rows, write_csv

ADMIN = audit.Actor(101, "alice", "admin")
NUMBER = "Số hộ"
KIM_MA = "Số 12 ngõ 5 phố Kim Mã, Phường Ba Đình, Hà Nội"
FIRST, SECOND = dt.date(2025, 8, 1), dt.date(2026, 3, 1)

#: key -> (name, dob, sex, number)
PEOPLE = {
    "an": ("NGUYỄN VĂN AN", "01/02/1970", "Nam", "001070000101"),
    "binh": ("TRẦN THỊ BÌNH", "03/04/1972", "Nữ", "001172000102"),
    "cuong": ("NGUYỄN VĂN CƯỜNG", "05/06/2000", "Nam", "001200000103"),
    "dung": ("LÊ VĂN DŨNG", "07/08/1965", "Nam", "001065000104"),
    "hoa": ("LÊ THỊ HOA", "09/10/1995", "Nữ", "001195000105"),
}


def row(key: str, relation: str, *, number: str = "", address: str = "Số 3 phố Huế, Hà Nội"):
    name, dob, sex, pin = PEOPLE[key]
    return dc01_row(source_key=f"hh-{key}", full_name=name, dob=dob, sex=sex,
                    personal_id_number=pin, permanent_address=address,
                    permanent_commune_code="00004", birth_registration_place="Hà Nội",
                    household_head_relation=relation) + [number]  # fmt: skip


def upload(session, scope, path: Path, rows, collected_on: dt.date, background: int = 0) -> int:
    rows = list(rows) + [r + [""] for r in fake_rows(background, seed=11)]
    write_csv(path, rows, headers=[*HEADERS, NUMBER])
    batch, _ = register(session, BatchRequest(path=path, commune_code="00004",
                                              collected_on=collected_on))  # fmt: skip
    run_batch(scope, batch.id, path)
    match(session.connection(), RunOptions())
    return batch.id


def person(session, key: str) -> int:
    return session.scalar(sa.text(
        "SELECT DISTINCT person_id FROM source_record WHERE source_key = :k"), {"k": f"hh-{key}"})


def memberships(session, person_id: int) -> list:
    return session.execute(sa.text(
        "SELECT m.household_id, h.household_key, m.relation, m.valid_from, m.valid_to, "
        "m.end_reason FROM household_membership m JOIN household h ON h.id = m.household_id "
        "WHERE m.person_id = :p ORDER BY m.valid_from, m.id"), {"p": person_id}).all()  # fmt: skip


def events(session, person_id: int) -> list:
    return session.execute(sa.text(
        "SELECT actor, reason, data FROM person_event WHERE person_id = :p "
        "AND kind = 'household' ORDER BY id"), {"p": person_id}).all()  # fmt: skip


FIRST_ROWS = [
    row("an", "Chủ hộ", number="HK-001"),
    row("binh", "Vợ", number="HK-001"),
    row("cuong", "Con", number="HK-001"),
    # no household number: grouped by the normalised address (typed two ways)
    row("dung", "Chủ hộ", address=KIM_MA),
    row("hoa", "Con gái", address="Số 12 ngõ 5 phố Kim Mã, P. Ba Đình, Hà Nội"),
]


@pytest.fixture
def first(session, scope, tmp_path) -> int:
    return upload(session, scope, tmp_path / "first.csv", FIRST_ROWS, FIRST, background=200)


def test_rows_with_one_household_number_are_one_household_with_its_head(session, first):
    an, binh, cuong = (person(session, k) for k in ("an", "binh", "cuong"))
    assert len({an, binh, cuong}) == 3
    house = households.current_household(session, cuong)
    assert house["household_number"] == "HK-001" and house["commune_code"] == "00004"
    assert house["relation"] == "child" and house["relation_label"] == "Con"
    assert house["head"] == {"person_id": an, "full_name": "NGUYỄN VĂN AN"}
    assert [(m["person_id"], m["relation_label"]) for m in house["members"]] == [
        (an, "Chủ hộ"), (binh, "Vợ"), (cuong, "Con")]
    [(_, key, relation, since, until, _)] = memberships(session, binh)
    assert (key, relation, since, until) == ("no:HK-001", "wife", FIRST, None)
    [event] = events(session, binh)
    assert event.reason == "joined" and event.data["batch_id"] == first
    assert event.data["household_id"] == house["household_id"]


def test_rows_without_a_number_are_grouped_by_their_normalised_address(session, first):
    dung, hoa = person(session, "dung"), person(session, "hoa")
    house = households.current_household(session, hoa)
    assert house["household_number"] is None and house["address"] == KIM_MA
    assert [m["person_id"] for m in house["members"]] == [dung, hoa]
    assert house["head"]["person_id"] == dung
    assert house["household_id"] != households.current_household(
        session, person(session, "an"))["household_id"]
    ledger = session.execute(sa.text(
        "SELECT households, memberships FROM household_batch WHERE batch_id = :b"),
        {"b": first}).one()  # fmt: skip
    assert ledger.memberships >= 5 and ledger.households >= 2


def test_a_move_ends_the_old_membership_and_starts_the_new_as_events(
    session, scope, tmp_path, first
):
    an, binh, cuong = (person(session, k) for k in ("an", "binh", "cuong"))
    old = households.current_household(session, cuong)["household_id"]
    second = upload(session, scope, tmp_path / "second.csv", [
        row("an", "Chủ hộ", number="HK-001"),  # unchanged: nothing written
        row("cuong", "Chủ hộ", number="HK-002"),  # moved out, head of his own household
        row("binh", "Chủ hộ", number="HK-001"),  # same household, another relation
    ], SECOND)  # fmt: skip
    assert person(session, "cuong") == cuong  # the second upload matched the same persons
    past, now = memberships(session, cuong)
    assert (past.household_id, past.valid_to, past.end_reason) == (old, SECOND, "moved")
    assert (now.household_key, now.relation, now.valid_from, now.valid_to) == (
        "no:HK-002", "head", SECOND, None)
    joined, moved = events(session, cuong)
    assert moved.reason == "moved" and moved.actor == RunOptions().actor
    assert moved.data["from_household_id"] == old and moved.data["batch_id"] == second
    assert len(memberships(session, an)) == 1 and len(events(session, an)) == 1
    assert [m.end_reason for m in memberships(session, binh)] == ["relation changed", None]
    # the old household without him; his past membership on the person page
    members = households.current_household(session, an)["members"]
    assert [m["person_id"] for m in members] == [an, binh]
    [gone] = households.past_memberships(session, cuong)
    assert gone["household_number"] == "HK-001" and gone["valid_to"] == SECOND.isoformat()


def test_an_upload_collected_before_the_current_membership_is_kept_as_a_past_one(
    session, scope, tmp_path, first
):
    cuong = person(session, "cuong")
    upload(session, scope, tmp_path / "older.csv", [row("cuong", "Con", number="HK-009")],
           dt.date(2025, 7, 15))  # fmt: skip
    older, current = memberships(session, cuong)
    assert (older.household_key, older.valid_to, current.household_key, current.valid_to) == (
        "no:HK-009", FIRST, "no:HK-001", None)


def test_merge_keeps_one_current_household_and_unmerge_gives_each_theirs_back(session, first):
    binh, dung = person(session, "binh"), person(session, "dung")
    house_b = households.current_household(session, binh)["household_id"]
    house_d = households.current_household(session, dung)["household_id"]
    result = merges.merge_persons(session, binh, dung, actor=ADMIN, reason="one person")
    survivor, retired = result.survivor_id, result.retired_id
    assert memberships(session, retired) == []  # followed their records
    rows = memberships(session, survivor)
    assert sorted(r.household_id for r in rows) == sorted([house_b, house_d])
    assert [r.end_reason for r in rows if r.valid_to is not None] == ["merged"]
    assert sum(r.valid_to is None for r in rows) == 1
    assert events(session, survivor)[-1].reason == "merged"
    moved = session.scalars(sa.text("SELECT id FROM source_record WHERE source_key = :k"),
                            {"k": "hh-dung" if retired == dung else "hh-binh"}).all()
    merges.unmerge(session, survivor, moved, actor=ADMIN, reason="two people after all")
    back = {person(session, "binh"): house_b, person(session, "dung"): house_d}
    for p, house in back.items():
        assert households.current_household(session, p)["household_id"] == house
        assert [r.valid_to for r in memberships(session, p)] == [None]


def test_an_admin_ends_a_membership_with_a_reason_as_an_event_and_an_audit_entry(
    session, first
):
    hoa = person(session, "hoa")
    with pytest.raises(InvalidInput):
        writes.end_membership(session, hoa, actor=ADMIN, reason=" ")
    with pytest.raises(InvalidInput):
        writes.end_membership(session, hoa, actor=ADMIN, reason="x", valid_to=dt.date(2020, 1, 1))
    out = writes.end_membership(session, hoa, actor=ADMIN, reason="moved abroad",
                                valid_to=dt.date(2026, 1, 2))  # fmt: skip
    assert out["valid_to"] == "2026-01-02"
    assert households.current_household(session, hoa) is None
    assert memberships(session, hoa)[0].end_reason == "moved abroad"
    assert events(session, hoa)[-1].actor == "admin:alice (#101)"
    assert session.scalar(sa.text(
        "SELECT count(*) FROM audit_event WHERE action = 'person.household.end' "
        "AND subject_id = :p"), {"p": str(hoa)}) == 1  # fmt: skip
    with pytest.raises(NotFound):
        writes.end_membership(session, hoa, actor=ADMIN, reason="again")


def test_the_person_read_shows_the_household_and_audits_the_members_read(session, first):
    an, binh = person(session, "an"), person(session, "binh")
    out = read_person(session, binh, actor=ADMIN)
    assert out["household"]["current"]["head"]["person_id"] == an
    assert out["household"]["past"] == []
    subjects = session.scalars(sa.text(
        "SELECT subject_id FROM audit_event WHERE action = 'person.household_member.read' "
        "AND detail ->> 'via_person_id' = :p ORDER BY subject_id"), {"p": str(binh)}).all()
    assert sorted(subjects) == sorted(str(p) for p in (an, person(session, "cuong")))


def test_as_of_a_moment_the_membership_then_is_read(session, scope, tmp_path, first):
    cuong = person(session, "cuong")
    session.execute(sa.text("UPDATE household_membership SET created_at = now() - interval "
                            "'10 days' WHERE person_id = :p"), {"p": cuong})  # fmt: skip
    upload(session, scope, tmp_path / "second.csv", [row("cuong", "Chủ hộ", number="HK-002")],
           SECOND)  # fmt: skip
    session.execute(sa.text("UPDATE household_membership SET ended_at = now() - interval "
                            "'2 days' WHERE person_id = :p AND valid_to IS NOT NULL"),
                    {"p": cuong})  # fmt: skip
    week_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
    assert households.current_household(session, cuong, week_ago)["household_number"] == "HK-001"
    assert households.current_household(session, cuong)["household_number"] == "HK-002"


def test_the_number_column_is_the_profiles_or_a_recognised_header():
    header = ["STT", "Họ và tên", "Mã hộ", "Ma ho gia dinh"]
    assert writes.number_column(header, None) == 2
    assert writes.number_column(["STT", "SO HO", "x"], None) == 1
    assert writes.number_column(header, {"household_id": "Ma ho gia dinh", "fields": {}}) == 3
    assert writes.number_column(header, {"household_id": "missing"}) is None
    assert writes.number_column(["STT", "Họ và tên"], None) is None


def test_a_profile_may_name_the_household_number_column():
    from importers.mapping import MappingError, parse_profile

    parse_profile({"fields": {"full_name": "name"}, "household_id": "Ma ho"})
    with pytest.raises(MappingError):
        parse_profile({"fields": {"full_name": "name"}, "household_id": 3})


def test_re_clustering_moves_memberships_with_their_records(session, first):
    from popdb.registry.clusters import apply_clusters

    binh, dung = person(session, "binh"), person(session, "dung")
    records = dict(session.execute(sa.text(
        "SELECT source_key, id FROM source_record WHERE source_key IN ('hh-binh', 'hh-dung')")
    ).all())  # fmt: skip
    # one cluster of both records: the lower person id keeps it, the other is retired
    apply_clusters(session.connection(), [(records["hh-binh"], 1), (records["hh-dung"], 1)],
                   actor="rebuild")  # fmt: skip
    kept = person(session, "binh")
    assert person(session, "dung") == kept and kept in (binh, dung)
    gone = dung if kept == binh else binh
    assert memberships(session, gone) == []
    rows = memberships(session, kept)
    assert len(rows) == 2 and sum(r.valid_to is None for r in rows) == 1
    assert [r.end_reason for r in rows if r.valid_to] == ["merged"]
    assert events(session, kept)[-1].actor == "rebuild"
