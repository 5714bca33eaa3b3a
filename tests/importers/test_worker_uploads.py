"""Stray uploads: a file saved by a web worker killed before its batch was committed."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

from importers.batches import BatchRequest, register
from importers.worker import sweep_stray_uploads
from tests.support.dc01 import dc01_row, write_csv


def test_only_old_files_no_batch_refers_to_are_swept(session, tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    kept = write_csv(uploads / "20261123-kept.csv", [dc01_row(source_key="A1")])
    register(session, BatchRequest(path=kept, commune_code="00004", stored_path=str(kept)))
    stray = uploads / "20261123-stray.csv"
    fresh = uploads / "20261123-fresh.csv"  # its batch may be committing right now
    for path in (stray, fresh):
        path.write_text("x")
    hours_ago = time.time() - 2 * 3600
    for path in (kept, stray):
        os.utime(path, (hours_ago, hours_ago))

    removed = sweep_stray_uploads(session, uploads, older_than=dt.timedelta(hours=1))

    assert removed == [stray]
    assert kept.exists() and fresh.exists() and not stray.exists()


def test_no_uploads_directory_is_nothing_to_sweep(session, tmp_path: Path) -> None:
    assert sweep_stray_uploads(session, tmp_path / "absent") == []
