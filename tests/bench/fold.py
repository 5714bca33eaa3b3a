"""Planning time over many batch partitions, before and after `popdb db fold`.

    python -m tests.bench.fold [--batches 300] [--rows 20]

On a scratch database of the test server (tests' embedded PostgreSQL): `--batches` matched
batches of one commune, each `--rows` records in a partition of its own, then the same
queries are planned (`EXPLAIN (SUMMARY)`, best of 5 on a warm connection) before and after
folding them into the province's one partition. The reads named are those that do not name
a batch: by PIN, by person, by id.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
import uuid

import sqlalchemy as sa

from popdb.core import embedded, partitions, reference
from popdb.core.db import session_scope
from popdb.ops import migrate
from tests.conftest import TEST_HOME

QUERIES = {
    "by PIN": "SELECT id FROM source_record WHERE personal_id_number = '001090000001'",
    "by person": "SELECT id FROM source_record WHERE person_id = 1",
    "by id": "SELECT id FROM source_record WHERE id = 5",
}


def _plan_ms(conn: sa.Connection, sql: str) -> float:
    best = float("inf")
    for _ in range(5):
        text = "\n".join(conn.execute(sa.text(f"EXPLAIN (SUMMARY) {sql}")).scalars())
        best = min(best, float(re.search(r"Planning Time: ([\d.]+) ms", text).group(1)))
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=300)
    ap.add_argument("--rows", type=int, default=20)
    args = ap.parse_args()
    owner = embedded.ensure_running(TEST_HOME / "pgdata")
    name = f"popdb_fold_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(owner, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {name}"))
    engine = sa.create_engine(sa.make_url(owner).set(database=name))
    try:
        migrate.upgrade(engine)
        with session_scope(engine) as session:
            reference.load_reference_data(session)
        with engine.begin() as conn:
            for i in range(args.batches):
                batch = conn.scalar(sa.text(
                    "INSERT INTO import_batch (commune_code, file_name, sha256, size_bytes, "
                    "status, collected_on) VALUES ('00004', :f, :s, 0, 'matched', "
                    "'2025-01-01') "
                    "RETURNING id"), {"f": f"{i}.csv", "s": f"{i:064d}"})  # fmt: skip
                partitions.ensure_batch(conn, batch)
                conn.execute(sa.text(
                    "INSERT INTO source_record (batch_id, row_number, raw, matched, "
                    "personal_id_number) SELECT :b, g, '[]', true, "
                    "lpad((:b * 1000 + g)::text, 12, '0') FROM generate_series(1, :n) g"),
                    {"b": batch, "n": args.rows})  # fmt: skip
        province = None
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
            province = conn.scalar(sa.text("SELECT province_code FROM admin_unit WHERE code = "
                                           "'00004' AND level = 'commune' LIMIT 1"))  # fmt: skip
            before = {k: _plan_ms(conn, q) for k, q in QUERIES.items()}
        started, rounds, before_count = time.perf_counter(), 0, None
        while True:  # as `popdb db fold` does: a transaction per FOLD_BATCHES batches
            with engine.begin() as conn:
                folded = partitions.fold_province(conn, province)
            before_count = before_count or folded.partitions_before
            if not folded.batches:
                break
            rounds += 1
        seconds = time.perf_counter() - started
        with engine.connect() as conn:
            after = {k: _plan_ms(conn, q) for k, q in QUERIES.items()}
        print(json.dumps({
            "machine": f"{platform.node()} {platform.processor() or platform.machine()}",
            "batches": args.batches, "rows_per_batch": args.rows,
            "partitions_before": before_count, "transactions": rounds,
            "partitions_after": folded.partitions_after, "fold_seconds": round(seconds, 2),
            "planning_ms_before": before, "planning_ms_after": after,
        }, indent=2))  # fmt: skip
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


if __name__ == "__main__":
    main()
