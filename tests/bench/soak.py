"""Soak: `popdb serve` under a mixed workload for minutes, with locust headless on loopback.

    scripts/bench soak [--minutes 10] [--users 12] [--persons 2000] [--workers 2]

Starts `popdb serve --demo PERSONS` with its own POPDB_HOME (and so its own embedded
PostgreSQL) on a free loopback port, creates agency clients (verify and lookup, no practical
rate limit), a police client for commune 00004 and an admin, then runs locust
(`tests/bench/soak_locustfile.py`): agency verify and lookup (~90 % of requests), a police
DC01 upload about once a minute, admin review claims and decisions. Stops by itself after
`--minutes`; prints JSON (req/s, p50/p99 per request type, status counts, database growth,
the machine and its load average) and a Markdown block for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from popdb.core import embedded
from tests.bench.import_speed import machine
from tests.conftest import TEST_HOME
from tests.faults.support import free_port, ready
from tests.support.processes import clean_env

POLICE_COMMUNE = "00004"


def _popdb(env: dict[str, str], *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "popdb", *args], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"popdb {' '.join(args)} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _key(env: dict[str, str], name: str, role: str, *extra: str) -> str:
    return _popdb(env, "clients", "create", "--name", name, "--role", role, *extra)["api_key"]


def _scalar(url: str, sql: str) -> Any:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(sql)).scalar()
    finally:
        engine.dispose()


def _rows(url: str, sql: str) -> list[Any]:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()


def _stats(prefix: Path) -> list[dict[str, Any]]:
    with open(f"{prefix}_stats.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [
        {
            "name": r["Name"],
            "requests": int(r["Request Count"]),
            "failures": int(r["Failure Count"]),
            "req_per_s": round(float(r["Requests/s"]), 1),
            "p50_ms": float(r["50%"] or 0),
            "p99_ms": float(r["99%"] or 0),
            "max_ms": round(float(r["Max Response Time"] or 0)),
        }
        for r in rows
    ]


def markdown(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; load average at start "
        f"{result['load_at_start']} (1/5/15 min), at the end {result['load_at_end']}. "
        f"{result['minutes']} min, {result['users']} locust users, {result['workers']} gunicorn "
        f"workers, {result['persons']} demo persons.",
        "",
        "| request | requests | req/s | p50 ms | p99 ms | max ms | failures |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in result["stats"]:
        lines.append(f"| {s['name']} | {s['requests']:,} | {s['req_per_s']} | {s['p50_ms']:g} | "
                     f"{s['p99_ms']:g} | {s['max_ms']:,} | {s['failures']} |")  # fmt: skip
    codes = ", ".join(f"{k}: {v:,}" for k, v in sorted(result["statuses"].items()))
    db = result["database"]
    lines += [
        "",
        f"Statuses: {codes}. **Server errors (5xx): {result['server_errors']}.**",
        f"Database: {db['before_mb']} MB before, {db['after_mb']} MB after "
        f"(+{db['growth_mb']} MB; audit events +{db['audit_events']:,}, source records "
        f"+{db['source_records']:,}, uploads loaded {db['uploads_loaded']}/{db['uploads']}).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=12, help="locust users (2 are police, admin)")
    parser.add_argument("--persons", type=int, default=2000, help="demo persons loaded first")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--agencies", type=int, default=3)
    parser.add_argument("--upload-every", type=float, default=60, help="seconds between uploads")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 100_000)
    args = parser.parse_args()

    base_dir = TEST_HOME / "soak"
    base_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="soak-", dir=base_dir))
    work.chmod(0o755)  # the embedded server may run as another user (see tests/faults/support)
    home = work / "home"
    env = clean_env(POPDB_HOME=str(home), POPDB_IMPORT_WORKERS="1")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (work / "serve.log").open("wb")
    served = subprocess.Popen(
        [sys.executable, "-m", "popdb", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(args.workers), "--demo", str(args.persons)],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 900
        while not ready(base):
            if served.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"popdb serve did not come up: {(work / 'serve.log').read_text()}")
            time.sleep(0.5)
        url = embedded.status(home / "pgdata").url
        assert url is not None
        agencies = [
            _key(
                env,
                f"soak agency {i}",
                "agency",
                "--fields",
                "basic",
                "--operations",
                "verify,lookup",
                "--rate",
                "100000",
                "--per-day",
                "100000000",
            )  # fmt: skip
            for i in range(args.agencies)
        ]
        police = _key(env, "soak police", "police", "--commune", POLICE_COMMUNE)
        admin = _key(env, "soak admin", "admin")
        persons = _rows(url, "SELECT personal_id_number, full_name FROM person "
                             "WHERE status = 'active' AND personal_id_number IS NOT NULL "
                             "AND full_name IS NOT NULL ORDER BY id")  # fmt: skip
        config = {
            "agency_keys": agencies, "police_key": police, "admin_key": admin,
            "police_commune": POLICE_COMMUNE, "persons": persons, "seed": args.seed,
            "upload_every_s": args.upload_every, "statuses_file": str(work / "statuses.json"),
        }  # fmt: skip
        (work / "config.json").write_text(json.dumps(config, ensure_ascii=False))
        size_sql = "SELECT pg_database_size(current_database())"
        count_sql = (
            "SELECT (SELECT count(*) FROM audit_event), (SELECT count(*) FROM source_record)"
        )
        size_before = _scalar(url, size_sql)
        audit_before, records_before = _rows(url, count_sql)[0]
        batches_sql = "SELECT count(*), count(*) FILTER (WHERE status = 'loaded') FROM import_batch"
        batches_before, loaded_before = _rows(url, batches_sql)[0]
        load_start = [round(x, 2) for x in os.getloadavg()]
        prefix = work / "locust"
        locust = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name(
                "soak_locustfile.py")), "--headless", "--host", base,
             "-u", str(args.users), "-r", str(args.users),
             "--run-time", f"{args.minutes * 60:.0f}s",
             "--stop-timeout", "30", "--csv", str(prefix), "--only-summary",
             "--loglevel", "WARNING"],
            env={**env, "SOAK_CONFIG": str(work / "config.json"),
                 "PYTHONPATH": os.pathsep.join([str(Path.cwd()), env.get("PYTHONPATH", "")])},
            capture_output=True, text=True, timeout=args.minutes * 60 + 300,
        )  # fmt: skip
        load_end = [round(x, 2) for x in os.getloadavg()]
        if not prefix.with_name("locust_stats.csv").exists():
            raise SystemExit(f"locust failed ({locust.returncode}): {locust.stderr[-3000:]}")
        time.sleep(5)  # the last upload's load, if it was still running
        size_after = _scalar(url, size_sql)
        audit_after, records_after = _rows(url, count_sql)[0]
        batches_after, loaded_after = _rows(url, batches_sql)[0]
        uploads, loaded = batches_after - batches_before, loaded_after - loaded_before
        statuses = json.loads((work / "statuses.json").read_text())
        server_errors = sum(v for k, v in statuses.items() if k.rsplit(" ", 1)[-1].startswith("5"))
        result = {
            "machine": machine(),
            "load_at_start": load_start,
            "load_at_end": load_end,
            "minutes": args.minutes,
            "users": args.users,
            "workers": args.workers,
            "persons": args.persons,
            "seed": args.seed,
            "stats": _stats(prefix),
            "statuses": statuses,
            "server_errors": server_errors,
            "database": {
                "before_mb": round(size_before / 2**20, 1),
                "after_mb": round(size_after / 2**20, 1),
                "growth_mb": round((size_after - size_before) / 2**20, 1),
                "audit_events": audit_after - audit_before,
                "source_records": records_after - records_before,
                "uploads": uploads,
                "uploads_loaded": loaded,
            },
            "locust_failures": (prefix.with_name("locust_failures.csv")).read_text()[:3000],
        }
        print(json.dumps(result, ensure_ascii=False, indent=2))
        print()
        print(markdown(result))
        serve_log = (work / "serve.log").read_text(errors="replace")
        tracebacks = serve_log.count("Traceback")
        if tracebacks:
            print(f"\n{tracebacks} traceback(s) in the server log {work / 'serve.log'}",
                  file=sys.stderr)  # fmt: skip
    finally:
        served.send_signal(signal.SIGTERM)
        try:
            served.wait(60)
        except subprocess.TimeoutExpired:
            served.kill()
            served.wait()
        if (home / "pgdata").exists():
            embedded.stop(home / "pgdata")
        if os.environ.get("POPDB_SOAK_KEEP"):
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
