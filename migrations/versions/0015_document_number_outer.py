"""match_key: the other document number without its two middle digits

Revision ID: 0015
Revises: 0014

Two adjacent digits swapped across the middle of a number change both of its halves
(migration 0007), so the half rules never pair such records when the names are mistyped
too (FEBRL 2-4: 11 true pairs no rule blocked). The number without its two middle digits
(`dedup.features.outer`) keeps them together: one key per record. Existing keys get theirs
from `other_id` as `outer` cuts it.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("match_key", sa.Column("other_id_outer", sa.Text(), nullable=True))
    op.execute("""
        UPDATE match_key
        SET other_id_outer = left(other_id, (length(other_id) + 1) / 2 - 1)
                             || substr(other_id, (length(other_id) + 1) / 2 + 2)
        WHERE length(other_id) >= 4
    """)  # fmt: skip


def downgrade() -> None:
    op.drop_column("match_key", "other_id_outer")
