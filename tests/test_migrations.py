"""Migrations: one head, a full round trip, and no drift between models and schema."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory

from popdb.ops import migrate


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


def test_raw_rows_become_arrays_of_their_cells_and_back(scratch_database_url: str) -> None:
    engine = sa.create_engine(scratch_database_url)
    raw = {"b": "2", "a": None, "c": "3", "_extra_2": "y", "_extra_1": "x"}
    try:
        migrate.upgrade(engine, "0005")
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO import_batch (id, commune_code, file_name, sha256, size_bytes, "
                    "collected_on, options) VALUES (1, '00004', 'f.csv', repeat('0', 64), 1, "
                    "'2025-07-01', CAST(:o AS jsonb)), (2, '00004', 'g.csv', repeat('1', 64), 1, "
                    "'2025-07-01', '{}')"
                ),
                {"o": json.dumps({"header": ["a", "b", "c"]})},
            )
            conn.execute(sa.text(
                "INSERT INTO source_record (batch_id, row_number, raw) VALUES "
                "(1, 2, CAST(:r AS jsonb)), (2, 2, '{\"z\": \"9\", \"_extra_1\": \"e\"}')"),
                {"r": json.dumps(raw)})  # fmt: skip
        migrate.upgrade(engine, "0006")
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT raw FROM source_record ORDER BY batch_id")).all()
            header = conn.scalar(sa.text("SELECT options -> 'header' FROM import_batch "
                                         "WHERE id = 2"))  # fmt: skip
        assert [r[0] for r in rows] == [[None, "2", "3", "x", "y"], ["9", "e"]]
        assert header == ["z"]  # taken from the first row of a batch that did not record it
        migrate.downgrade(engine, "0005")
        with engine.connect() as conn:
            back = conn.scalar(sa.text("SELECT raw FROM source_record WHERE batch_id = 1"))
        assert back == raw
    finally:
        migrate.downgrade(engine, "base")
        engine.dispose()


def test_the_migrations_number_halves_are_the_engines(engine: sa.Engine) -> None:
    from dedup.features import halves

    numbers = ["12", "123", "2486965", "B1234567", "AB12345678"]
    with engine.connect() as conn:
        got = conn.execute(
            sa.text("SELECT left(n, (length(n) + 1) / 2), substr(n, (length(n) + 1) / 2 + 1) "
                    "FROM unnest(CAST(:ns AS text[])) AS n"), {"ns": numbers}
        ).all()  # fmt: skip
    assert [tuple(r) for r in got] == [halves(n) for n in numbers]


def test_existing_keys_take_sex_unknown_and_the_batch_commune_and_give_them_back(
    scratch_database_url: str,
) -> None:
    engine = sa.create_engine(scratch_database_url)
    try:
        migrate.upgrade(engine, "0007")
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO import_batch (id, commune_code, file_name, sha256, size_bytes, "
                "collected_on, options) VALUES (1, '00004', 'f.csv', repeat('0', 64), 1, "
                "'2025-07-01', '{}')"))  # fmt: skip
            conn.execute(sa.text(
                "INSERT INTO source_record (id, batch_id, row_number, raw, sex, "
                "permanent_commune_code) VALUES (1, 1, 2, '[]', 0, NULL), "
                "(2, 1, 3, '[]', 2, '00007')"))  # fmt: skip
            conn.execute(sa.text(
                "INSERT INTO match_key (record_id, sex, commune, dob_year, dob_month, dob_day) "
                "VALUES (1, 0, NULL, 0, 0, 0), "
                "(2, 2, '00007', 0, 0, 0)"))  # fmt: skip
        migrate.upgrade(engine, "0008")
        query = sa.text("SELECT record_id, sex, commune FROM match_key ORDER BY record_id")
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(query)] == [(1, -1, "00004"), (2, 2, "00007")]
        migrate.downgrade(engine, "0007")
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(query)] == [(1, 0, None), (2, 2, "00007")]
    finally:
        migrate.downgrade(engine, "base")
        engine.dispose()


def test_households_go_down_to_0010_with_their_events_and_come_back(
    scratch_database_url: str,
) -> None:
    engine = sa.create_engine(scratch_database_url)
    kinds = sa.text("SELECT unnest(enum_range(NULL::person_event_kind))::text")
    try:
        migrate.upgrade(engine, "0010")
        with engine.connect() as conn:
            before = list(conn.scalars(kinds))
        migrate.upgrade(engine, "0012")
        with engine.begin() as conn:
            conn.execute(sa.text(
                "INSERT INTO import_batch (id, commune_code, file_name, sha256, size_bytes, "
                "collected_on) VALUES (1, '00004', 'f.csv', repeat('0', 64), 1, '2025-08-01')"))
            conn.execute(sa.text("INSERT INTO person (id) VALUES (1)"))
            conn.execute(sa.text(
                "INSERT INTO household (id, commune_code, household_key, created_batch_id) "
                "VALUES (1, '00004', 'no:HK-1', 1)"))
            conn.execute(sa.text(
                "INSERT INTO household_membership (household_id, person_id, relation, valid_from, "
                "source_record_id, batch_id, started_by, start_reason) "
                "VALUES (1, 1, 'head', '2025-08-01', 7, 1, 'dedup', 'joined')"))
            conn.execute(sa.text(
                "INSERT INTO household_batch (batch_id, households, memberships, skipped) "
                "VALUES (1, 1, 1, 0)"))
            conn.execute(sa.text(
                "INSERT INTO person_event (person_id, kind, actor) VALUES (1, 'household', 'x'), "
                "(1, 'created', 'x')"))  # fmt: skip
        migrate.downgrade(engine, "0010")
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            assert not {"household", "household_membership", "household_batch"} & tables
            assert list(conn.scalars(kinds)) == before
            assert list(conn.scalars(sa.text("SELECT kind::text FROM person_event"))) == [
                "created"]
        migrate.upgrade(engine, "0012")
        with engine.connect() as conn:
            assert "household" in set(conn.scalars(kinds))
    finally:
        migrate.downgrade(engine, "base")
        engine.dispose()
