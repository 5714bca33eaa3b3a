"""adjudication: four-eyes merge requests on review items

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A merge of two persons that both hold valid, different personal ID numbers waits for a
    # second admin: who asked first, and when. The item stays in the queue meanwhile.
    op.add_column(
        "match_candidate", sa.Column("merge_requested_by", sa.BigInteger(), nullable=True)
    )
    op.add_column(
        "match_candidate",
        sa.Column("merge_requested_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_foreign_key(
        op.f("fk_match_candidate_merge_requested_by_api_client"),
        "match_candidate",
        "api_client",
        ["merge_requested_by"],
        ["id"],
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_match_candidate_merge_requested_by_api_client"),
        "match_candidate",
        type_="foreignkey",
    )
    op.drop_column("match_candidate", "merge_requested_at")
    op.drop_column("match_candidate", "merge_requested_by")
