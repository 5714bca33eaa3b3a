"""match_key: sex 0 is unknown, and a record naming no commune takes its batch's

Revision ID: 0008
Revises: 0007

QCVN 109 codes sex 0 as "no information": as a match key it is unknown (-1), like an empty
cell, not a sex that differs from 1 and 2. A record naming no commune of its own (a foreign
file's rows) takes the commune that uploaded it as its `commune` key, so name-only blocking
still holds its name to a place. `dedup.features` computes both so for new records; this
brings the keys already computed into line. Both changes are undone exactly.

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NO_COMMUNE = "sr.permanent_commune_code IS NULL AND sr.current_commune_code IS NULL"


def upgrade() -> None:
    op.execute("UPDATE match_key SET sex = -1 WHERE sex = 0")
    op.execute(f"""
        UPDATE match_key k SET commune = b.commune_code
        FROM source_record sr JOIN import_batch b ON b.id = sr.batch_id
        WHERE sr.id = k.record_id AND k.commune IS NULL AND {_NO_COMMUNE}
    """)


def downgrade() -> None:
    op.execute("""
        UPDATE match_key k SET sex = 0
        FROM source_record sr WHERE sr.id = k.record_id AND sr.sex = 0
    """)
    op.execute(f"""
        UPDATE match_key k SET commune = NULL
        FROM source_record sr WHERE sr.id = k.record_id AND {_NO_COMMUNE}
    """)
