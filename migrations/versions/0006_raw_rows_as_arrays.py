"""source_record.raw: the row's cells as a JSON array; the headings once, on the batch

Revision ID: 0006
Revises: 0005

A raw row was a JSON object repeating every heading: two thirds of its bytes for a DC01 row,
and a third of `source_record`'s. Every later pass over the table paid for them again: the
dedup run that links a million records to their persons rewrote 1.8 GB of rows. The row is
now its cells in the file's column order, then any cells beyond the last heading (their
`_extra_N` keys before); the headings are the batch's `options.header`, as they already were.

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EXTRA = "_extra_"


def upgrade() -> None:
    # A batch loaded before its headings were recorded takes them from its first row.
    op.execute(f"""
        UPDATE import_batch b
        SET options = b.options || jsonb_build_object('header', (
            SELECT jsonb_agg(k.key ORDER BY k.n)
            FROM source_record sr, jsonb_object_keys(sr.raw) WITH ORDINALITY AS k(key, n)
            WHERE sr.id = (SELECT min(id) FROM source_record WHERE batch_id = b.id)
              AND NOT starts_with(k.key, '{_EXTRA}')))
        WHERE NOT b.options ? 'header'
          AND EXISTS (SELECT 1 FROM source_record WHERE batch_id = b.id)
    """)  # fmt: skip
    op.execute(f"""
        UPDATE source_record sr
        SET raw = coalesce((
            SELECT jsonb_agg(sr.raw -> h.name ORDER BY h.n)
            FROM jsonb_array_elements_text(b.options -> 'header') WITH ORDINALITY AS h(name, n)
        ), '[]'::jsonb) || coalesce((
            SELECT jsonb_agg(e.value ORDER BY substr(e.key, {len(_EXTRA) + 1})::int)
            FROM jsonb_each(sr.raw) AS e(key, value) WHERE starts_with(e.key, '{_EXTRA}')
        ), '[]'::jsonb)
        FROM import_batch b
        WHERE b.id = sr.batch_id AND jsonb_typeof(sr.raw) = 'object'
    """)  # fmt: skip


def downgrade() -> None:
    op.execute(f"""
        UPDATE source_record sr
        SET raw = coalesce((
            SELECT jsonb_object_agg(
                coalesce(b.options -> 'header' ->> (c.n - 1)::int,
                         '{_EXTRA}' || (c.n - jsonb_array_length(b.options -> 'header'))),
                c.value)
            FROM jsonb_array_elements(sr.raw) WITH ORDINALITY AS c(value, n)), '{{}}'::jsonb)
        FROM import_batch b
        WHERE b.id = sr.batch_id AND jsonb_typeof(sr.raw) = 'array'
    """)  # fmt: skip
