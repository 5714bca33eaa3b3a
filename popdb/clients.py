"""API clients and their keys. A key is shown once; only its SHA-256 is stored.

Keys are 256-bit random secrets, so a fast hash is enough: there is nothing to brute-force.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.errors import InvalidInput, NotFound
from popdb.models import ApiClient

ROLES = ("police", "agency", "admin")
KEY_PREFIX = "pdb_"


@dataclass(frozen=True)
class IssuedKey:
    client_id: int
    api_key: str


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create_client(
    session: Session,
    *,
    name: str,
    role: str,
    commune_code: str | None = None,
    policy: dict[str, Any] | None = None,
) -> IssuedKey:
    """Register a client and return its key, which is never stored or shown again."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("a client needs a name")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if role == "police":
        if not commune_code or not (len(commune_code) == 5 and commune_code.isdigit()):
            raise InvalidInput("a police client needs --commune, a 5-digit commune code")
    elif commune_code:
        raise InvalidInput("only police clients belong to a commune")
    key = new_key()
    client = ApiClient(
        name=name, role=role, commune_code=commune_code, policy=policy or {}, key_hash=hash_key(key)
    )
    session.add(client)
    session.flush()
    return IssuedKey(client.id, key)


def authenticate(session: Session, api_key: str) -> ApiClient | None:
    """The active client holding `api_key`, or None."""
    if not api_key.startswith(KEY_PREFIX) or len(api_key) > 200:
        return None
    return session.scalar(
        sa.select(ApiClient).where(ApiClient.key_hash == hash_key(api_key), ApiClient.active)
    )


def list_clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(sa.select(ApiClient).order_by(ApiClient.id)))


def revoke_client(session: Session, client_id: int) -> ApiClient:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    client.active = False
    client.revoked_at = dt.datetime.now(dt.UTC)
    session.flush()
    return client


def rotate_key(session: Session, client_id: int) -> IssuedKey:
    """Give a client a new key; the old one stops working at once."""
    client = session.get(ApiClient, client_id)
    if client is None or not client.active:
        raise NotFound(f"no active client {client_id}")
    key = new_key()
    client.key_hash = hash_key(key)
    session.flush()
    return IssuedKey(client.id, key)
