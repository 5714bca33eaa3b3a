"""Alembic environment: the URL comes from popdb's settings or the caller's connection."""

from __future__ import annotations

import re

from alembic import context

from popdb.core.models import Base

config = context.config
target_metadata = Base.metadata


#: Partitions (migration 0014, popdb.core.partitions): made at run time, one per batch or
#: year, so not in the models; the partitioned parents are.
_PARTITION = re.compile(
    r"^(source_record|match_candidate)_b[0-9]+$|^audit_event_(y[0-9]{4}|default)$"
)


def _include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    if type_ == "table" and reflected and compare_to is None:
        # Extensions' own objects are not ours to compare, nor are partitions.
        return not (name.startswith("pg_") or _PARTITION.match(name))
    if type_ == "index" and reflected and compare_to is None:
        return not _PARTITION.match(obj.table.name)
    return True


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        import sqlalchemy as sa

        engine = sa.create_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as conn:
            _run(conn)
            conn.commit()
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=_include_object,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("popdb migrations run online only")
run_migrations_online()
