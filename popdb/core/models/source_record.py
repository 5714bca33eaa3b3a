"""Source records: every uploaded row, kept for ever exactly as received."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from popdb.core.models.base import Base, created_at, pg_enum
from popdb.core.models.citizen import CitizenFields, citizen_checks

RECORD_STATUS = pg_enum("record_status", "accepted", "rejected")


#: Per batch, where the column `:column` sits in its raw rows (a JSON array index), for
#: `source_record.raw ->> i` joined on `batch_id`. Batches without that column are left out.
RAW_COLUMN_INDEX = """
    SELECT b.id AS batch_id, (h.position - 1)::int AS i
    FROM import_batch b,
         jsonb_array_elements_text(b.options -> 'header') WITH ORDINALITY AS h(name, position)
    WHERE h.name = :column
"""


class SourceRecord(CitizenFields, Base):
    """Raw row beside its parsed columns. Content never changes; only `person_id` moves.

    `raw` is a JSON array of the row's cells as received, in the file's column order, then any
    cells beyond the last heading; the headings are the batch's `options.header`.
    """

    __tablename__ = "source_record"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", "batch_id"),
        sa.UniqueConstraint("batch_id", "row_number"),
        *citizen_checks(),
        # LIST partitions, one per batch (migration 0014, popdb.core.partitions)
        {"postgresql_partition_by": "LIST (batch_id)"},
    )
    #: ids are unique on their own (one sequence); the table's key adds the partition key
    __mapper_args__ = {"primary_key": ["id"]}

    id: Mapped[int] = mapped_column(sa.BigInteger, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batch.id"))
    row_number: Mapped[int]
    source_key: Mapped[str | None] = mapped_column(sa.Text, index=True)
    raw: Mapped[list[Any]]
    status: Mapped[str] = mapped_column(RECORD_STATUS, server_default="accepted")
    warnings: Mapped[list[Any]] = mapped_column(server_default=sa.text("'[]'::jsonb"))
    #: No foreign key (migration 0014): attaching a batch would lock `person` against its
    #: writers; persons are never deleted and only the registry's linking sets it.
    person_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
    matched: Mapped[bool] = mapped_column(server_default=sa.false())
    created_at: Mapped[created_at]


sa.Index(
    "ix_source_record_personal_id_number",
    SourceRecord.personal_id_number,
    postgresql_where=SourceRecord.personal_id_number.isnot(None),
)
sa.Index("ix_source_record_unmatched", SourceRecord.id, postgresql_where=~SourceRecord.matched)
