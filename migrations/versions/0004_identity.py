"""identity service: client expiry and suspension, usage counters for rate limits

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_client", sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.add_column("api_client", sa.Column("suspended_at", sa.DateTime(timezone=True)))
    op.add_column("api_client", sa.Column("suspended_reason", sa.Text()))
    op.create_table(
        "client_usage",
        sa.Column("client_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["api_client.id"],
            name=op.f("fk_client_usage_client_id_api_client"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("client_id", "kind", "bucket", name=op.f("pk_client_usage")),
    )


def downgrade() -> None:
    op.drop_table("client_usage")
    op.drop_column("api_client", "suspended_reason")
    op.drop_column("api_client", "suspended_at")
    op.drop_column("api_client", "expires_at")
