"""`popdb batches`: the match preview from the command line: held batches, a batch's dry
run, its release, and the communes whose uploads are held."""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING

import click

from popdb.cli.base import emit, main, session_for

if TYPE_CHECKING:
    from popdb.core.audit import Actor


def _actor(name: str | None) -> Actor:
    """The operator at the terminal, named in the audit chain and on the persons made."""
    from popdb.core import audit

    return audit.Actor.operator(name or getpass.getuser())


_AS = click.option("--as", "operator", help="operator name for the audit chain "
                   "(default: the login name)")  # fmt: skip


@main.group("batches")
def batches_group() -> None:
    """Import batches held for a match preview."""


@batches_group.command("held")
@click.option("--commune", "commune_code", help="only this commune's batches")
@click.pass_context
def batches_held(ctx: click.Context, commune_code: str | None) -> None:
    """List the batches waiting for a preview, oldest first."""
    from popdb.registry import preview

    with session_for(ctx) as session:
        emit({"items": preview.held_batches(session, commune_code=commune_code)})


@batches_group.command("preview")
@click.argument("batch_id", type=int)
@click.option("--examples", default=5, show_default=True, type=click.IntRange(0, 50),
              help="records shown per class (link, new, review)")  # fmt: skip
@_AS
@click.pass_context
def batches_preview(ctx: click.Context, batch_id: int, examples: int, operator: str | None) -> None:
    """What matching would make of held batch BATCH_ID (a dry run, rolled back; the read is
    in the audit chain)."""
    from popdb.registry import preview

    with session_for(ctx) as session:
        outcome = preview.preview(session, batch_id, actor=_actor(operator), examples=examples)
    emit(outcome.as_dict())


@batches_group.command("release")
@click.argument("batch_id", type=int)
@click.option("--reason", required=True, help="why the batch may be matched")
@_AS
@click.pass_context
def batches_release(ctx: click.Context, batch_id: int, reason: str, operator: str | None) -> None:
    """Release held batch BATCH_ID: its records are matched into persons now and the batch
    ends `matched`."""
    from popdb.registry import preview

    with session_for(ctx) as session:
        outcome = preview.release(session, batch_id, actor=_actor(operator), reason=reason)
    emit(outcome.as_dict())


@batches_group.command("hold")
@click.argument("commune_code")
@click.option("--off", is_flag=True, help="stop holding: uploads match as they load")
@click.option("--reason", required=True, help="why the setting changes")
@_AS
@click.pass_context
def batches_hold(
    ctx: click.Context, commune_code: str, off: bool, reason: str, operator: str | None
) -> None:
    """Hold COMMUNE_CODE's future uploads for a match preview (or, with --off, stop)."""
    from popdb.registry import preview

    with session_for(ctx) as session:
        out = preview.set_commune_preview(session, commune_code, not off,
                                          actor=_actor(operator), reason=reason)  # fmt: skip
    emit(out)
