"""Import batches and the row-level issues found while validating them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from popdb.core.models.base import Base, bigint_pk, created_at, pg_enum

BATCH_STATUS = pg_enum("batch_status", "received", "validating", "loaded", "matched", "failed")
SEVERITY = pg_enum("issue_severity", "warning", "error")


class ImportBatch(Base):
    """One upload. The same file twice for one commune is one batch."""

    __tablename__ = "import_batch"
    __table_args__ = (
        sa.UniqueConstraint("commune_code", "sha256"),
        sa.CheckConstraint("commune_code ~ '^[0-9]{5}$'", name="commune_code_format"),
    )

    id: Mapped[bigint_pk]
    client_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_client.id"))
    commune_code: Mapped[str] = mapped_column(sa.String(5), index=True)
    file_name: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.CHAR(64))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    mapping: Mapped[dict[str, Any] | None]
    #: reader options (encoding, delimiter, sheet) so a background worker can redo the read
    options: Mapped[dict[str, Any]] = mapped_column(server_default=sa.text("'{}'::jsonb"))
    #: where the uploaded file is kept (API uploads); the CLI reads the user's own path
    stored_path: Mapped[str | None] = mapped_column(sa.Text)
    collected_on: Mapped[dt.date]
    status: Mapped[str] = mapped_column(BATCH_STATUS, server_default="received")
    failure_reason: Mapped[str | None] = mapped_column(sa.Text)
    rows: Mapped[int] = mapped_column(server_default="0")
    accepted: Mapped[int] = mapped_column(server_default="0")
    rejected: Mapped[int] = mapped_column(server_default="0")
    warnings: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[created_at]
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    #: held at `loaded` for a match preview: no matching run takes its records until released
    #: (the upload asked for it, its commune's setting or POPDB_MATCH_PREVIEW said so)
    match_hold: Mapped[bool] = mapped_column(server_default=sa.false())
    match_released_at: Mapped[dt.datetime | None]
    match_released_by: Mapped[str | None] = mapped_column(sa.Text)
    match_release_reason: Mapped[str | None] = mapped_column(sa.Text)


class ImportIssue(Base):
    """A warning or error on one cell or row; what the error report is made of."""

    __tablename__ = "import_issue"

    id: Mapped[bigint_pk]
    batch_id: Mapped[int] = mapped_column(
        sa.ForeignKey("import_batch.id", ondelete="CASCADE"), index=True
    )
    row_number: Mapped[int | None]
    source_key: Mapped[str | None] = mapped_column(sa.Text)
    column_name: Mapped[str | None] = mapped_column(sa.Text)
    value: Mapped[str | None] = mapped_column(sa.Text)
    problem: Mapped[str] = mapped_column(sa.Text)
    severity: Mapped[str] = mapped_column(SEVERITY)


class CommuneSetting(Base):
    """Per commune: whether its batches wait at `loaded` for a match preview. Set by an
    administrator with a reason (each change is also an audit event)."""

    __tablename__ = "commune_setting"
    __table_args__ = (
        sa.CheckConstraint("commune_code ~ '^[0-9]{5}$'", name="commune_code_format"),
    )

    commune_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    match_preview: Mapped[bool] = mapped_column(server_default=sa.false())
    set_by: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text)
    set_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())
