"""`popdb clients`: API clients and their keys."""

from __future__ import annotations

import datetime as dt

import click

from popdb.cli.base import emit, main, session_for
from popdb.core.errors import PopdbError
from popdb.identity import clients as client_service


@main.group("clients")
def clients_group() -> None:
    """API clients: police units, agencies, administrators."""


def _expiry(value: str | None) -> dt.datetime | None:
    """An ISO date (end of access: midnight UTC starting that day) or date-time with zone."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(value), dt.time(), tzinfo=dt.UTC)
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise PopdbError(f"--expires must be an ISO date or date-time, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@clients_group.command("create")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(client_service.ROLES))
@click.option("--commune", "commune_code", help="5-digit commune code (police only)")
@click.option(
    "--fields",
    help="comma-separated fields an agency may receive from a lookup (`basic` = every "
    "non-sensitive field; ethnicity and religion only by name); none: verify only",
)
@click.option("--rate", type=int, help="requests per second allowed")
@click.option("--per-day", type=int, help="requests per day allowed (UTC days)")
@click.option(
    "--legal-basis",
    help="agency's legal basis, Decree 70/2024 art. 17: a, b, c, d or đ (consent); default a",
)
@click.option(
    "--operations",
    help="comma-separated: verify, verify_batch, lookup, predicates "
    "(default: verify, verify_batch, and lookup when --fields is given)",
)
@click.option(
    "--names",
    "name_matching",
    type=click.Choice(["exact", "fold"]),
    help="verify names exactly after normalization (default) or ignoring diacritics (fold)",
)
@click.option("--expires", help="ISO date or date-time after which the key is refused")
@click.pass_context
def clients_create(
    ctx: click.Context,
    name: str,
    role: str,
    commune_code: str | None,
    fields: str | None,
    rate: int | None,
    per_day: int | None,
    legal_basis: str | None,
    operations: str | None,
    name_matching: str | None,
    expires: str | None,
) -> None:
    """Create a client; prints {"client_id", "api_key"} once. Only a hash is kept."""
    from popdb.identity.policy import build_policy

    policy = build_policy(
        role=role, fields=fields, rate=rate, per_day=per_day, legal_basis=legal_basis,
        operations=operations, name_matching=name_matching,
    )  # fmt: skip
    expires_at = _expiry(expires)
    with session_for(ctx) as session:
        issued = client_service.create_client(
            session, name=name, role=role, commune_code=commune_code, policy=policy,
            expires_at=expires_at,
        )  # fmt: skip
    emit({"client_id": issued.client_id, "api_key": issued.api_key})


@clients_group.command("list")
@click.pass_context
def clients_list(ctx: click.Context) -> None:
    """List clients (never their keys)."""
    with session_for(ctx) as session:
        for c in client_service.list_clients(session):
            emit(
                {
                    "client_id": c.id, "name": c.name, "role": c.role,
                    "commune": c.commune_code, "active": c.active, "policy": c.policy,
                    "expires_at": c.expires_at, "suspended": c.suspended_reason,
                }
            )  # fmt: skip


@clients_group.command("revoke")
@click.argument("client_id", type=int)
@click.pass_context
def clients_revoke(ctx: click.Context, client_id: int) -> None:
    """Revoke a client: its key stops working at once."""
    with session_for(ctx) as session:
        client_service.revoke_client(session, client_id)
    emit({"client_id": client_id, "active": False})


@clients_group.command("rotate")
@click.argument("client_id", type=int)
@click.pass_context
def clients_rotate(ctx: click.Context, client_id: int) -> None:
    """Issue a new key for a client; the old key stops working at once."""
    with session_for(ctx) as session:
        issued = client_service.rotate_key(session, client_id)
    emit({"client_id": issued.client_id, "api_key": issued.api_key})


@clients_group.command("unblock")
@click.argument("client_id", type=int)
@click.pass_context
def clients_unblock(ctx: click.Context, client_id: int) -> None:
    """Lift a suspension set by enumeration detection, once the traffic has been reviewed."""
    with session_for(ctx) as session:
        client_service.unblock_client(session, client_id)
    emit({"client_id": client_id, "suspended": False})
