"""match_candidate.review_reason: why a pair the score would link waits for review

Revision ID: 0009
Revises: 0008

A link the pair's own score would make is refused when the groups of records it would join
conflict (`dedup.clustering`): different personal ID numbers, two persons already, sex or
birth year apart with no shared number, a pair decided distinct inside. The reason was only
counted in the run's summary; kept on the pair, the review queue can say it.

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("match_candidate", sa.Column("review_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("match_candidate", "review_reason")
