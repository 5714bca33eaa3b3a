"""API clients: police units, agencies, administrators. Only a hash of each key is stored."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from popdb.core.models.base import Base, bigint_pk, created_at, pg_enum

ROLE = pg_enum("client_role", "police", "agency", "admin")


class ApiClient(Base):
    __tablename__ = "api_client"
    __table_args__ = (
        sa.CheckConstraint(
            "(role = 'police') = (commune_code IS NOT NULL)", name="police_has_commune"
        ),
        sa.CheckConstraint("commune_code ~ '^[0-9]{5}$'", name="commune_code_format"),
    )

    id: Mapped[bigint_pk]
    name: Mapped[str] = mapped_column(sa.Text)
    role: Mapped[str] = mapped_column(ROLE)
    commune_code: Mapped[str | None] = mapped_column(sa.String(5))
    policy: Mapped[dict[str, Any]] = mapped_column(server_default=sa.text("'{}'::jsonb"))
    key_hash: Mapped[str] = mapped_column(sa.CHAR(64), unique=True)
    active: Mapped[bool] = mapped_column(server_default=sa.true())
    created_at: Mapped[created_at]
    revoked_at: Mapped[dt.datetime | None]
    #: after this moment the key is refused (agencies' agreements end)
    expires_at: Mapped[dt.datetime | None]
    #: set when enumeration detection blocks the client; cleared by `popdb clients unblock`
    suspended_at: Mapped[dt.datetime | None]
    suspended_reason: Mapped[str | None] = mapped_column(sa.Text)
