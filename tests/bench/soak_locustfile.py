"""The soak's workload, for locust (started by `tests/bench/soak.py`, never on its own).

Configuration comes from the file named by SOAK_CONFIG (JSON written by soak.py): the
agency, police and admin keys, the police commune, the persons to ask about, and where to
write the status counts. Three kinds of user:

- `Agency` (all users but two): verify (3 in 4) and lookup (1 in 4) of known persons, one
  verify in 1,000 with a wrong name (a "no"), with a think time of 50-250 ms;
- `Police` (one): a small DC01 upload for its commune about once a minute, each file new;
- `Admin` (one): claims the next review item and decides it (distinct, skip or merge).
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from locust import HttpUser, between, constant_pacing, events, task

from tests.support.dc01 import HEADERS, fake_rows

CONFIG: dict[str, Any] = json.loads(Path(os.environ["SOAK_CONFIG"]).read_text(encoding="utf-8"))
STATUSES: Counter[str] = Counter()
_lock = threading.Lock()
_uploads = iter(range(1, 10**6))


@events.request.add_listener
def _count(request_type: str, name: str, response: Any = None, exception: Any = None,
           **_: Any) -> None:  # fmt: skip
    status = getattr(response, "status_code", None) if response is not None else None
    key = f"{name} {status if status else type(exception).__name__ if exception else '?'}"
    with _lock:
        STATUSES[key] += 1


@events.quitting.add_listener
def _write(**_: Any) -> None:
    with open(CONFIG["statuses_file"], "w", encoding="utf-8") as f:
        json.dump(dict(STATUSES), f, ensure_ascii=False, indent=1, sort_keys=True)


def _check(response: Any, *ok: int) -> None:
    if response.status_code in ok:
        response.success()
    else:
        response.failure(f"HTTP {response.status_code}: {response.text[:200]}")


class Agency(HttpUser):
    wait_time = between(0.05, 0.25)
    weight = 10

    def on_start(self) -> None:
        self.key = random.choice(CONFIG["agency_keys"])
        self.headers = {"Authorization": f"Bearer {self.key}", "X-Officer-Id": "soak"}

    @task(3)
    def verify(self) -> None:
        number, name = random.choice(CONFIG["persons"])
        if random.random() < 0.001:
            # A "no" now and then; kept far below the enumeration thresholds (50 flagged, 200
            # suspended, per client per 10 min), which a 3 % share crossed within 5 minutes.
            name = name + " X"
        body = {"personal_id_number": number, "full_name": name, "purpose": "soak test"}
        with self.client.post("/api/v1/identity/verify", json=body, headers=self.headers,
                              name="verify", catch_response=True) as r:  # fmt: skip
            _check(r, 200)

    @task(1)
    def lookup(self) -> None:
        number, _ = random.choice(CONFIG["persons"])
        with self.client.get(f"/api/v1/identity/persons/{number}?purpose=soak+test",
                             headers=self.headers, name="lookup",
                             catch_response=True) as r:  # fmt: skip
            _check(r, 200)


class Police(HttpUser):
    fixed_count = 1
    wait_time = constant_pacing(CONFIG.get("upload_every_s", 60))

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {CONFIG['police_key']}"}

    @task
    def upload(self) -> None:
        n = next(_uploads)
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        rows = list(fake_rows(CONFIG.get("upload_rows", 200), seed=CONFIG["seed"] * 1000 + n))
        for row in rows:
            row[HEADERS.index("Số phiếu")] = f"SOAK-{CONFIG['seed']}-{n}-{row[0]}"
        writer.writerows(rows)
        files = {"file": (f"soak-{n}.csv", out.getvalue().encode(), "text/csv")}
        with self.client.post("/api/v1/imports", files=files, headers=self.headers,
                              data={"commune_code": CONFIG["police_commune"]},
                              name="police upload", catch_response=True) as r:  # fmt: skip
            _check(r, 202)


class Admin(HttpUser):
    fixed_count = 1
    wait_time = between(2, 6)

    def on_start(self) -> None:
        self.headers = {"Authorization": f"Bearer {CONFIG['admin_key']}"}

    @task
    def claim_and_decide(self) -> None:
        with self.client.post("/api/v1/reviews/claim", headers=self.headers,
                              name="review claim", catch_response=True) as r:  # fmt: skip
            _check(r, 200, 204)
            if r.status_code != 200:
                return
            item = r.json()
        decision = random.choices(["distinct", "skip", "merge"], weights=[2, 1, 2])[0]
        body = {"decision": decision, "version": item["version"], "reason": "soak test"}
        # 409: the item changed under us (a merge superseded it): a correct answer, not an error.
        with self.client.post(f"/api/v1/reviews/{item['id']}/decision", json=body,
                              headers=self.headers, name="review decision",
                              catch_response=True) as r:  # fmt: skip
            _check(r, 200, 409)
