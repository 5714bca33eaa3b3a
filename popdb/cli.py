"""The `popdb` command. Thin: each command opens a session and calls library code.

Long work shows progress on a terminal (stderr) and every command that does work ends
with a one-line JSON summary on stdout, for scripts.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb import clients as client_service
from popdb import db, embedded, logs, migrate
from popdb.errors import PopdbError
from popdb.settings import Settings


def emit(summary: dict[str, Any]) -> None:
    click.echo(json.dumps(summary, ensure_ascii=False, default=str))


class PopdbGroup(click.Group):
    """Turns domain errors into a one-line message and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PopdbError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(2)


@click.group(cls=PopdbGroup)
@click.pass_context
def main(ctx: click.Context) -> None:
    """popdb: the national population registry."""
    settings = Settings.from_env()
    logs.configure(settings.log_level if sys.stderr.isatty() else "WARNING")
    ctx.obj = settings


def settings_of(ctx: click.Context) -> Settings:
    return ctx.find_root().obj


@contextmanager
def session_for(ctx: click.Context, *, prepare: bool = True) -> Iterator[Session]:
    settings = settings_of(ctx)
    if prepare:
        from popdb.bootstrap import prepare_database

        engine = prepare_database(settings)
    else:
        engine = db.get_engine(settings)
    with db.session_scope(engine) as session:
        yield session


# --- serve -------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", type=int, default=None, help="gunicorn workers (POPDB_WEB_WORKERS)")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None) -> None:
    """Database up, migrations applied, reference data loaded, API and admin pages served."""
    from popdb.bootstrap import prepare_database

    settings = settings_of(ctx)
    # Workers share metrics through files; set before prometheus_client is first imported.
    metrics_dir = settings.home / "run" / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from api.server import run_server  # noqa: I001 (after the environment is set)

    started_here = not settings.database_url and not embedded.status(settings.pgdata).running
    try:
        prepare_database(settings).dispose()
        click.echo(f"popdb serving on http://{host}:{port}  (docs: /docs)", err=True)
        run_server(
            settings,
            host=host,
            port=port,
            workers=workers or settings.web_workers,
            metrics_dir=str(metrics_dir),
        )
    finally:
        if started_here:
            embedded.stop(settings.pgdata)
            click.echo("embedded PostgreSQL stopped", err=True)


# --- db ----------------------------------------------------------------------------------


@main.group("db")
def db_group() -> None:
    """The database: where it is, start/stop the embedded server, migrate."""


@db_group.command("url")
@click.pass_context
def db_url(ctx: click.Context) -> None:
    """Print the SQLAlchemy URL in use (starts the embedded server and migrates if needed)."""
    from popdb.bootstrap import prepare_database

    engine = prepare_database(settings_of(ctx))
    click.echo(engine.url.render_as_string(hide_password=False))


@db_group.command("start")
@click.pass_context
def db_start(ctx: click.Context) -> None:
    """Start the embedded server (it keeps running until `popdb db stop`)."""
    settings = settings_of(ctx)
    if settings.database_url:
        raise click.UsageError("DATABASE_URL is set: popdb does not manage that server")
    url = embedded.ensure_running(settings.pgdata)
    emit({"running": True, "url": url, "pgdata": str(settings.pgdata)})


@db_group.command("stop")
@click.pass_context
def db_stop(ctx: click.Context) -> None:
    """Stop the embedded server."""
    settings = settings_of(ctx)
    if settings.database_url:
        raise click.UsageError("DATABASE_URL is set: popdb does not manage that server")
    emit({"stopped": embedded.stop(settings.pgdata)})


@db_group.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Is the database reachable, and is its schema at head?"""
    settings = settings_of(ctx)
    out: dict[str, Any] = {"external": bool(settings.database_url)}
    if not settings.database_url:
        st = embedded.status(settings.pgdata)
        out.update(running=st.running, pid=st.pid, pgdata=str(settings.pgdata))
        if not st.running:
            emit(out)
            return
    engine = db.get_engine(settings)
    try:
        out["revision"] = migrate.current_revision(engine)
        out["head"] = migrate.head_revision()
        out["at_head"] = out["revision"] == out["head"]
    except sa.exc.OperationalError as exc:
        out["error"] = str(exc.orig).strip().splitlines()[0]
    emit(out)


@db_group.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Apply migrations up to head and (re)load reference data."""
    from popdb.bootstrap import prepare_database

    engine = prepare_database(settings_of(ctx))
    emit({"revision": migrate.current_revision(engine)})


# --- clients -----------------------------------------------------------------------------


@main.group("clients")
def clients_group() -> None:
    """API clients: police units, agencies, administrators."""


@clients_group.command("create")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(client_service.ROLES))
@click.option("--commune", "commune_code", help="5-digit commune code (police only)")
@click.option("--fields", help="comma-separated fields an agency may receive from a lookup")
@click.option("--rate", type=int, help="requests per second allowed")
@click.pass_context
def clients_create(
    ctx: click.Context,
    name: str,
    role: str,
    commune_code: str | None,
    fields: str | None,
    rate: int | None,
) -> None:
    """Create a client; prints {"client_id", "api_key"} once. Only a hash is kept."""
    from popdb.policy import build_policy

    policy = build_policy(role=role, fields=fields, rate=rate)
    with session_for(ctx) as session:
        issued = client_service.create_client(
            session, name=name, role=role, commune_code=commune_code, policy=policy
        )
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
