"""The write phase of matching leaves the planner statistics that know the records'
persons: with source_record's statistics from before matching (person_id all NULL),
refresh_golden's per-person joins were planned as nested loops (76 s for 20,000 records of
the foreign layout, docs/benchmarks.md session 9)."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from dedup.run import RunOptions
from importers.batches import BatchRequest, register
from importers.pipeline import run_batch
from popdb.registry.matching import match
from tests.conftest import as_service
from tests.support.dc01 import fake_rows, write_csv


def test_matching_leaves_statistics_of_the_records_persons(session, scope, tmp_path):
    path = tmp_path / "batch.csv"
    write_csv(path, fake_rows(60, seed=5))
    batch, _ = register(session, BatchRequest(path=path, commune_code="00004",
                                              collected_on=dt.date(2026, 1, 5)))  # fmt: skip
    run_batch(scope, batch.id, path)
    session.execute(sa.text("ANALYZE source_record"))  # as after a load: no person yet
    match(session.connection(), RunOptions())
    null_frac = session.scalars(sa.text(
        "SELECT null_frac FROM pg_stats WHERE tablename LIKE 'source_record%' "
        "AND attname = 'person_id'"
    )).all()  # fmt: skip
    assert null_frac and min(null_frac) < 0.5


def test_the_import_workers_matching_as_the_service_role_refreshes_them_too(
    session, scope, tmp_path
):
    """The worker matches as `popdb_service`, which owns no table: PostgreSQL 17+'s MAINTAIN
    (the grant step, and the owner's default privileges for new batch partitions) lets its
    ANALYZE run instead of being skipped with a warning."""
    if int(session.scalar(sa.text("SHOW server_version_num"))) < 170000:
        pytest.skip("MAINTAIN is PostgreSQL 17's")
    conn = session.connection()
    as_service(conn)
    path = write_csv(tmp_path / "batch.csv", fake_rows(60, seed=5))
    batch, _ = register(session, BatchRequest(path=path, commune_code="00004",
                                              collected_on=dt.date(2026, 1, 5)))  # fmt: skip
    run_batch(scope, batch.id, path)
    notices = conn.connection.dbapi_connection.notices
    notices.clear()
    match(conn, RunOptions())
    assert not [n for n in notices if "skipping" in n], notices
    null_frac = session.scalars(sa.text(
        "SELECT null_frac FROM pg_stats WHERE tablename LIKE 'source_record%' "
        "AND attname = 'person_id'"
    )).all()  # fmt: skip
    assert null_frac and min(null_frac) < 0.5
