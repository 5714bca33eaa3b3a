"""`popdb audit`: the hash chain checked and anchored."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from popdb.cli.base import emit, main, session_for


@main.group("audit")
def audit_group() -> None:
    """The tamper-evident audit chain."""


@audit_group.command("verify")
@click.option(
    "--anchor",
    "anchor_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="an anchor file written earlier by `popdb audit anchor`: detects a cut tail",
)
@click.pass_context
def audit_verify(ctx: click.Context, anchor_file: Path | None) -> None:
    """Recompute the hash chain; exit 1 naming the first bad row."""
    from popdb.core import audit

    against = audit.Anchor.read(anchor_file) if anchor_file else None
    with session_for(ctx) as session:
        verdict = audit.verify(session.connection(), against)
    emit(verdict.summary())
    if not verdict.ok:
        click.echo(f"audit chain broken at {verdict.first_bad_id}: {verdict.problem}", err=True)
        sys.exit(1)


@audit_group.command("anchor")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def audit_anchor(ctx: click.Context, out: Path) -> None:
    """Write the chain's head hash and time to FILE; keep it away from the database."""
    from popdb.core import audit

    with session_for(ctx) as session:
        head = audit.anchor(session)
    head.write(out)
    emit({**head.__dict__, "file": str(out)})
