"""Import speed and memory against raw COPY of the same file, measured side by side.

    scripts/bench import [--rows 1000000] [--keep | --csv FILE]

Generates a DC01 CSV (not timed), then on one fresh database: (1) raw `COPY` of the file into
an unindexed all-text table, (2) `popdb import` of the same file in a subprocess, with its
worker processes (`--workers N` sets POPDB_IMPORT_WORKERS; default one per core). Prints both
rates, their ratio, the import's CPU time (its processes together) and the database server's
during the import (their sum over the cores is the least wall time the work can take here,
which bounds the ratio however well the processes overlap), its peak memory (the
largest process, from the kernel's accounting of children, and the whole process tree,
sampled: RSS summed, which counts pages the forked workers share with their parent more than
once, and PSS, which shares them out), the load of the machine before the run, and the machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from popdb.core import embedded, reference
from popdb.ops import migrate
from tests.bench import commune_file, ward_file
from tests.bench.cpu import tree, tree_cpu_seconds
from tests.conftest import TEST_HOME, _fresh_database
from tests.support.dc01 import fake_rows, write_csv


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


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in kB; zeros once it is gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    values = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()[1:]}
    return values.get("Rss", 0), values.get("Pss", 0)


class TreeMemory(threading.Thread):
    """Samples the memory of a process tree until stopped; keeps the peaks (MB)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.rss_mb, self.pss_mb, self.processes = pid, 0.0, 0.0, 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            pids = tree(self.pid)
            rss, pss = map(sum, zip(*(_memory_kb(p) for p in pids), strict=True))
            self.rss_mb, self.pss_mb = max(self.rss_mb, rss / 1024), max(self.pss_mb, pss / 1024)
            self.processes = max(self.processes, len(pids))


def raw_copy_seconds(engine: sa.Engine, path: Path) -> float:
    with path.open(newline="", encoding="utf-8-sig") as f:
        first = f.readline()
    delimiter = max(",;\t|", key=first.count)  # the file's own, as the importer finds it
    width = len(next(csv.reader([first], delimiter=delimiter)))
    columns = ", ".join(f"c{i} text" for i in range(width))
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE bench_raw ({columns})")
    raw = engine.raw_connection()
    try:
        started = time.perf_counter()
        with raw.cursor() as cursor, path.open("rb") as f:
            options = f"FORMAT csv, HEADER true, DELIMITER E'{delimiter}'"
            cursor.copy_expert(f"COPY bench_raw FROM STDIN WITH ({options})", f)
        raw.commit()
        return time.perf_counter() - started
    finally:
        raw.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument("--csv", type=Path, help="a file kept by an earlier --keep run (its rows "
                        "counted, not generated again)")  # fmt: skip
    parser.add_argument("--workers", type=int, help="import worker processes (default: cores)")
    parser.add_argument(
        "--layout",
        choices=("dc01", "commune", "ward"),
        default="dc01",
        help="dc01: our own form (tests/support/dc01.py); commune: a commune's "
        "own layout with a mapping profile (tests/bench/commune_file.py); ward: another "
        "tool's export, semicolons, split names, foreign residents (tests/bench/ward_file.py)",
    )
    parser.add_argument("--mapping", type=Path, help="mapping profile for --csv (default: the "
                        "file's .json beside it, if any)")  # fmt: skip
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="popdb-bench-"))
    if args.csv is not None:
        path = args.csv
        with path.open("rb") as f:
            args.rows = sum(1 for _ in f) - 1  # generated rows hold no line breaks
        args.keep = True
        if args.mapping is None and path.with_suffix(".json").exists():
            args.mapping = path.with_suffix(".json")
    elif args.layout == "commune":
        path = workdir / "commune.csv"
        print(f"generating {args.rows:,} commune-layout rows in {path} …", file=sys.stderr)
        args.mapping = commune_file.write(path, args.rows)
    elif args.layout == "ward":
        path = workdir / "ward.csv"
        print(f"generating {args.rows:,} ward-register rows in {path} …", file=sys.stderr)
        args.mapping = ward_file.write(path, args.rows)
    else:
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
    postmaster = None if os.environ.get("POPDB_TEST_DATABASE_URL") else embedded.status(
        TEST_HOME / "pgdata").pid  # fmt: skip
    server_cpu_before = tree_cpu_seconds(postmaster) if postmaster else 0.0
    env = {**os.environ, "DATABASE_URL": url, "POPDB_HOME": str(workdir / "home")}
    if args.workers is not None:
        env["POPDB_IMPORT_WORKERS"] = str(args.workers)
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "popdb", "import", str(path), "--commune", "00004", "--no-match",
         "--report", str(workdir / "errors.csv"),
         *(["--mapping", str(args.mapping)] if args.mapping else [])],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    memory = TreeMemory(process.pid)
    memory.start()
    out, err = process.communicate()
    import_s = time.perf_counter() - started
    server_cpu_s = tree_cpu_seconds(postmaster) - server_cpu_before if postmaster else None
    memory.stop.set()
    memory.join()
    if process.returncode != 0:
        sys.exit(f"import failed: {err}")
    summary = json.loads(out)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    peak_mb = usage.ru_maxrss / 1024
    cores = os.cpu_count() or 1
    # The import's processes and the server share the cores: this much wall time is the least
    # the work could take here, and so bounds the ratio to raw COPY whatever the scheduling.
    floor_s = (cpu_s + server_cpu_s) / cores if server_cpu_s is not None else None
    engine.dispose()
    result = {
        "rows": args.rows,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "raw_copy_s": round(copy_s, 2),
        "raw_copy_rows_per_s": round(args.rows / copy_s),
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(args.rows / import_s),
        "ratio_to_raw_copy": round(copy_s / import_s, 3),
        "import_cpu_s": round(cpu_s, 1),
        "server_cpu_s": None if server_cpu_s is None else round(server_cpu_s, 1),
        "cpu_floor_s": None if floor_s is None else round(floor_s, 1),
        "ratio_at_cpu_floor": None if floor_s is None else round(copy_s / floor_s, 3),
        "import_processes": memory.processes,
        "import_peak_rss_mb": round(peak_mb),
        "import_tree_peak_rss_mb": round(memory.rss_mb),
        "import_tree_peak_pss_mb": round(memory.pss_mb),
        "load_average_before": load_before,
        "accepted": summary["accepted"],
        "rejected": summary["rejected"],
        "warnings": summary["warnings"],
        "postgresql": pg_version,
        "machine": machine(),
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if not args.keep:
        path.unlink()
        if args.layout in ("commune", "ward"):
            path.with_suffix(".json").unlink()


if __name__ == "__main__":
    main()
