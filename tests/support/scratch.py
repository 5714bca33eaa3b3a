"""A migrated scratch database with committed adjudication data, for tests that need
several real connections (concurrency) or a real server (the browser)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import reference
from popdb.ops import migrate
from tests.support.registry import build_committed


def committed_registry(url: str, tmp_path: Path) -> tuple[sa.Engine, dict[str, int]]:
    engine = sa.create_engine(url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        reference.load_reference_data(session)
        session.commit()
    return engine, build_committed(engine, tmp_path)
