"""What every `popdb` command shares: the group, its error handling, settings and sessions.

Long work shows progress on a terminal (stderr) and every command that does work ends
with a one-line JSON summary on stdout, for scripts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click
import sqlalchemy as sa
from sqlalchemy.orm import Session

from popdb.core import db, logs
from popdb.core.errors import PopdbError
from popdb.core.settings import Settings


def emit(summary: dict[str, Any]) -> None:
    click.echo(json.dumps(summary, ensure_ascii=False, default=str))


class PopdbGroup(click.Group):
    """Turns domain errors into a one-line message and exit code 2, never a traceback; a
    database that cannot be reached (or goes away mid-command) likewise, with exit code 3."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PopdbError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(2)
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            click.echo(f"error: the database is not reachable ({reason}); what this command "
                       f"was doing was rolled back: run it again once the database is back",
                       err=True)  # fmt: skip
            sys.exit(3)


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
def session_for(
    ctx: click.Context, *, prepare: bool = True, owner: bool = False
) -> Iterator[Session]:
    """A unit of work as the service role, or as the schema's owner (`owner`: the
    maintenance commands that detach, attach or create partitions)."""
    settings = settings_of(ctx)
    if prepare:
        from popdb.ops.bootstrap import prepare_database

        engine = prepare_database(settings)
    else:
        engine = db.get_engine(settings)
    if owner:
        engine = db.get_owner_engine(settings)
    with db.session_scope(engine) as session:
        yield session
