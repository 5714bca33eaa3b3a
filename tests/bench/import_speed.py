"""Import speed and memory against raw COPY of the same file, measured side by side.

    scripts/bench import [--rows 1000000] [--keep]

Generates a DC01 CSV (not timed), then on one fresh database: (1) raw `COPY` of the file into
an unindexed all-text table, (2) `popdb import` of the same file in a subprocess (its peak
memory read from the kernel's accounting of children). Prints both rates, their ratio, and the
machine it ran on.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from popdb import embedded, migrate, reference
from tests.conftest import TEST_HOME, _fresh_database
from tests.support.dc01 import HEADERS, fake_rows, write_csv


def machine() -> dict[str, object]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except OSError:
        mem_kb = 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def raw_copy_seconds(engine: sa.Engine, path: Path) -> float:
    columns = ", ".join(f"c{i} text" for i in range(len(HEADERS)))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE bench_raw ({columns})")
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        with raw.cursor() as cursor, path.open("rb") as f:
            cursor.copy_expert("COPY bench_raw FROM STDIN WITH (FORMAT csv, HEADER true)", f)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="popdb-bench-"))
    path = workdir / "dc01.csv"
    print(f"generating {args.rows:,} DC01 rows in {path} …", file=sys.stderr)
    write_csv(path, fake_rows(args.rows, seed=42))

    server = os.environ.get("POPDB_TEST_DATABASE_URL") or embedded.ensure_running(
        TEST_HOME / "pgdata"
    )
    url = _fresh_database(server, "popdb_bench")
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    with sa.orm.Session(engine) as session:
        reference.load_reference_data(session)
        session.commit()
    with engine.connect() as conn:
        pg_version = conn.exec_driver_sql("SHOW server_version").scalar()

    copy_s = raw_copy_seconds(engine, path)
    env = {**os.environ, "DATABASE_URL": url, "POPDB_HOME": str(workdir / "home")}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "popdb", "import", str(path), "--commune", "00004",
         "--report", str(workdir / "errors.csv")],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    import_s = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"import failed: {done.stderr}")
    summary = json.loads(done.stdout)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    engine.dispose()
    result = {
        "rows": args.rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "raw_copy_s": round(copy_s, 2),
        "raw_copy_rows_per_s": round(args.rows / copy_s),
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(args.rows / import_s),
        "ratio_to_raw_copy": round(copy_s / import_s, 3),
        "import_peak_rss_mb": round(peak_mb),
        "accepted": summary["accepted"],
        "rejected": summary["rejected"],
        "warnings": summary["warnings"],
        "postgresql": pg_version,
        "machine": machine(),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if not args.keep:
        path.unlink()


if __name__ == "__main__":
    main()
