"""match keys: the dedup engine's normalised columns per source record; person survivor index

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT_COLUMNS = (
    "family", "middle", "given", "family_fold", "middle_fold", "given_fold", "name_fold",
    "name_sorted", "initials", "pin", "other_id", "birth_place", "address", "commune",
    "father", "mother", "father_fold", "mother_fold",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "match_key",
        sa.Column("record_id", sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=True) for name in TEXT_COLUMNS),
        *(
            sa.Column(name, sa.SmallInteger(), nullable=False)
            for name in ("dob_year", "dob_month", "dob_day", "sex")
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["source_record.id"],
            name=op.f("fk_match_key_record_id_source_record"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("record_id", name=op.f("pk_match_key")),
    )
    # Retired persons point at their survivor; finding who points at a person must not
    # scan the table (deletes and merges check this foreign key).
    op.create_index(op.f("ix_person_merged_into_id"), "person", ["merged_into_id"])
    # Blocking now joins on match_key; this index only slowed every import.
    op.drop_index("ix_source_record_blocking_fold_year", table_name="source_record")


def downgrade() -> None:
    op.create_index(
        "ix_source_record_blocking_fold_year", "source_record", ["name_fold", "dob_year"]
    )
    op.drop_index(op.f("ix_person_merged_into_id"), table_name="person")
    op.drop_table("match_key")
