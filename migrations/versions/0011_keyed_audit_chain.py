"""Keyed audit chain: hash versions, key ids, and audit_reserve()

Revision ID: 0011
Revises: 0010

Issue 22 item 5: whoever could write to the database could delete audit rows and re-hash the
rest with the project's own (unkeyed) function. From now on each row's hash is an
HMAC-SHA256 under a key held outside the database (popdb/core/audit.py), computed in Python:

- `hash_version` (1: the SHA-256 of rows written before this migration, which keep
  verifying; 2: keyed) and `key_id` (the fingerprint of the key, so a rotated-out key can
  still verify its rows). Existing rows become version 1; a row that names no version is a
  version-1 row, which verification accepts only before the first keyed row.
- `audit_reserve(lock, n)`: takes the chain's lock, reads the head and draws n ids in one
  statement, so Python can compute the keyed hashes and insert in one more. The key never
  reaches the server (psycopg2 interpolates parameters into the statement text, which
  pg_stat_activity and the server log can show).

The service role's grants are not here: the role is the deployment's (its name is a
setting) and lives outside the schema; `popdb.ops.roles.grant_service` runs after every
migrate and sets default privileges for later tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "audit_event",
        sa.Column("hash_version", sa.SmallInteger(), server_default=sa.text("1"), nullable=False),
    )
    op.add_column("audit_event", sa.Column("key_id", sa.Text(), nullable=True))
    op.create_check_constraint(
        op.f("ck_audit_event_hash_version"),
        "audit_event",
        "(hash_version = 1 AND key_id IS NULL) OR (hash_version = 2 AND key_id IS NOT NULL)",
    )
    op.execute(
        """
        CREATE FUNCTION audit_reserve(p_lock bigint, p_n integer)
        RETURNS TABLE (prev_hash text, ids bigint[], occurred_at timestamptz)
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_advisory_xact_lock(p_lock);
            RETURN QUERY SELECT
                coalesce((SELECT a.hash::text FROM audit_event a ORDER BY a.id DESC LIMIT 1),
                         repeat('0', 64)),
                ARRAY(SELECT nextval('audit_event_id_seq') FROM generate_series(1, p_n)),
                date_trunc('microseconds', clock_timestamp());
        END
        $$
        """
    )


def downgrade() -> None:
    op.execute("DROP FUNCTION audit_reserve(bigint, integer)")
    op.drop_constraint(op.f("ck_audit_event_hash_version"), "audit_event", type_="check")
    op.drop_column("audit_event", "key_id")
    op.drop_column("audit_event", "hash_version")
