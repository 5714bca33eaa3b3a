"""What happens to a person after the records are linked: life events and corrections."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from popdb.core.models.base import Base, bigint_pk, created_at

LIFE_EVENT_KINDS = ("death", "missing", "restored")
CORRECTION_STATUSES = ("pending", "applied", "rejected", "reverted")


class LifeEvent(Base):
    """A death (from a civil-status record: its reference and date), a declaration of
    disappearance, or a restoration. Never deleted; each is also a `status_changed` event."""

    __tablename__ = "life_event"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('death', 'missing', 'restored')", name="kind"),
        sa.CheckConstraint(
            "kind <> 'death' OR (record_reference IS NOT NULL AND occurred_on IS NOT NULL)",
            name="death_has_record",
        ),
    )

    id: Mapped[bigint_pk]
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.Text)
    occurred_on: Mapped[dt.date | None]
    record_reference: Mapped[str | None] = mapped_column(sa.Text)
    authority: Mapped[str | None] = mapped_column(sa.Text)
    status_before: Mapped[str] = mapped_column(sa.Text)
    status_after: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[created_at]


class CorrectionRequest(Base):
    """A change to one golden field with its evidence; identity fields need a second admin."""

    __tablename__ = "correction_request"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('pending', 'applied', 'rejected', 'reverted')", name="status"
        ),
    )

    id: Mapped[bigint_pk]
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    field: Mapped[str] = mapped_column(sa.Text)
    old_value: Mapped[Any | None] = mapped_column(JSONB)
    new_value: Mapped[Any | None] = mapped_column(JSONB)
    evidence: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.Text, server_default="pending")
    four_eyes: Mapped[bool]
    requested_by: Mapped[int | None]
    requested_by_label: Mapped[str] = mapped_column(sa.Text)
    decided_by: Mapped[int | None]
    decided_by_label: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[dt.datetime | None]
    reverted_by_label: Mapped[str | None] = mapped_column(sa.Text)
    reverted_at: Mapped[dt.datetime | None]
    revert_reason: Mapped[str | None] = mapped_column(sa.Text)
    version: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[created_at]
