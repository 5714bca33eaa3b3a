"""What happens to a person after the records are linked: life events, households,
corrections, and the communes whose batches wait for a match preview."""

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


class Household(Base):
    """A household of the household book: an address in a commune, and its head."""

    __tablename__ = "household"
    __table_args__ = (sa.Index("ix_household_place", "commune_code", "address_key"),)

    id: Mapped[bigint_pk]
    commune_code: Mapped[str] = mapped_column(sa.String(5))
    address: Mapped[str] = mapped_column(sa.Text)
    address_key: Mapped[str] = mapped_column(sa.Text)
    head_person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    source_batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batch.id"))
    created_at: Mapped[created_at]


class HouseholdMember(Base):
    """A dated membership: a move ends one (`ended_on`) and starts another."""

    __tablename__ = "household_member"
    __table_args__ = (
        sa.CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="dates_in_order"),
        sa.Index(
            "uq_household_member_open", "person_id", unique=True,
            postgresql_where=sa.text("ended_on IS NULL"),
        ),  # fmt: skip
    )

    id: Mapped[bigint_pk]
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    #: relationship to the head, as a `codes.HOUSEHOLD_RELATIONS` slug
    relation: Mapped[str | None] = mapped_column(sa.Text)
    started_on: Mapped[dt.date]
    ended_on: Mapped[dt.date | None]
    source_record_id: Mapped[int | None] = mapped_column(sa.ForeignKey("source_record.id"))
    actor: Mapped[str] = mapped_column(sa.Text)
    end_reason: Mapped[str | None] = mapped_column(sa.Text)
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


class MatchPreviewCommune(Base):
    """A commune whose batches wait at `loaded` for a match preview before matching."""

    __tablename__ = "match_preview_commune"

    commune_code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    set_by: Mapped[str] = mapped_column(sa.Text)
    set_at: Mapped[created_at]
