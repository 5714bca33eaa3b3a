"""PostgreSQL stopped with `pg_ctl -m immediate` (a power cut) under a running service and
under an import, then started again: nothing partial, the retry completes, and the service
recovers by itself: readiness goes red, then green, with the same web workers."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.support import INTO_RECORDS, Served, fault_rng, http, own_home, scalar
from tests.support.dc01 import fake_rows, write_csv
from tests.support.processes import popdb_process, popdb_run, wait_for

ROWS = 15_000


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with own_home() as home:
        service = Served(home, workers=2).start()
        try:
            yield service
        finally:
            service.stop()


@pytest.fixture(scope="module")
def dc01_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_csv(tmp_path_factory.mktemp("restart") / "dc01.csv", fake_rows(ROWS, seed=21))


def _status(url: str) -> int | None:
    try:
        return http("GET", url, timeout=5)[0]
    except OSError:
        return None


def test_the_service_goes_unready_while_the_database_is_down_and_recovers_by_itself(
    served: Served,
) -> None:
    headers = served.police_headers()
    workers = sorted(served.web_workers())
    for _ in range(8):  # every worker's pool holds connections that the crash will break
        assert http("GET", served.base + "/api/v1/imports", headers=headers)[0] == 200

    served.server.crash()
    served.server.restart()
    # Pre-ping: the broken pooled connections are replaced unseen; no request fails.
    for _ in range(8):
        status, body = http("GET", served.base + "/api/v1/imports", headers=headers)
        assert status == 200, f"a request after the restart failed: {status} {body}"

    served.server.crash()
    wait_for(lambda: _status(served.base + "/readyz") == 503, "/readyz to go red", timeout=30,
             interval=0.2)  # fmt: skip
    assert _status(served.base + "/healthz") == 200, "liveness must not depend on the database"
    status, body = http("GET", served.base + "/api/v1/imports", headers=headers)
    assert status == 503 and body["code"] == "database_unavailable", (status, body)

    served.server.restart()
    wait_for(lambda: _status(served.base + "/readyz") == 200, "/readyz to go green again",
             timeout=60, interval=0.2)  # fmt: skip
    assert http("GET", served.base + "/api/v1/imports", headers=headers)[0] == 200
    assert sorted(served.web_workers()) == workers, "the web workers were replaced, not recovered"
    assert served.import_workers(), "the import worker died with the database"


def test_an_import_cut_by_a_database_crash_leaves_nothing_and_the_retry_loads_every_row(
    served: Served, dc01_file: Path
) -> None:
    share = fault_rng("database crash during import").uniform(0.1, 0.9)
    url = served.database_url()
    process = popdb_process(
        served.env, "import", str(dc01_file), "--commune", "00004", "--no-match"
    )
    copied = (
        "SELECT coalesce(max(tuples_processed), 0) FROM pg_stat_progress_copy "
        f"WHERE {INTO_RECORDS}"
    )
    wait_for(lambda: scalar(url, copied) >= share * ROWS, f"COPY past {share:.0%}",
             process=process)  # fmt: skip
    served.server.crash()
    try:
        _, err = process.communicate(timeout=120)
    except Exception:
        process.send_signal(signal.SIGKILL)
        raise
    assert process.returncode != 0, "the import claimed success with its database gone"
    assert "Traceback" not in err, err[-2000:]
    served.server.restart()
    assert scalar(url, "SELECT count(*) FROM source_record") == 0
    assert scalar(url, "SELECT count(*) FROM import_issue") == 0

    retry = popdb_run(served.env, "import", str(dc01_file), "--commune", "00004", "--no-match")
    assert retry.returncode == 0, retry.stderr
    assert json.loads(retry.stdout)["rows"] == ROWS
    assert scalar(url, "SELECT count(*) FROM source_record") == ROWS
    assert scalar(url, "SELECT count(DISTINCT row_number) FROM source_record") == ROWS
    assert scalar(url, "SELECT count(*) FROM import_batch WHERE status = 'loaded'") == 1


def test_an_upload_cut_by_a_database_crash_is_loaded_by_the_import_worker_after_restart(
    served: Served, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "upload.csv", fake_rows(ROWS, seed=22))
    headers = served.police_headers()
    url = served.database_url()
    status, body = _upload(served, path, headers)
    assert status == 202, body
    batch_id = body["batch_id"]
    copying = f"SELECT count(*) FROM pg_stat_progress_copy WHERE {INTO_RECORDS}"
    wait_for(lambda: scalar(url, copying) > 0, "the import worker to start its COPY")
    served.server.crash()
    served.server.restart()

    def loaded() -> bool:
        return (
            scalar(url, "SELECT status FROM import_batch WHERE id = :id", id=batch_id) == "loaded"
        )

    wait_for(loaded, f"batch {batch_id} to be loaded after the restart", timeout=180,
             interval=0.5)  # fmt: skip
    rows = "SELECT count(*) FROM source_record WHERE batch_id = :id"
    assert scalar(url, rows, id=batch_id) == ROWS


def _upload(served: Served, path: Path, headers: dict[str, str]) -> tuple[int, dict]:
    boundary = "popdb-fault-test"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="commune_code"\r\n\r\n00004\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return http(
        "POST", served.base + "/api/v1/imports", data=body, timeout=120,
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )  # fmt: skip
