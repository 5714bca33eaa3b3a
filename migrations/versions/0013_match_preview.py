"""Match preview: batches held at `loaded` until an administrator releases them

Revision ID: 0013
Revises: 0010

- `import_batch.match_hold`: no matching run takes the batch's records while it is set;
  `match_released_at`, `match_released_by`, `match_release_reason` say who let it go and why.
- `commune_setting`: per commune, whether its uploads are held for a preview (who set it, why).

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("import_batch", sa.Column("match_hold", sa.Boolean(),
                                            server_default=sa.false(), nullable=False))  # fmt: skip
    op.add_column("import_batch", sa.Column("match_released_at", sa.DateTime(timezone=True),
                                            nullable=True))  # fmt: skip
    op.add_column("import_batch", sa.Column("match_released_by", sa.Text(), nullable=True))
    op.add_column("import_batch", sa.Column("match_release_reason", sa.Text(), nullable=True))
    op.create_table(
        "commune_setting",
        sa.Column("commune_code", sa.String(length=5), nullable=False),
        sa.Column("match_preview", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("set_by", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
                  nullable=False),  # fmt: skip
        sa.CheckConstraint("commune_code ~ '^[0-9]{5}$'",
                           name=op.f("ck_commune_setting_commune_code_format")),  # fmt: skip
        sa.PrimaryKeyConstraint("commune_code", name=op.f("pk_commune_setting")),
    )


def downgrade() -> None:
    op.drop_table("commune_setting")
    op.drop_column("import_batch", "match_release_reason")
    op.drop_column("import_batch", "match_released_by")
    op.drop_column("import_batch", "match_released_at")
    op.drop_column("import_batch", "match_hold")
