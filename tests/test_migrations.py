"""Migrations: one head, a full round trip, and no drift between models and schema."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from popdb import migrate


def test_migrations_have_exactly_one_head() -> None:
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1


def test_revisions_are_numbered_in_order() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    revisions = [r.revision for r in script.walk_revisions()][::-1]
    assert revisions == [f"{i:04d}" for i in range(1, len(revisions) + 1)]


def test_empty_to_head_one_down_and_back_leaves_no_drift(scratch_database_url: str) -> None:
    engine = sa.create_engine(scratch_database_url)
    try:
        migrate.upgrade(engine)
        assert migrate.is_at_head(engine)
        head = migrate.head_revision()
        migrate.downgrade(engine, "-1")
        assert migrate.current_revision(engine) != head
        migrate.upgrade(engine)
        assert migrate.is_at_head(engine)
        with engine.begin() as conn:
            command.check(migrate.alembic_config(connection=conn))  # raises on drift
        migrate.downgrade(engine, "base")
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
        assert tables == set()
    finally:
        engine.dispose()


def test_extensions_the_schema_needs_are_created(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        names = set(conn.scalars(sa.text("SELECT extname FROM pg_extension")))
    assert {"pg_trgm", "unaccent"} <= names
