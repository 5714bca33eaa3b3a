"""A gunicorn worker SIGKILLed in the middle of an upload: the client sees an error or a
success, never a partial state; the master starts a new worker; a retry of the same upload
ends with the file loaded once, whole."""

from __future__ import annotations

import http.client
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.support import Served, fault_points, fault_rng, own_home, scalar
from tests.support.dc01 import fake_rows, write_csv
from tests.support.processes import wait_for

ROWS = 5_000
BOUNDARY = "popdb-fault-test"


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with own_home() as home:
        service = Served(home, workers=1).start()
        try:
            yield service
        finally:
            service.stop()


@pytest.fixture(scope="module")
def headers(served: Served) -> dict[str, str]:
    return served.police_headers()


def _body(path: Path) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="commune_code"\r\n\r\n00004\r\n'
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{path.name}"\r\nContent-Type: text/csv\r\n\r\n'
        ).encode()
        + path.read_bytes()
        + f"\r\n--{BOUNDARY}--\r\n".encode()
    )


def _connection(served: Served, headers: dict[str, str], length: int) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
    conn.putrequest("POST", "/api/v1/imports")
    for name, value in {**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
                        "Content-Length": str(length)}.items():  # fmt: skip
        conn.putheader(name, value)
    conn.endheaders()
    return conn


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _accepted(served: Served, conn: http.client.HTTPConnection) -> bool:
    """Has the (one) web worker accept()ed this connection? Its server-side socket, found in
    /proc/net/tcp by the client's port, is then among the worker's open files."""
    assert conn.sock is not None
    client_port = conn.sock.getsockname()[1]
    wanted = f"0100007F:{served.port:04X}", f"0100007F:{client_port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    inodes = {f[9] for f in (line.split() for line in lines) if (f[1], f[2]) == wanted}
    (worker,) = served.web_workers()
    return bool(inodes & _socket_inodes(worker))


def _kill_worker(served: Served) -> int:
    (worker,) = served.web_workers()
    os.kill(worker, signal.SIGKILL)
    return worker


def _replaced(served: Served, killed: int) -> None:
    wait_for(lambda: (w := served.web_workers()) != [] and killed not in w,
             "the gunicorn master to start a new worker", timeout=60, interval=0.1)  # fmt: skip


def _upload(served: Served, headers: dict[str, str], body: bytes) -> int:
    conn = _connection(served, headers, len(body))
    try:
        conn.send(body)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _batches(served: Served) -> int:
    return int(scalar(served.database_url(), "SELECT count(*) FROM import_batch"))


def _loaded_once(served: Served, path: Path) -> None:
    url = served.database_url()
    query = "SELECT status, rows FROM import_batch WHERE file_name = :name"

    def loaded() -> bool:
        engine_rows = scalar(url, "SELECT count(*) FROM import_batch WHERE file_name = :name "
                                  "AND status = 'loaded'", name=path.name)  # fmt: skip
        return engine_rows == 1

    wait_for(loaded, f"{path.name} to be loaded by the import worker", timeout=120, interval=0.3)
    assert scalar(url, "SELECT count(*) FROM import_batch WHERE file_name = :name",
                  name=path.name) == 1  # fmt: skip
    assert scalar(url, query.replace("status, rows", "rows"), name=path.name) == ROWS
    rows = (
        "SELECT count(*) FROM source_record r JOIN import_batch b ON b.id = r.batch_id "
        "WHERE b.file_name = :name"
    )
    assert scalar(url, rows, name=path.name) == ROWS


def test_a_worker_killed_while_reading_an_upload_leaves_no_batch_and_is_replaced(
    served: Served, headers: dict[str, str], tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "half-sent.csv", fake_rows(ROWS, seed=31))
    body = _body(path)
    before = _batches(served)
    conn = _connection(served, headers, len(body))
    conn.send(body[: len(body) // 2])
    wait_for(lambda: _accepted(served, conn), "the web worker to take the connection",
             timeout=30)  # fmt: skip
    killed = _kill_worker(served)
    with pytest.raises((ConnectionError, http.client.HTTPException, TimeoutError)):
        conn.send(body[len(body) // 2 :])
        conn.getresponse().read()
    conn.close()
    _replaced(served, killed)
    assert _batches(served) == before, "a half-received upload registered a batch"
    assert not list((served.home / "uploads").glob("*half*")), "a partial upload was kept"

    assert _upload(served, headers, body) == 202
    _loaded_once(served, path)


def test_a_worker_killed_at_random_moments_of_an_upload_never_leaves_a_partial_batch(
    served: Served, headers: dict[str, str], tmp_path: Path
) -> None:
    rng = fault_rng("web worker kill")
    for n in range(max(2, fault_points() // 3)):
        path = write_csv(tmp_path / f"upload-{n}.csv", fake_rows(ROWS, seed=40 + n))
        body = _body(path)
        delay = rng.uniform(0.0, 0.4)
        timer = threading.Timer(delay, lambda: _kill_worker(served))
        killed_before = set(served.web_workers())
        timer.start()
        try:
            status: int | None = _upload(served, headers, body)
        except (ConnectionError, http.client.HTTPException, TimeoutError):
            status = None  # the client saw an error: it retries
        timer.join()
        assert status in (None, 202), f"kill after {delay:.2f} s: answered {status}"
        _replaced(served, next(iter(killed_before)))
        if status is None:
            assert _upload(served, headers, body) in (200, 202)
        _loaded_once(served, path)
