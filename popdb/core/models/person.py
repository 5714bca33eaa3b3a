"""Persons: clusters of source records with golden fields, their ID history and events."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from popdb.core.models.base import Base, bigint_pk, created_at, pg_enum
from popdb.core.models.citizen import CitizenFields, citizen_checks

PERSON_STATUS = pg_enum("person_status", "active", "deceased", "missing", "retired")
PIN_STATE = pg_enum("pin_state", "kept", "generated", "pending")
EVENT_KIND = pg_enum(
    "person_event_kind",
    "created", "linked", "merged", "unmerged", "field_changed", "status_changed", "pin_assigned",
    "correction", "household",
)  # fmt: skip


class Person(CitizenFields, Base):
    """A citizen. `version` guards concurrent edits (optimistic locking)."""

    __tablename__ = "person"
    __table_args__ = (
        sa.UniqueConstraint("personal_id_number"),
        sa.CheckConstraint(
            "(status = 'retired') = (merged_into_id IS NOT NULL)", name="retired_points_to_survivor"
        ),
        *citizen_checks(),
    )

    id: Mapped[bigint_pk]
    pin_state: Mapped[str] = mapped_column(PIN_STATE, server_default="pending")
    status: Mapped[str] = mapped_column(PERSON_STATUS, server_default="active")
    merged_into_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id"), index=True)
    version: Mapped[int] = mapped_column(server_default="1")
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime] = mapped_column(
        server_default=sa.func.now(), onupdate=sa.func.now()
    )

    __mapper_args__ = {"version_id_col": version}


class PersonPin(Base):
    """Every personal ID number a person has held: numbers are cancelled and re-issued."""

    __tablename__ = "person_pin"

    id: Mapped[bigint_pk]
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    #: unique: a number belongs to one person for ever, even after it is cancelled
    personal_id_number: Mapped[str] = mapped_column(sa.CHAR(12), unique=True)
    assigned_at: Mapped[created_at]
    retired_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(sa.Text)


class PersonEvent(Base):
    """Append-only history: with these, any past state of a person can be rebuilt."""

    __tablename__ = "person_event"

    id: Mapped[bigint_pk]
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id"), index=True)
    kind: Mapped[str] = mapped_column(EVENT_KIND)
    actor: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str | None] = mapped_column(sa.Text)
    data: Mapped[dict[str, Any]] = mapped_column(server_default=sa.text("'{}'::jsonb"))
    created_at: Mapped[created_at]
