"""API clients and their keys. A key is shown once; only its SHA-256 is stored.

Keys are 256-bit random secrets, so a fast hash is enough: there is nothing to brute-force.
Every change to a client (created, revoked, rotated, suspended, unblocked) is an audit event
in the same transaction; the key itself never reaches the audit chain or a log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import audit
from popdb.core.errors import InvalidInput, NotFound
from popdb.core.models import ApiClient

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
    expires_at: dt.datetime | None = None,
    actor: audit.Actor | None = None,
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
    if expires_at is not None and expires_at.tzinfo is None:
        raise InvalidInput("an expiry needs a time zone (e.g. 2027-01-01T00:00:00+07:00)")
    key = new_key()
    client = ApiClient(
        name=name,
        role=role,
        commune_code=commune_code,
        policy=policy or {},
        key_hash=hash_key(key),
        expires_at=expires_at,
    )
    session.add(client)
    session.flush()
    _audit(session, actor, "client.created", client, policy=client.policy)
    return IssuedKey(client.id, key)


def _audit(
    session: Session, actor: audit.Actor | None, action: str, client: ApiClient, **detail: Any
) -> None:
    audit.record(
        session,
        actor=actor or audit.Actor.operator(),
        action=action,
        subject_type="api_client",
        subject_id=client.id,
        detail={
            "name": client.name,
            "role": client.role,
            "commune_code": client.commune_code,
            "expires_at": client.expires_at.isoformat() if client.expires_at else None,
            **detail,
        },
    )


def refusal(client: ApiClient, now: dt.datetime | None = None) -> tuple[str, str] | None:
    """Why an authenticated client may not call anything now: (code, message), or None."""
    now = now or dt.datetime.now(dt.UTC)
    if client.expires_at is not None and client.expires_at <= now:
        return "client_expired", f"This client's access expired at {client.expires_at.isoformat()}."
    if client.suspended_at is not None:
        return "client_suspended", (
            "This client is suspended ("
            + (client.suspended_reason or "no reason recorded")
            + "); ask the registry's administrators to review and unblock it."
        )
    return None


def authenticate(session: Session, api_key: str) -> ApiClient | None:
    """The active client holding `api_key`, or None."""
    if not api_key.startswith(KEY_PREFIX) or len(api_key) > 200:
        return None
    return session.scalar(
        sa.select(ApiClient).where(ApiClient.key_hash == hash_key(api_key), ApiClient.active)
    )


def list_clients(session: Session) -> list[ApiClient]:
    return list(session.scalars(sa.select(ApiClient).order_by(ApiClient.id)))


def revoke_client(
    session: Session, client_id: int, *, actor: audit.Actor | None = None
) -> ApiClient:
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    client.active = False
    client.revoked_at = dt.datetime.now(dt.UTC)
    session.flush()
    _audit(session, actor, "client.revoked", client)
    return client


def rotate_key(session: Session, client_id: int, *, actor: audit.Actor | None = None) -> IssuedKey:
    """Give a client a new key; the old one stops working at once."""
    client = session.get(ApiClient, client_id)
    if client is None or not client.active:
        raise NotFound(f"no active client {client_id}")
    key = new_key()
    client.key_hash = hash_key(key)
    session.flush()
    _audit(session, actor, "client.rotated", client)
    return IssuedKey(client.id, key)


def suspend_client(
    session: Session, client: ApiClient, reason: str, *, actor: audit.Actor | None = None
) -> None:
    """Block a client until an operator unblocks it (enumeration detection does this)."""
    if client.suspended_at is not None:
        return
    client.suspended_at = dt.datetime.now(dt.UTC)
    client.suspended_reason = reason
    session.flush()
    _audit(session, actor or audit.Actor.of(client), "client.suspended", client, reason=reason)


def unblock_client(
    session: Session, client_id: int, *, actor: audit.Actor | None = None
) -> ApiClient:
    """Lift a suspension after the agency's traffic has been reviewed."""
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"no client {client_id}")
    reason = client.suspended_reason
    client.suspended_at = None
    client.suspended_reason = None
    session.flush()
    _audit(session, actor, "client.unblocked", client, lifted=reason)
    return client
