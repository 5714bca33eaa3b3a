"""Life events, households, corrections and the match-preview hold

Revision ID: 0013_life_events
Revises: 0009

- `life_event`: a death (with its civil-status record reference and date), a declaration of
  disappearance, a restoration; each also a `status_changed` person event.
- `household` and `household_member`: the household book as dated membership (a move ends
  one membership and starts another); at most one open membership per person.
- `correction_request`: a change to one golden field with evidence, requested by one
  administrator and, for identity fields, approved by another; reversible.
- `import_batch.match_hold` / `match_released_*` and `match_preview_commune`: batches held at
  `loaded` for a match preview until released.
- person event kinds `household_changed` and `correction`.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013_life_events"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KINDS = ("created", "linked", "merged", "unmerged", "field_changed", "status_changed",
              "pin_assigned")  # fmt: skip
_NEW_KINDS = ("household_changed", "correction")


def upgrade() -> None:
    for kind in _NEW_KINDS:
        op.execute(f"ALTER TYPE person_event_kind ADD VALUE IF NOT EXISTS '{kind}'")
    op.create_table(
        "life_event",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=True),
        sa.Column("record_reference", sa.Text(), nullable=True),
        sa.Column("authority", sa.Text(), nullable=True),
        sa.Column("status_before", sa.Text(), nullable=False),
        sa.Column("status_after", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),  # fmt: skip
        sa.CheckConstraint("kind IN ('death', 'missing', 'restored')",
                           name=op.f("ck_life_event_kind")),  # fmt: skip
        sa.CheckConstraint("kind <> 'death' OR (record_reference IS NOT NULL AND "
                           "occurred_on IS NOT NULL)",
                           name=op.f("ck_life_event_death_has_record")),  # fmt: skip
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_life_event_person_id_person")),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_event")),
    )
    op.create_index(op.f("ix_life_event_person_id"), "life_event", ["person_id"])
    op.create_table(
        "household",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("address_key", sa.Text(), nullable=False),
        sa.Column("head_person_id", sa.BigInteger(), nullable=True),
        sa.Column("source_batch_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),  # fmt: skip
        sa.ForeignKeyConstraint(["head_person_id"], ["person.id"],
                                name=op.f("fk_household_head_person_id_person")),  # fmt: skip
        sa.ForeignKeyConstraint(["source_batch_id"], ["import_batch.id"],
                                name=op.f("fk_household_source_batch_id_import_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household")),
    )
    op.create_index(op.f("ix_household_head_person_id"), "household", ["head_person_id"])
    op.create_index("ix_household_place", "household", ["commune_code", "address_key"])
    op.create_table(
        "household_member",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("relation", sa.Text(), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("source_record_id", sa.BigInteger(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("end_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),  # fmt: skip
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on",
                           name=op.f("ck_household_member_dates_in_order")),  # fmt: skip
        sa.ForeignKeyConstraint(["household_id"], ["household.id"],
                                name=op.f("fk_household_member_household_id_household")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_household_member_person_id_person")),  # fmt: skip
        sa.ForeignKeyConstraint(["source_record_id"], ["source_record.id"],
                                name=op.f("fk_household_member_source_record_id_source_record")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_member")),
    )
    op.create_index(op.f("ix_household_member_household_id"), "household_member",
                    ["household_id"])  # fmt: skip
    op.create_index(op.f("ix_household_member_person_id"), "household_member", ["person_id"])
    op.create_index("uq_household_member_open", "household_member", ["person_id"],
                    unique=True, postgresql_where=sa.text("ended_on IS NULL"))  # fmt: skip
    op.create_table(
        "correction_request",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("old_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_value", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("four_eyes", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("requested_by_label", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_by_label", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reverted_by_label", sa.Text(), nullable=True),
        sa.Column("reverted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revert_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),  # fmt: skip
        sa.CheckConstraint("status IN ('pending', 'applied', 'rejected', 'reverted')",
                           name=op.f("ck_correction_request_status")),  # fmt: skip
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_correction_request_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_request")),
    )
    op.create_index(op.f("ix_correction_request_person_id"), "correction_request",
                    ["person_id"])  # fmt: skip
    op.create_table(
        "match_preview_commune",
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),  # fmt: skip
        sa.PrimaryKeyConstraint("commune_code", name=op.f("pk_match_preview_commune")),
    )
    op.add_column("import_batch", sa.Column("match_hold", sa.Boolean(),
                                            server_default=sa.false(), nullable=False))
    op.add_column("import_batch", sa.Column("match_released_at", sa.DateTime(timezone=True),
                                            nullable=True))
    op.add_column("import_batch", sa.Column("match_released_by", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("import_batch", "match_released_by")
    op.drop_column("import_batch", "match_released_at")
    op.drop_column("import_batch", "match_hold")
    op.drop_table("match_preview_commune")
    op.drop_index(op.f("ix_correction_request_person_id"), table_name="correction_request")
    op.drop_table("correction_request")
    op.drop_index("uq_household_member_open", table_name="household_member")
    op.drop_index(op.f("ix_household_member_person_id"), table_name="household_member")
    op.drop_index(op.f("ix_household_member_household_id"), table_name="household_member")
    op.drop_table("household_member")
    op.drop_index("ix_household_place", table_name="household")
    op.drop_index(op.f("ix_household_head_person_id"), table_name="household")
    op.drop_table("household")
    op.drop_index(op.f("ix_life_event_person_id"), table_name="life_event")
    op.drop_table("life_event")
    # An enum value cannot be dropped: the type is made again without the new kinds (their
    # events go with the tables they described).
    kinds = ", ".join(f"'{k}'" for k in _NEW_KINDS)
    op.execute(f"DELETE FROM person_event WHERE kind IN ({kinds})")
    op.execute("ALTER TYPE person_event_kind RENAME TO person_event_kind_0013")
    old = ", ".join(f"'{k}'" for k in _OLD_KINDS)
    op.execute(f"CREATE TYPE person_event_kind AS ENUM ({old})")
    op.execute("ALTER TABLE person_event ALTER COLUMN kind TYPE person_event_kind "
               "USING kind::text::person_event_kind")  # fmt: skip
    op.execute("DROP TYPE person_event_kind_0013")
