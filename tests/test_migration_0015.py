"""Migration 0015: match_key.other_id_outer, backfilled as `dedup.features.outer` cuts it,
and dropped exactly on the way down."""

from __future__ import annotations

import sqlalchemy as sa

from dedup.features import outer
from popdb.ops import migrate

NUMBERS = ["12", "123", "1234", "3527397", "B1234567", "035324761892"]


def test_existing_keys_get_the_engines_outer_digits_and_lose_them_going_down(
    scratch_database_url: str,
) -> None:
    engine = sa.create_engine(scratch_database_url)
    try:
        migrate.upgrade(engine, "0014")
        with engine.begin() as conn:  # match_key has no foreign key since 0014
            for i, number in enumerate(NUMBERS, start=1):
                conn.execute(sa.text(
                    "INSERT INTO match_key (record_id, other_id, sex, dob_year, dob_month, "
                    "dob_day) VALUES (:i, :n, -1, 0, 0, 0)"), {"i": i, "n": number})  # fmt: skip
        migrate.upgrade(engine, "0015")
        query = sa.text("SELECT other_id_outer FROM match_key ORDER BY record_id")
        with engine.connect() as conn:
            assert conn.execute(query).scalars().all() == [outer(n) for n in NUMBERS]
        assert outer("3527397") == outer("3523797") == "35297"  # swapped across the middle
        migrate.downgrade(engine, "0014")
        columns = {c["name"] for c in sa.inspect(engine).get_columns("match_key")}
        assert "other_id_outer" not in columns and "other_id_tail" in columns
        with engine.begin() as conn:  # 0014's downgrade puts the foreign key back
            conn.execute(sa.text("DELETE FROM match_key"))
    finally:
        migrate.downgrade(engine, "base")
        engine.dispose()
