"""Administrative units per dated vintage, and the 2025 old→new commune table."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from popdb.core.models.base import Base, pg_enum

UNIT_LEVEL = pg_enum("unit_level", "province", "district", "commune")


class AdminVintage(Base):
    """One official list; a commune code means nothing without it."""

    __tablename__ = "admin_vintage"

    key: Mapped[str] = mapped_column(sa.String(7), primary_key=True)  # "2025-07"
    in_force_from: Mapped[dt.date] = mapped_column(unique=True)
    source_file: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.CHAR(64))


class AdminUnit(Base):
    __tablename__ = "admin_unit"
    __table_args__ = (
        sa.CheckConstraint(
            "(level = 'province' AND code ~ '^[0-9]{2}$') OR "
            "(level = 'district' AND code ~ '^[0-9]{3}$') OR "
            "(level = 'commune' AND code ~ '^[0-9]{5}$')",
            name="code_format",
        ),
    )

    vintage: Mapped[str] = mapped_column(
        sa.ForeignKey("admin_vintage.key", ondelete="CASCADE"), primary_key=True
    )
    level: Mapped[str] = mapped_column(UNIT_LEVEL, primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(5), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    division_type: Mapped[str | None] = mapped_column(sa.Text)
    parent_code: Mapped[str | None] = mapped_column(sa.String(5))
    province_code: Mapped[str] = mapped_column(sa.String(2))


class AdminUnitChange(Base):
    """The 2025-07 conversion table: one row per (old commune, new commune) pair."""

    __tablename__ = "admin_unit_change"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    old_code: Mapped[str | None] = mapped_column(sa.String(5), index=True)  # None: an uncoded area
    old_name: Mapped[str | None] = mapped_column(sa.Text)
    old_district: Mapped[str | None] = mapped_column(sa.Text)
    old_province: Mapped[str | None] = mapped_column(sa.Text)
    new_code: Mapped[str] = mapped_column(sa.String(5), index=True)
    new_name: Mapped[str] = mapped_column(sa.Text)
    new_province: Mapped[str] = mapped_column(sa.Text)
    note: Mapped[str | None] = mapped_column(sa.Text)
