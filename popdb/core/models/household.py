"""Households (the household book, kept in the registry since 2023) and dated memberships."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from popdb.core.models.base import Base, bigint_pk, created_at


class Household(Base):
    """One household of one commune. `household_key` is how uploads find it again:
    `no:<household number>` when the file carries a household number ("Số hộ"), else
    `addr:<address key>` of the normalised address (`popdb.registry.households`)."""

    __tablename__ = "household"
    __table_args__ = (
        sa.UniqueConstraint("commune_code", "household_key"),
        sa.CheckConstraint("commune_code ~ '^[0-9]{5}$'", name="commune_code_format"),
    )

    id: Mapped[bigint_pk]
    commune_code: Mapped[str] = mapped_column(sa.String(5))
    household_key: Mapped[str] = mapped_column(sa.Text)
    household_number: Mapped[str | None] = mapped_column(sa.Text)
    address: Mapped[str | None] = mapped_column(sa.Text)
    created_batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("import_batch.id"))
    created_at: Mapped[created_at]


class HouseholdMembership(Base):
    """A person in a household, with their relation to the head (a slug of
    `codes.HOUSEHOLD_RELATIONS`), from `valid_from` (the collection date of the upload that
    placed them) to `valid_to` (exclusive; open while current). A move ends one membership
    and starts another; nothing is deleted. `person_id` follows the source record through
    merges and unmerges. `source_record_id` has no foreign key: source records are never
    deleted, and the key would bind this table to `source_record`'s partitioning."""

    __tablename__ = "household_membership"
    __table_args__ = (
        sa.CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates_in_order"),
        sa.CheckConstraint("(valid_to IS NULL) = (ended_at IS NULL)", name="ended_when_dated"),
    )

    id: Mapped[bigint_pk]
    household_id: Mapped[int] = mapped_column(sa.ForeignKey("household.id"), index=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    relation: Mapped[str | None] = mapped_column(sa.Text)
    valid_from: Mapped[dt.date]
    valid_to: Mapped[dt.date | None]
    source_record_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batch.id"))
    started_by: Mapped[str] = mapped_column(sa.Text)
    start_reason: Mapped[str] = mapped_column(sa.Text)
    ended_at: Mapped[dt.datetime | None]
    ended_by: Mapped[str | None] = mapped_column(sa.Text)
    end_reason: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[created_at]


#: One current household per person.
sa.Index(
    "ix_household_membership_current",
    HouseholdMembership.person_id,
    unique=True,
    postgresql_where=HouseholdMembership.valid_to.is_(None),
)


class HouseholdBatch(Base):
    """A batch whose rows have been turned into memberships (so each batch is read once)."""

    __tablename__ = "household_batch"

    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("import_batch.id"), primary_key=True)
    households: Mapped[int]
    memberships: Mapped[int]
    skipped: Mapped[int]
    derived_at: Mapped[dt.datetime] = mapped_column(server_default=sa.func.now())
