"""Verify throughput over HTTP with 0, 1 and 2 streaming replicas of the embedded server.

    scripts/bench replicas [--persons 5000] [--seconds 15] [--connections 8] [--workers 2]
                           [--rounds 1]

A primary of its own (under .popdb-test/), N persons and an unlimited agency client; then
`popdb serve` (gunicorn) with POPDB_HOME pointing at it, so that the person resolution of
each verify goes to a replica (popdb/core/replicas.py) while the rate count and the audit
append commit on the primary. For each replica count: start the replicas (`pg_basebackup`),
wait for them to be in use (/readyz), warm up 3 s, run wrk for `--seconds`, and note how
many postgres processes' CPU went where. The machine's load average before and after each
run is printed too: on a shared 2-core machine, other people's work is in the figures.

Everything (primary, replicas, gunicorn, wrk) shares the same cores, so a replica adds
capacity only for the read it takes; this measures what that is worth here, not on
separate machines.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from popdb.core import embedded
from popdb.core.settings import Settings
from popdb.ops import replicas as ops
from tests.bench.identity_speed import _seed
from tests.bench.import_speed import machine
from tests.bench.verify_http import _LUA, wrk
from tests.conftest import TEST_HOME
from tests.faults.support import free_port, http, ready
from tests.support.processes import clean_env


def _json(body: object) -> dict:
    return body if isinstance(body, dict) else json.loads(str(body))


def _in_use(base: str, count: int) -> bool:
    status, body = http("GET", base + "/readyz", timeout=5)
    used = [r for r in _json(body).get("replicas", []) if r.get("used")]
    return status == 200 and len(used) >= count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=5_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=1, help="repeat 0,1,2 this many times")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("this benchmark needs wrk: apt-get install wrk (Debian's package)")
    (TEST_HOME / "faults").mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="replicas-", dir=TEST_HOME / "faults"))
    root.chmod(0o755)
    home = root / "home"
    settings = Settings(database_url=None, home=home)
    served = None
    results = []
    try:
        url = embedded.ensure_running(settings.pgdata)
        numbers, key = _seed(url, args.persons)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = clean_env(POPDB_HOME=str(home), POPDB_LOG_LEVEL="WARNING")
        log = (root / "serve.log").open("wb")
        served = subprocess.Popen(
            [sys.executable, "-m", "popdb", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(args.workers)], env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not ready(base):
            if served.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"popdb serve did not come up: {(root / 'serve.log').read_text()}")
            time.sleep(0.3)
        sample = random.Random(1).sample(numbers, min(len(numbers), 5000))
        script = root / "verify.lua"
        script.write_text(_LUA % {"numbers": ",".join(f'"{n}"' for n in sample), "key": key,
                                  "delay": 0, "seed": 7}, encoding="utf-8")  # fmt: skip
        for round_ in range(args.rounds):
            for count in (0, 1, 2):
                names = [f"r{i + 1}" for i in range(count)]
                for name in ("r1", "r2"):
                    if name not in names:
                        ops.stop(settings, name)
                for name in names:
                    ops.start(settings, name)
                deadline = time.monotonic() + 60
                while not _in_use(base, count) and time.monotonic() < deadline:
                    time.sleep(0.5)
                wrk(base, script, args.connections, 3)  # warm-up
                load_before = [round(x, 2) for x in os.getloadavg()]
                run = wrk(base, script, args.connections, args.seconds)
                status, body = http("GET", base + "/readyz", timeout=5)
                results.append({
                    "round": round_, "replicas": count, "load_before": load_before,
                    "load_after": [round(x, 2) for x in os.getloadavg()], **run,
                    "replicas_at_end": _json(body).get("replicas", []),
                })  # fmt: skip
                print(json.dumps(results[-1], ensure_ascii=False), flush=True)
        print()
        print(f"machine: {json.dumps(machine())}")
        print("| replicas | req/s | p50 ms | p99 ms | errors | load before → after |")
        print("|---|---|---|---|---|---|")
        for r in results:
            print(f"| {r['replicas']} | {r['req_per_s']} | {r['p50_ms']} | {r['p99_ms']} | "
                  f"{sum(r['errors'].values())} | {r['load_before'][0]} → {r['load_after'][0]} |")
    finally:
        if served is not None:
            served.send_signal(signal.SIGTERM)
            try:
                served.wait(30)
            except subprocess.TimeoutExpired:
                served.kill()
        for name in ("r1", "r2"):
            if ops.pgdata_of(settings, name).exists():
                ops.stop(settings, name, remove=True)
        embedded.stop(settings.pgdata)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
