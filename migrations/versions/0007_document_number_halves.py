"""match_key: the two halves of the other document number, for blocking on number typos

Revision ID: 0007
Revises: 0006

A number typed with one wrong digit, or two adjacent digits swapped, keeps one of its halves;
blocking on each finds such pairs when nothing else brings them together (FEBRL 4: most of
the true pairs no rule blocked). Existing keys get theirs from `other_id` as
`dedup.features.halves` cuts it: the first half the longer.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("match_key", sa.Column("other_id_head", sa.Text(), nullable=True))
    op.add_column("match_key", sa.Column("other_id_tail", sa.Text(), nullable=True))
    op.execute("""
        UPDATE match_key
        SET other_id_head = left(other_id, (length(other_id) + 1) / 2),
            other_id_tail = substr(other_id, (length(other_id) + 1) / 2 + 1)
        WHERE length(other_id) >= 2
    """)  # fmt: skip


def downgrade() -> None:
    op.drop_column("match_key", "other_id_tail")
    op.drop_column("match_key", "other_id_head")
