"""The audit chain: append-only, each row carrying the hash of the one before."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from popdb.core.models.base import Base


class AuditEvent(Base):
    """UPDATE, DELETE and TRUNCATE are refused by triggers (migration 0001)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.PrimaryKeyConstraint("id", "occurred_at"),
        sa.UniqueConstraint("hash", "occurred_at", name="uq_audit_event_hash"),
        sa.Index("ix_audit_event_subject", "subject_type", "subject_id"),
        sa.CheckConstraint(
            "(hash_version = 1 AND key_id IS NULL) OR (hash_version = 2 AND key_id IS NOT NULL)",
            name="hash_version",
        ),
        # RANGE partitions, one per calendar year (UTC), migration 0014
        {"postgresql_partition_by": "RANGE (occurred_at)"},
    )
    __mapper_args__ = {"primary_key": ["id"]}

    id: Mapped[int] = mapped_column(sa.BigInteger, autoincrement=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())
    actor_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    actor_name: Mapped[str] = mapped_column(sa.Text)
    role: Mapped[str] = mapped_column(sa.Text)
    action: Mapped[str] = mapped_column(sa.Text)
    subject_type: Mapped[str | None] = mapped_column(sa.Text)
    subject_id: Mapped[str | None] = mapped_column(sa.Text)
    purpose: Mapped[str | None] = mapped_column(sa.Text)
    legal_basis: Mapped[str | None] = mapped_column(sa.Text)
    fields: Mapped[list[Any]] = mapped_column(server_default=sa.text("'[]'::jsonb"))
    request_id: Mapped[str | None] = mapped_column(sa.Text)
    detail: Mapped[dict[str, Any]] = mapped_column(server_default=sa.text("'{}'::jsonb"))
    prev_hash: Mapped[str] = mapped_column(sa.CHAR(64))
    hash: Mapped[str] = mapped_column(sa.CHAR(64))
    #: 1: SHA-256 of the row (before migration 0011); 2: HMAC-SHA256 under the key `key_id`
    #: names (a fingerprint of a key held outside the database, popdb/core/audit.py)
    hash_version: Mapped[int] = mapped_column(sa.SmallInteger, server_default=sa.text("1"))
    key_id: Mapped[str | None] = mapped_column(sa.Text)


class ArchivedPartition(Base):
    """A partition detached for archiving (popdb.core.partitions): a batch's records and
    candidates, or a year of audit with the chain's hashes at both ends, so the chain still
    verifies from the cut and the archive can be checked when it is attached again."""

    __tablename__ = "archived_partition"

    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    parent: Mapped[str] = mapped_column(sa.Text)
    batch_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    range_from: Mapped[dt.datetime | None]
    range_to: Mapped[dt.datetime | None]
    rows: Mapped[int] = mapped_column(sa.BigInteger)
    first_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    last_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    first_prev_hash: Mapped[str | None] = mapped_column(sa.CHAR(64))
    last_hash: Mapped[str | None] = mapped_column(sa.CHAR(64))
    detached_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())
