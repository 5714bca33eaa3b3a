"""Match preview: held batches wait at `loaded`, the preview is a dry run that leaves nothing
behind and classifies the records as the release then does, every read and write audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dedup.run import RunOptions
from importers.batches import BatchRequest, ignored_on_duplicate, register
from importers.pipeline import run_batch
from popdb.core import audit
from popdb.core.errors import Conflict, InvalidInput
from popdb.registry import preview
from popdb.registry.matching import match, match_loaded
from tests.support.dc01 import HEADERS, dc01_row, fake_rows, write_csv
from tests.support.registry import build_in

ADMIN = audit.Actor(201, "carol", "admin")
SOURCE_KEY = HEADERS.index("Số phiếu")
PIN = HEADERS.index("Số định danh cá nhân")


def second_batch_rows() -> list[list[str]]:
    """Twenty people the registry has (links), fifteen it has not (new persons), and four
    namesakes of its look-alike pairs born the same year on another day (review)."""
    known = [row for _, row in zip(range(20), fake_rows(300, seed=7), strict=False)]
    for row in known:
        row[SOURCE_KEY] = "again-" + row[SOURCE_KEY]
    strangers = list(fake_rows(15, seed=99))
    for row in strangers:
        row[SOURCE_KEY] = "new-" + row[SOURCE_KEY]
        row[PIN] = ""
    namesakes = [
        dc01_row(source_key=f"ns{n}", full_name=name, dob=f"09/05/{dob[-4:]}", sex=sex,
                 permanent_address=f"Số {40 + n} phố Huế, Hai Bà Trưng")
        for n, (name, dob, sex) in enumerate(
            [("Lê Thị Hoa", "1970", "Nữ"), ("Đỗ Văn Khánh", "1962", "Nam"),
             ("Vũ Thị Mai", "1985", "Nữ"), ("Bùi Quang Sơn", "1975", "Nam")], start=1)
    ]  # fmt: skip
    return known + strangers + namesakes


def load(session, scope, path, *, preview_flag: bool = False, commune: str = "00004") -> int:
    batch, _ = register(session, BatchRequest(path=path, commune_code=commune,
                                              preview=preview_flag))  # fmt: skip
    run_batch(scope, batch.id, path)
    return batch.id


@pytest.fixture
def held(session, scope, tmp_path) -> int:
    """The adjudication registry, matched, then a second batch held for a preview."""
    build_in(session, scope, tmp_path)
    path = write_csv(tmp_path / "second.csv", second_batch_rows())
    batch_id = load(session, scope, path, preview_flag=True)
    assert match_loaded(session.connection(), batch_id) is None
    return batch_id


def _figures(session) -> tuple:
    return session.execute(sa.text(
        "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM match_candidate), "
        "(SELECT count(*) FROM person_event), (SELECT count(*) FROM source_record WHERE matched)"
    )).one()  # fmt: skip


def _batch(session, batch_id: int):
    return session.execute(
        sa.text("SELECT status, match_hold, match_released_by, match_release_reason "
                "FROM import_batch WHERE id = :b"), {"b": batch_id},
    ).one()  # fmt: skip


def test_a_held_batch_stays_loaded_and_no_matching_run_takes_its_records(session, held):
    match(session.connection(), RunOptions())  # another batch's run, or `popdb dedup run`
    match(session.connection(), RunOptions(rebuild=True))
    status, hold, *_ = _batch(session, held)
    assert (status, hold) == ("loaded", True)
    taken = session.scalar(sa.text(
        "SELECT count(*) FROM source_record WHERE batch_id = :b "
        "AND (matched OR person_id IS NOT NULL)"), {"b": held})  # fmt: skip
    assert taken == 0


def test_a_batch_not_held_is_matched_after_loading(session, scope, tmp_path):
    build_in(session, scope, tmp_path)
    path = write_csv(tmp_path / "second.csv", second_batch_rows())
    batch_id = load(session, scope, path)
    assert match_loaded(session.connection(), batch_id) is not None
    assert _batch(session, batch_id)[:2] == ("matched", False)
    request = BatchRequest(path=path, commune_code="00004", preview=True)
    batch, duplicate = register(session, request)
    assert duplicate and "a hold for a match preview" in ignored_on_duplicate(batch, request)[0]
    with pytest.raises(Conflict):
        preview.preview(session, batch_id, actor=ADMIN)


def test_the_commune_setting_holds_its_new_uploads_and_not_other_communes(
    session, scope, tmp_path
):
    preview.set_commune_preview(session, "00004", True, actor=ADMIN, reason="new clerk")
    rows = list(fake_rows(5, seed=3))
    a = load(session, scope, write_csv(tmp_path / "a.csv", rows))
    b = load(session, scope, write_csv(tmp_path / "b.csv", rows), commune="26740")
    assert _batch(session, a)[1] is True
    assert _batch(session, b)[1] is False
    off = preview.set_commune_preview(session, "00004", False, actor=ADMIN, reason="trained")
    assert off["match_preview"] is False and off["set_by"] == "admin:carol (#201)"
    c = load(session, scope, write_csv(tmp_path / "c.csv", rows[:3]))
    assert _batch(session, c)[1] is False
    changes = session.execute(sa.text(
        "SELECT detail FROM audit_event WHERE action = 'commune_setting.match_preview' "
        "AND subject_id = '00004' ORDER BY id")).scalars().all()  # fmt: skip
    assert [(d["new"], d["reason"]) for d in changes] == [(True, "new clerk"), (False, "trained")]
    with pytest.raises(InvalidInput):
        preview.set_commune_preview(session, "00004", True, actor=ADMIN, reason=" ")


def test_the_preview_leaves_nothing_behind_and_the_release_gives_what_it_showed(session, held):
    before = _figures(session)
    shown = preview.preview(session, held, actor=ADMIN, examples=3)
    assert _figures(session) == before  # the dry run was rolled back
    assert _batch(session, held)[:2] == ("loaded", True)
    assert shown.records == 39
    assert all(shown.counts[c] > 0 for c in preview.CLASSES), shown.counts
    assert shown.review_items > 0 and shown.new_persons > 0
    assert {len(v) for v in shown.examples.values()} <= {1, 2, 3}
    link = shown.examples["link"][0]
    assert link["person_id"] is not None and link["probability"] > 0.9 and link["reasons"]
    review = shown.examples["review"][0]
    assert review["candidate_record_id"] is not None and review["review_status"] == "pending"

    last_event = session.scalar(sa.text("SELECT max(id) FROM person_event"))
    released = preview.release(session, held, actor=ADMIN, reason="looked right")
    assert released.counts == shown.counts
    assert (released.new_persons, released.review_items) == (shown.new_persons,
                                                             shown.review_items)  # fmt: skip
    status, hold, by, why = _batch(session, held)
    assert (status, hold, by, why) == ("matched", False, "admin:carol (#201)", "looked right")
    # what the registry now holds, counted apart from the classifier
    assert _figures(session)[0] == before[0] + shown.new_persons
    waiting = session.scalar(sa.text(
        "SELECT count(*) FROM match_candidate mc WHERE mc.review_status = 'pending' AND "
        "EXISTS (SELECT 1 FROM source_record sr WHERE sr.batch_id = :b "
        "AND sr.id IN (mc.left_record_id, mc.right_record_id))"), {"b": held})  # fmt: skip
    assert waiting == shown.review_items
    actors = set(session.scalars(sa.text(
        "SELECT DISTINCT actor FROM person_event WHERE id > :e AND kind IN ('created', 'linked')"
    ), {"e": last_event}))  # fmt: skip
    assert actors == {"admin:carol (#201)"}


def test_preview_and_release_are_audited_with_actor_reason_and_the_records_shown(session, held):
    shown = preview.preview(session, held, actor=ADMIN, examples=2)
    preview.release(session, held, actor=ADMIN, reason="checked the examples")
    rows = session.execute(sa.text(
        "SELECT action, actor_name, detail FROM audit_event WHERE subject_type = 'import_batch' "
        "AND subject_id = :b ORDER BY id"), {"b": str(held)}).all()  # fmt: skip
    assert [(r.action, r.actor_name) for r in rows] == [("batch.preview", "carol"),
                                                       ("batch.release", "carol")]  # fmt: skip
    ids = sorted(e["record_id"] for v in shown.examples.values() for e in v)
    assert sorted(rows[0].detail["example_record_ids"]) == ids
    assert rows[1].detail["reason"] == "checked the examples"


def test_counts_only_show_no_examples_and_a_release_needs_a_reason(session, held):
    counts = preview.preview(session, held, actor=ADMIN, examples=0)
    assert counts.examples is None and "examples" not in counts.as_dict()
    with pytest.raises(InvalidInput):
        preview.release(session, held, actor=ADMIN, reason="")
    with pytest.raises(InvalidInput):
        preview.preview(session, held, actor=ADMIN, examples=500)
    preview.release(session, held, actor=ADMIN, reason="ok")
    with pytest.raises(Conflict):
        preview.release(session, held, actor=ADMIN, reason="again")


def test_held_batches_lists_the_waiting_ones(session, held):
    [waiting] = preview.held_batches(session)
    assert waiting["batch_id"] == held and waiting["status"] == "loaded"
    assert preview.held_batches(session, commune_code="26740") == []



def test_the_command_line_holds_previews_and_releases(scratch_database_url, tmp_path) -> None:
    import json

    from tests.popdb.test_cli import _env, popdb

    env = _env(DATABASE_URL=scratch_database_url, POPDB_HOME=str(tmp_path / "home"))
    first = write_csv(tmp_path / "first.csv", list(fake_rows(30, seed=5)))
    done = json.loads(popdb("import", str(first), "--commune", "00004", "--preview",
                            env=env).stdout)  # fmt: skip
    assert (done["status"], done["held_for_preview"], done["match"]) == ("loaded", True, None)
    assert json.loads(popdb("dedup", "run", env=env).stdout)["new_records"] == 0
    [held] = json.loads(popdb("batches", "held", env=env).stdout)["items"]
    assert held["batch_id"] == done["batch_id"]
    shown = json.loads(popdb("batches", "preview", str(done["batch_id"]), "--examples", "1",
                             "--as", "duty-officer", env=env).stdout)  # fmt: skip
    assert shown["counts"]["new"] == 30 and len(shown["examples"]["new"]) == 1
    released = popdb("batches", "release", str(done["batch_id"]), "--reason", "checked",
                     env=env)  # fmt: skip
    assert released.returncode == 0, released.stderr
    assert json.loads(released.stdout)["counts"] == shown["counts"]
    again = popdb("batches", "release", str(done["batch_id"]), "--reason", "twice", env=env)
    assert again.returncode == 2 and "not held" in again.stderr

    hold = popdb("batches", "hold", "00004", "--reason", "new clerk", env=env)
    assert json.loads(hold.stdout)["match_preview"] is True
    third = write_csv(tmp_path / "third.csv", list(fake_rows(2, seed=8)))
    out = json.loads(popdb("import", str(third), "--commune", "00004", env=env).stdout)
    assert out["held_for_preview"] is True and out["status"] == "loaded"
    popdb("batches", "hold", "00004", "--off", "--reason", "trained", env=env)

    held_env = {**env, "POPDB_MATCH_PREVIEW": "1"}
    second = write_csv(tmp_path / "second.csv", list(fake_rows(3, seed=6)))
    out = json.loads(popdb("import", str(second), "--commune", "00004", env=held_env).stdout)
    assert out["held_for_preview"] is True and out["status"] == "loaded"
