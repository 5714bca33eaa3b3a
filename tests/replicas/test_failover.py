"""The failover drill: writes under way, the primary killed with `pg_ctl stop -m immediate`,
the synchronous replica promoted: every audit row and source record whose commit returned
is on the new primary, and the audit chain still verifies there."""

from __future__ import annotations

import datetime as dt
import threading

import sqlalchemy as sa

from popdb.core import audit, db, embedded, partitions
from popdb.core.models import ImportBatch, SourceRecord
from popdb.ops import replicas as ops
from tests.replicas.support import cluster
from tests.support.processes import wait_for


def _write_one(engine: sa.Engine, i: int) -> tuple[int, int]:
    """One transaction: an import batch with a source record, and its audit row."""
    with db.session_scope(engine) as session:
        batch = ImportBatch(commune_code="00001", file_name=f"drill-{i}.csv", sha256=f"{i:064d}",
                            size_bytes=1, collected_on=dt.date(2026, 1, 1))  # fmt: skip
        session.add(batch)
        session.flush()
        partitions.ensure_batch(session.connection(), batch.id)  # records outside an import
        record = SourceRecord(batch_id=batch.id, row_number=1, raw=[f"row {i}"])
        session.add(record)
        session.flush()
        appended = audit.record(session, actor=audit.Actor.operator("drill"),
                                action="drill.write", subject_type="source_record",
                                subject_id=record.id)  # fmt: skip
        return appended.id, record.id


def test_promoting_the_synchronous_replica_loses_no_committed_row() -> None:
    with cluster("r1", synchronous=True) as c:
        committed: list[tuple[int, int]] = []
        failures: list[BaseException] = []

        def writer() -> None:
            engine = sa.create_engine(c.primary.url)
            try:
                for i in range(100_000):
                    committed.append(_write_one(engine, i))  # only once the commit returned
            except Exception as exc:  # the primary died under us: expected  # noqa: BLE001
                failures.append(exc)
            finally:
                engine.dispose()

        thread = threading.Thread(target=writer)
        thread.start()
        wait_for(lambda: len(committed) >= 40, "writes to commit", timeout=120, interval=0.05)
        assert embedded.stop(c.settings.pgdata, mode="immediate")  # the power cut
        thread.join(timeout=60)
        assert not thread.is_alive() and failures, "the writer should have lost its primary"

        ops.promote(c.settings, "r1")
        new_primary = sa.create_engine(ops.status_of(c.settings, "r1")["url"])
        try:
            with new_primary.connect() as conn:
                audit_ids = set(conn.scalars(sa.text(
                    "SELECT id FROM audit_event WHERE action = 'drill.write'")))  # fmt: skip
                record_ids = set(conn.scalars(sa.text("SELECT id FROM source_record")))
                assert {a for a, _ in committed} <= audit_ids
                assert {r for _, r in committed} <= record_ids
                assert audit.verify(conn).ok
            # The promoted server takes writes, and waits for no standby (it was told so).
            _write_one(new_primary, -1)
        finally:
            new_primary.dispose()
            embedded.stop(ops.pgdata_of(c.settings, "r1"))
