"""Issue 22 item 2: a forged collection date must not reach survivorship.

A batch dated 2099-12-31 would be "the most recent evidence" for every person it links to;
one dated before the registry's epoch is as forged. Both are refused at registration (API 400
in the one error shape, CLI exit 2), today and the epoch itself are allowed.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from click.testing import CliRunner

from importers.batches import BatchRequest, check_collected_on, register
from popdb.cli import main
from popdb.core.errors import InvalidInput
from popdb.core.settings import DEFAULT_EPOCH
from tests.support.dc01 import fake_rows, write_csv


@pytest.fixture
def police(make_client):
    return make_client("police", commune_code="00004")[1]


def _upload(client, headers, path, **form):
    data = {"file": (io.BytesIO(path.read_bytes()), path.name), **form}
    return client.post("/api/v1/imports", data=data, headers=headers,
                       content_type="multipart/form-data")  # fmt: skip


def test_a_future_dated_upload_is_refused_in_the_one_error_shape(client, police, tmp_path):
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(2)))
    r = _upload(client, police, path, collected_on="2099-12-31")
    assert r.status_code == 400, r.get_json()
    body = r.get_json()
    assert {"code", "status", "message", "errors"} <= set(body)
    assert "collected_on" in body["errors"] and "future" in body["message"]


def test_an_upload_dated_before_the_epoch_is_refused(client, police, tmp_path):
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(2)))
    r = _upload(client, police, path, collected_on="1999-01-01")
    assert r.status_code == 400
    assert "epoch" in r.get_json()["message"]


def test_today_and_the_epoch_are_allowed(session, tmp_path):
    today = dt.date.today()
    check_collected_on(today)
    check_collected_on(DEFAULT_EPOCH)
    with pytest.raises(InvalidInput):
        check_collected_on(today + dt.timedelta(days=1))
    with pytest.raises(InvalidInput):
        check_collected_on(DEFAULT_EPOCH - dt.timedelta(days=1))
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(2)))
    batch, _ = register(session, BatchRequest(path=path, commune_code="00004",
                                              collected_on=today))  # fmt: skip
    assert batch.collected_on == today


def test_the_epoch_is_a_setting(session, tmp_path):
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(2)))
    request = BatchRequest(path=path, commune_code="00004", collected_on=dt.date(2021, 3, 1))
    with pytest.raises(InvalidInput, match="epoch 2022-01-01"):
        register(session, request, epoch=dt.date(2022, 1, 1))


def test_the_cli_refuses_a_future_date_with_exit_2(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "dc01.csv", list(fake_rows(2)))
    monkeypatch.setenv("POPDB_HOME", str(tmp_path / "home"))
    done = CliRunner().invoke(main, ["import", str(path), "--commune", "00004",
                                     "--collected-on", "2099-12-31"])  # fmt: skip
    assert done.exit_code == 2
    assert "future" in done.output
    assert not (tmp_path / "home" / "pgdata").exists()  # refused before starting a server
