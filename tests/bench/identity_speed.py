"""Verify throughput with the audit write on, in process (no HTTP server, no network).

    scripts/bench identity [--persons 10000] [--requests 2000] [--threads 1,4]

On a fresh database of the test server: N synthetic persons, one agency without rate limits,
then `POST /api/v1/identity/verify` through the WSGI app, each call a transaction with its
audit event. Prints requests per second and latency percentiles per thread count, with the
machine. This measures the application and the database; the issue's gunicorn + wrk target
(>= 1,000 req/s at 8 connections) needs a load generator this environment does not have.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api import create_app
from popdb.core import embedded, reference
from popdb.core.settings import Settings
from popdb.identity.clients import create_client
from popdb.ops import migrate
from tests.bench.import_speed import machine
from tests.conftest import TEST_HOME, _drop_database, _fresh_database
from tests.support.persons import add_person

UNLIMITED = 10**9


def _seed(url: str, persons: int) -> tuple[list[str], str]:
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    numbers = [f"0011{90000000 + i:08d}" for i in range(persons)]
    with Session(engine) as session:
        reference.load_reference_data(session)
        for number in numbers:
            add_person(session, personal_id_number=number)
        key = create_client(
            session, name="bench", role="agency",
            policy={"legal_basis": "a", "operations": ["verify"], "fields": [],
                    "rate_per_second": UNLIMITED, "rate_per_day": UNLIMITED},
        ).api_key  # fmt: skip
        session.commit()
    engine.dispose()
    return numbers, key


def _run(app, key: str, numbers: list[str], requests: int, threads: int) -> dict[str, float]:  # noqa: ANN001
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = requests // threads
    headers = {"Authorization": f"Bearer {key}"}

    def work(seed: int) -> None:
        rng = random.Random(seed)
        client = app.test_client()
        mine = []
        for _ in range(per_thread):
            body = {"personal_id_number": rng.choice(numbers), "full_name": "Nguyễn Thị Hòa",
                    "dob": "1990-05-12", "purpose": "benchmark"}  # fmt: skip
            t0 = time.perf_counter()
            r = client.post("/api/v1/identity/verify", json=body, headers=headers)
            mine.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.get_json()
        with lock:
            latencies.extend(mine)

    t0 = time.perf_counter()
    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    wall = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100)
    return {
        "threads": threads,
        "requests": len(latencies),
        "req_per_s": round(len(latencies) / wall, 1),
        "p50_ms": round(q[49] * 1000, 2),
        "p99_ms": round(q[98] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--threads", default="1,4")
    args = parser.parse_args()
    server = embedded.ensure_running(TEST_HOME / "pgdata")
    name = "popdb_bench_identity"
    url = _fresh_database(server, name)
    try:
        numbers, key = _seed(url, args.persons)
        settings = Settings(database_url=url, home=TEST_HOME / "bench-home")
        app = create_app(settings)
        results = [_run(app, key, numbers, args.requests, int(t)) for t in args.threads.split(",")]
        print(json.dumps({"machine": machine(), "persons": args.persons, "results": results},
                         ensure_ascii=False, indent=2))  # fmt: skip
    finally:
        _drop_database(server, name)


if __name__ == "__main__":
    main()
