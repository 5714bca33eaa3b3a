"""Declarative base with a constraint naming convention, so migrations and errors name things."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

bigint_pk = Annotated[int, mapped_column(sa.BigInteger, primary_key=True, autoincrement=True)]
created_at = Annotated[
    dt.datetime,
    mapped_column(sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
]


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dict[str, Any]: JSONB,
        list[Any]: JSONB,
        dt.datetime: sa.DateTime(timezone=True),
    }


def pg_enum(name: str, *values: str) -> sa.Enum:
    """A PostgreSQL enum whose Python side is the plain string."""
    return sa.Enum(*values, name=name, native_enum=True, create_constraint=False)
