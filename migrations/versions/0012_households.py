"""Households

Revision ID: 0012
Revises: 0010

- `household`: one household of one commune, known by its household number ("Số hộ") when
  the uploads carry one, else by its normalised address (`household_key`).
- `household_membership`: a person in a household with their relation to the head, valid
  from the collection date of the upload that placed them, until a later upload (or an
  administrator) ends it; at most one current membership per person.
- `household_batch`: the batches whose rows have been turned into memberships.
- person event kind `household`.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The kinds as 0010 left them, for the downgrade.
_OLD_KINDS = ("created", "linked", "merged", "unmerged", "field_changed", "status_changed",
              "pin_assigned", "correction")  # fmt: skip
_NEW_KINDS = ("household",)


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                     nullable=False)  # fmt: skip


def upgrade() -> None:
    for kind in _NEW_KINDS:
        op.execute(f"ALTER TYPE person_event_kind ADD VALUE IF NOT EXISTS '{kind}'")
    op.create_table(
        "household",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("household_key", sa.Text(), nullable=False),
        sa.Column("household_number", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("created_batch_id", sa.BigInteger(), nullable=True),
        _created_at(),
        sa.CheckConstraint("commune_code ~ '^[0-9]{5}$'",
                           name=op.f("ck_household_commune_code_format")),  # fmt: skip
        sa.ForeignKeyConstraint(["created_batch_id"], ["import_batch.id"],
                                name=op.f("fk_household_created_batch_id_import_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household")),
        sa.UniqueConstraint("commune_code", "household_key",
                            name=op.f("uq_household_commune_code_household_key")),
    )  # fmt: skip
    op.create_table(
        "household_membership",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("household_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.BigInteger(), nullable=False),
        sa.Column("relation", sa.Text(), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("source_record_id", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("started_by", sa.Text(), nullable=False),
        sa.Column("start_reason", sa.Text(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.Text(), nullable=True),
        sa.Column("end_reason", sa.Text(), nullable=True),
        _created_at(),
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from",
                           name=op.f("ck_household_membership_dates_in_order")),
        sa.CheckConstraint("(valid_to IS NULL) = (ended_at IS NULL)",
                           name=op.f("ck_household_membership_ended_when_dated")),
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"],
                                name=op.f("fk_household_membership_batch_id_import_batch")),
        sa.ForeignKeyConstraint(["household_id"], ["household.id"],
                                name=op.f("fk_household_membership_household_id_household")),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"],
                                name=op.f("fk_household_membership_person_id_person")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_household_membership")),
    )  # fmt: skip
    op.create_index(op.f("ix_household_membership_household_id"), "household_membership",
                    ["household_id"])  # fmt: skip
    op.create_index(op.f("ix_household_membership_person_id"), "household_membership",
                    ["person_id"])  # fmt: skip
    op.create_index(op.f("ix_household_membership_source_record_id"), "household_membership",
                    ["source_record_id"])  # fmt: skip
    op.create_index("ix_household_membership_current", "household_membership", ["person_id"],
                    unique=True, postgresql_where=sa.text("valid_to IS NULL"))  # fmt: skip
    op.create_table(
        "household_batch",
        sa.Column("batch_id", sa.BigInteger(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("memberships", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("derived_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),  # fmt: skip
        sa.ForeignKeyConstraint(["batch_id"], ["import_batch.id"],
                                name=op.f("fk_household_batch_batch_id_import_batch")),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_household_batch")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("household_batch")
    op.drop_index("ix_household_membership_current", table_name="household_membership")
    for column in ("source_record_id", "person_id", "household_id"):
        op.drop_index(op.f(f"ix_household_membership_{column}"), table_name="household_membership")
    op.drop_table("household_membership")
    op.drop_table("household")
    # An enum value cannot be dropped: the type is made again without the new kind (its
    # events go with the tables they described).
    kinds = ", ".join(f"'{k}'" for k in _NEW_KINDS)
    op.execute(f"DELETE FROM person_event WHERE kind IN ({kinds})")
    op.execute("ALTER TYPE person_event_kind RENAME TO person_event_kind_0012")
    old = ", ".join(f"'{k}'" for k in _OLD_KINDS)
    op.execute(f"CREATE TYPE person_event_kind AS ENUM ({old})")
    op.execute("ALTER TABLE person_event ALTER COLUMN kind TYPE person_event_kind "
               "USING kind::text::person_event_kind")  # fmt: skip
    op.execute("DROP TYPE person_event_kind_0012")
