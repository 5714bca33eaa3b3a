"""Per-client usage counters: rate limits and enumeration detection shared by every worker."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from popdb.core.models.base import Base


class ClientUsage(Base):
    """Hits of one client in one time bucket of one kind ("second", "day", "miss").

    Kept in PostgreSQL, not in a worker's memory, so that limits hold across gunicorn
    worker processes and machines. Rows older than a day are deleted as new days begin.
    """

    __tablename__ = "client_usage"

    client_id: Mapped[int] = mapped_column(
        sa.BigInteger, sa.ForeignKey("api_client.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(sa.String(8), primary_key=True)
    bucket: Mapped[dt.datetime] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(server_default="0")
