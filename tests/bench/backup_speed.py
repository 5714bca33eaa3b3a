"""Backup and restore speed, and storage per record, on an imported registry.

    scripts/bench backup [--rows 100000] [--dedup]

Generates a DC01 CSV (not timed), imports it with `popdb import` into a fresh database (and
matches it with `popdb dedup run` with --dedup), then times `popdb backup` and `popdb restore`
into a second fresh database, each a subprocess from start to its JSON summary. Prints the
times, the backup's size, every table's `pg_total_relation_size` (table, indexes and TOAST),
the bytes per source record, and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from popdb.core import embedded
from tests.bench.import_speed import machine
from tests.conftest import TEST_HOME, _drop_database, _fresh_database
from tests.support.dc01 import fake_rows, write_csv


def _popdb(env: dict[str, str], *args: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "popdb", *args], env=env, capture_output=True,
                          text=True)  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"popdb {' '.join(args)} failed: {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout.splitlines()[-1])


def sizes(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 2 DESC"
            )).all()  # fmt: skip
            total = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar()
    finally:
        engine.dispose()
    return {**{name: int(size) for name, size in rows}, "(database)": int(total or 0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--dedup", action="store_true", help="match the records before the backup")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="popdb-bench-backup-"))
    path = workdir / "dc01.csv"
    print(f"generating {args.rows:,} DC01 rows in {path} …", file=sys.stderr)
    write_csv(path, fake_rows(args.rows, seed=42))
    server = os.environ.get("POPDB_TEST_DATABASE_URL") or embedded.ensure_running(
        TEST_HOME / "pgdata"
    )
    source = _fresh_database(server, "popdb_bench_backup")
    target = _fresh_database(server, "popdb_bench_restore")
    env = {**os.environ, "DATABASE_URL": source, "POPDB_HOME": str(workdir / "home")}
    try:
        import_s, _ = _popdb(env, "import", str(path), "--commune", "00004", "--no-match",
                             "--report", str(workdir / "errors.csv"))  # fmt: skip
        dedup_s = _popdb(env, "dedup", "run")[0] if args.dedup else None
        stored = sizes(source)
        dump = workdir / "registry.dump"
        backup_s, made = _popdb(env, "backup", str(dump))
        restore_s, restored = _popdb({**env, "DATABASE_URL": target}, "restore", str(dump))
        assert restored["audit_head_hash"] == made["audit_head_hash"]
        per_record = stored["(database)"] / args.rows
        result = {
            "rows": args.rows,
            "dedup": args.dedup,
            "import_s": round(import_s, 1),
            "dedup_s": round(dedup_s, 1) if dedup_s is not None else None,
            "backup_s": round(backup_s, 2),
            "backup_mb": round(dump.stat().st_size / 1e6, 1),
            "restore_s": round(restore_s, 2),
            "backup_rows_per_s": round(args.rows / backup_s),
            "restore_rows_per_s": round(args.rows / restore_s),
            "database_mb": round(stored["(database)"] / 1e6, 1),
            "database_bytes_per_record": round(per_record),
            "source_record_bytes_per_record": round(stored["source_record"] / args.rows),
            "backup_bytes_per_record": round(dump.stat().st_size / args.rows),
            "tables_mb": {k: round(v / 1e6, 2) for k, v in stored.items() if v > 1e5},
            "load_average_before": Path("/proc/loadavg").read_text().split()[:3],
            "machine": machine(),
        }
        print(json.dumps(result, indent=2, ensure_ascii=False))
    finally:
        _drop_database(server, "popdb_bench_backup")
        _drop_database(server, "popdb_bench_restore")


if __name__ == "__main__":
    main()
