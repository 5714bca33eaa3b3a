"""`popdb backup` and `popdb restore`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from popdb.cli.base import emit, main, settings_of
from popdb.core import db
from popdb.ops import migrate


def _table_progress() -> Any:
    from popdb.core.progress import Progress

    bar = Progress(total=None, enabled=sys.stderr.isatty(), unit="tables")

    def update(done: int, total: int) -> None:
        bar.total = total
        bar(done)

    return bar, update


@main.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def backup_cmd(ctx: click.Context, file: Path) -> None:
    """Write a backup of the database in use to FILE (pg_dump custom format)."""
    from popdb.ops import backup

    url = db.owner_database_url(settings_of(ctx))  # the owner reads every table whole
    bar, update = _table_progress()
    try:
        outcome = backup.backup(url, file, progress=update)
    finally:
        bar.close()
    emit(outcome.as_dict())


@main.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace what a non-empty database holds")
@click.pass_context
def restore_cmd(ctx: click.Context, file: Path, force: bool) -> None:
    """Restore a backup written by `popdb backup` into the database in use, in one transaction."""
    from popdb.ops import backup

    backup.check_archive(file)  # before starting a server for a file that is no backup
    url = db.owner_database_url(settings_of(ctx))  # creates the schema: the owner's work
    bar, update = _table_progress()
    try:
        outcome = backup.restore(url, file, force=force, progress=update)
    finally:
        bar.close()
    settings = settings_of(ctx)
    if not db.runs_as_owner(settings):  # pg_restore brings no grants: the service's again
        from popdb.ops import roles

        with db.get_owner_engine(settings).begin() as conn:
            roles.grant_service(conn, roles.service_role_of(db.database_url(settings)))
    emit(outcome.as_dict())
    if outcome.revision != migrate.head_revision():
        click.echo(f"the restored schema is at {outcome.revision}, not at this version's head "
                   f"{migrate.head_revision()}: run `popdb db upgrade`", err=True)  # fmt: skip
