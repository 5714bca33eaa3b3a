"""Bring a database to a usable state: reachable, migrated, reference data loaded."""

from __future__ import annotations

import sqlalchemy as sa

from popdb.core import db, reference
from popdb.core.settings import Settings
from popdb.ops import migrate


def prepare_database(settings: Settings) -> sa.Engine:
    """Start (if embedded), migrate to head and load reference data; idempotent."""
    engine = db.get_engine(settings)
    migrate.upgrade(engine)
    with db.session_scope(engine) as session:
        reference.load_reference_data(session)
    return engine
