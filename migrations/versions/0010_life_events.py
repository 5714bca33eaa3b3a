"""Life events and corrections

Revision ID: 0010
Revises: 0009

- `life_event`: a death (with its civil-status record reference and date), a declaration of
  disappearance, a restoration; each also a `status_changed` person event.
- `correction_request`: a change to one golden field with evidence, requested by one
  administrator and, for identity fields, approved by another; reversible.
- person event kind `correction`.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KINDS = ("created", "linked", "merged", "unmerged", "field_changed", "status_changed",
              "pin_assigned")  # fmt: skip
_NEW_KINDS = ("correction",)


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
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),  # fmt: skip
        sa.CheckConstraint(
            "kind IN ('death', 'missing', 'restored')", name=op.f("ck_life_event_kind")
        ),  # fmt: skip
        sa.CheckConstraint(
            "kind <> 'death' OR (record_reference IS NOT NULL AND occurred_on IS NOT NULL)",
            name=op.f("ck_life_event_death_has_record"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_life_event_person_id_person")
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_life_event")),
    )
    op.create_index(op.f("ix_life_event_person_id"), "life_event", ["person_id"])
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
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),  # fmt: skip
        sa.CheckConstraint(
            "status IN ('pending', 'applied', 'rejected', 'reverted')",
            name=op.f("ck_correction_request_status"),
        ),  # fmt: skip
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_correction_request_person_id_person")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_correction_request")),
    )
    op.create_index(op.f("ix_correction_request_person_id"), "correction_request",
                    ["person_id"])  # fmt: skip


def downgrade() -> None:
    op.drop_index(op.f("ix_correction_request_person_id"), table_name="correction_request")
    op.drop_table("correction_request")
    op.drop_index(op.f("ix_life_event_person_id"), table_name="life_event")
    op.drop_table("life_event")
    # An enum value cannot be dropped: the type is made again without the new kinds (their
    # events go with the tables they described).
    kinds = ", ".join(f"'{k}'" for k in _NEW_KINDS)
    op.execute(f"DELETE FROM person_event WHERE kind IN ({kinds})")
    op.execute("ALTER TYPE person_event_kind RENAME TO person_event_kind_0010")
    old = ", ".join(f"'{k}'" for k in _OLD_KINDS)
    op.execute(f"CREATE TYPE person_event_kind AS ENUM ({old})")
    op.execute("ALTER TABLE person_event ALTER COLUMN kind TYPE person_event_kind "
               "USING kind::text::person_event_kind")  # fmt: skip
    op.execute("DROP TYPE person_event_kind_0010")
