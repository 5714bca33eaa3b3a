"""A small registry for adjudication tests: look-alike pairs the matcher sends to review.

Two kinds: namesakes without personal ID numbers or a birth place (their persons stay
without a number, so a merge needs one admin), and one person recorded under two valid
numbers (a merge needs two). Background records give the model something to train on.
"""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from dedup.run import RunOptions
from importers.batches import BatchRequest, register
from importers.pipeline import run_batch
from popdb.registry.matching import match
from tests.support.dc01 import HEADERS, dc01_row, fake_rows

#: (source key, name, dob, sex, PIN, father, mother, address, birth place)
CASES = [
    # one girl with two valid numbers one slip apart and her given name typed Ahn once: the
    # score would link them, but with the name only similar the numbers are not plainly a
    # typo, but clusters holding different numbers never
    # join automatically: the pair waits for review, and a merge needs two admins
    ("t1", "Trần Minh Anh", "03/09/2015", "Nữ", "001315000222", "Trần Văn Tú", "Phạm Thị Hoa",
     "Số 9 ngõ 3 phố Kim Mã, Phường Ba Đình, Hà Nội", "Hà Nội"),
    ("t2", "Trần Minh Ahn", "03/09/2015", "Nữ", "001315000522", "Trần Văn Tú", "Phạm Thị Hoa",
     "Số 9 ngõ 3 phố Kim Mã, Phường Ba Đình, Hà Nội", "Hà Nội"),
]  # fmt: skip
NAMESAKES = [
    ("Lê Thị Hoa", "01/02/1970", "17/11/1970", "Nữ"),
    ("Đỗ Văn Khánh", "05/06/1962", "21/09/1962", "Nam"),
    ("Vũ Thị Mai", "12/12/1985", "02/03/1985", "Nữ"),
    ("Bùi Quang Sơn", "30/04/1975", "14/08/1975", "Nam"),
]
for n, (name, dob_a, dob_b, sex) in enumerate(NAMESAKES, start=1):
    CASES += [
        (f"n{n}a", name, dob_a, sex, "", "", "", f"Số {n} phố Hàng Bài, Hoàn Kiếm", ""),
        (f"n{n}b", name, dob_b, sex, "", "", "", f"Số {80 + n} đường Láng, Đống Đa", ""),
    ]
BACKGROUND = 300


def write(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for key, name, dob, sex, pin, father, mother, address, place in CASES:
            writer.writerow(dc01_row(
                source_key=key, full_name=name, dob=dob, sex=sex, personal_id_number=pin,
                father_name=father, mother_name=mother, permanent_address=address,
                birth_registration_place=place))  # fmt: skip
        writer.writerows(fake_rows(BACKGROUND, seed=7))
    return path


def build_in(session: Session, scope, tmp_path: Path) -> dict[str, int]:
    """Import and match the cases in the test's transaction; source key → record id."""
    path = write(tmp_path / "cases.csv")
    batch, _ = register(session, BatchRequest(path=path, commune_code="00004"))
    run_batch(scope, batch.id, path)
    match(session.connection(), RunOptions())
    return record_ids(session)


def build_committed(engine: sa.Engine, tmp_path: Path) -> dict[str, int]:
    """The same, committed (for tests with several connections or a real server)."""
    from popdb.core import db

    path = write(tmp_path / "cases.csv")
    with db.session_scope(engine) as session:
        batch, _ = register(session, BatchRequest(path=path, commune_code="00004"))
        batch_id = batch.id
    run_batch(lambda: db.session_scope(engine), batch_id, path)
    with db.session_scope(engine) as session:
        match(session.connection(), RunOptions())
        return record_ids(session)


def record_ids(session: Session) -> dict[str, int]:
    rows = session.execute(
        sa.text("SELECT source_key, id FROM source_record WHERE source_key ~ '^[tn][0-9]'")
    ).all()
    return {k: i for k, i in rows}


def person_of(session: Session, record_id: int) -> int:
    return session.scalar(
        sa.text("SELECT person_id FROM source_record WHERE id = :r"), {"r": record_id}
    )


def item_between(session: Session, a: int, b: int) -> int:
    return session.scalar(
        sa.text(
            "SELECT id FROM match_candidate WHERE left_record_id = :l AND right_record_id = :r"
        ),
        {"l": min(a, b), "r": max(a, b)},
    )
