"""Source records: every uploaded row, kept for ever exactly as received."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from popdb.models.base import Base, bigint_pk, created_at, pg_enum
from popdb.models.citizen import CitizenFields, citizen_checks

RECORD_STATUS = pg_enum("record_status", "accepted", "rejected")


class SourceRecord(CitizenFields, Base):
    """Raw row (JSONB) beside its parsed columns. Content never changes; only `person_id` moves."""

    __tablename__ = "source_record"
    __table_args__ = (
        sa.UniqueConstraint("batch_id", "row_number"),
        *citizen_checks(),
    )

    id: Mapped[bigint_pk]
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batch.id"))
    row_number: Mapped[int]
    source_key: Mapped[str | None] = mapped_column(sa.Text, index=True)
    raw: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(RECORD_STATUS, server_default="accepted")
    warnings: Mapped[list[Any]] = mapped_column(server_default=sa.text("'[]'::jsonb"))
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    matched: Mapped[bool] = mapped_column(server_default=sa.false())
    created_at: Mapped[created_at]


sa.Index(
    "ix_source_record_personal_id_number",
    SourceRecord.personal_id_number,
    postgresql_where=SourceRecord.personal_id_number.isnot(None),
)
sa.Index("ix_source_record_unmatched", SourceRecord.id, postgresql_where=~SourceRecord.matched)
