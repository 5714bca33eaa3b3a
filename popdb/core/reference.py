"""Reference data in the database: administrative units per vintage, loaded idempotently.

Each vintage is (re)loaded only when the SHA-256 of its shipped files differs from the one
recorded in `admin_vintage`, so `popdb serve` and `popdb db upgrade` can call this every time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import asdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import admin_units
from popdb.core.models import AdminUnit, AdminUnitChange, AdminVintage

log = logging.getLogger(__name__)

#: The 2025 conversion table travels with the vintage that introduced it.
CHANGES_VINTAGE = "2025-07"
CHANGES_FILE = "old-to-new-2025-07.csv"


def _digest(*file_names: str) -> str:
    h = hashlib.sha256()
    for name in file_names:
        h.update((admin_units.data_dir() / name).read_bytes())
    return h.hexdigest()


def load_reference_data(session: Session) -> dict[str, int]:
    """Load every vintage whose files changed; returns rows loaded per vintage key."""
    loaded: dict[str, int] = {}
    known = dict(session.execute(sa.select(AdminVintage.key, AdminVintage.sha256)).tuples().all())
    for vintage in admin_units.VINTAGES:
        files = [vintage.file_name] + ([CHANGES_FILE] if vintage.key == CHANGES_VINTAGE else [])
        digest = _digest(*files)
        if known.get(vintage.key) == digest:
            continue
        session.execute(sa.delete(AdminUnit).where(AdminUnit.vintage == vintage.key))
        session.execute(sa.delete(AdminVintage).where(AdminVintage.key == vintage.key))
        session.add(
            AdminVintage(
                key=vintage.key,
                in_force_from=vintage.in_force_from,
                source_file=", ".join(files),
                sha256=digest,
            )
        )
        session.flush()
        rows = [{k: v for k, v in asdict(u).items()} for u in admin_units.read_units(vintage)]
        session.execute(sa.insert(AdminUnit), rows)
        loaded[vintage.key] = len(rows)
        if vintage.key == CHANGES_VINTAGE:
            session.execute(sa.delete(AdminUnitChange))
            changes = [asdict(c) for c in admin_units.read_old_to_new()]
            session.execute(sa.insert(AdminUnitChange), changes)
            loaded["old-to-new"] = len(changes)
        log.info("loaded administrative units", extra={"vintage": vintage.key, "rows": len(rows)})
    session.flush()
    return loaded


def unit_on(session: Session, code: str, on: dt.date) -> AdminUnit | None:
    """Which unit did `code` name on date `on`? The code's length gives its level."""
    level = {2: "province", 3: "district", 5: "commune"}.get(len(code))
    if level is None or not code.isdigit():
        return None
    vintage = admin_units.vintage_in_force(on)
    return session.get(AdminUnit, (vintage.key, level, code))
