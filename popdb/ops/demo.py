"""The demo: synthetic citizens written as commune batches, imported and matched, so that a
newcomer sees the whole flow (import → dedup → persons → review queue) on a fresh service."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb import synthetic
from popdb.core import db

Say = Callable[[str], None]


def registry_is_empty(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        return connection.scalar(sa.text("SELECT NOT EXISTS (SELECT 1 FROM source_record)"))


def load_demo(
    engine: sa.Engine, directory: Path, *, persons: int, seed: int = 0, say: Say = lambda _: None
) -> dict[str, Any]:
    """Write `persons` synthetic people as DC01 batches under `directory`, import each batch
    (its own commune and collection date) and run dedup. Returns the combined summary."""
    from dedup.run import RunOptions
    from importers.batches import BatchRequest, register
    from importers.pipeline import run_batch
    from popdb.registry.matching import match

    say(f"generating {persons:,} synthetic persons")
    files = synthetic.write_demo_files(directory, persons, seed=seed)
    rows = 0
    for index, demo in enumerate(files, start=1):
        say(f"importing batch {index}/{len(files)}: {demo.path.name}")
        with db.session_scope(engine) as session:
            request = BatchRequest(
                path=demo.path, commune_code=demo.commune_code, collected_on=demo.collected_on
            )
            batch, duplicate = register(session, request)
            batch_id = batch.id
        if not duplicate:
            rows += run_batch(lambda: db.session_scope(engine), batch_id, demo.path)["rows"]
    say("matching records into persons")
    with db.session_scope(engine) as session:
        summary = match(session.connection(), RunOptions(actor="demo"))
    return {
        "persons_generated": persons,
        "batches": len(files),
        "rows_imported": rows,
        "directory": str(directory),
        "truth_column": synthetic.TRUTH_COLUMN,
        "dedup": summary.as_dict(),
    }


DEMO_ADMIN = "demo admin"


def demo_admin_key(session: Session) -> str:
    """A key for the demo's admin client, so a newcomer can sign in to /admin: the client is
    created once; later starts rotate its key (keys are never stored, so never shown again)."""
    from popdb.core.models import ApiClient
    from popdb.identity.clients import create_client, rotate_key

    client_id = session.scalar(
        sa.select(ApiClient.id).where(ApiClient.name == DEMO_ADMIN, ApiClient.active)
    )
    if client_id is None:
        return create_client(session, name=DEMO_ADMIN, role="admin").api_key
    return rotate_key(session, client_id).api_key
