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


# --- yearly partitions: archive and attach back (popdb.core.partitions) ---------------------


@audit_group.command("archive")
@click.option("--before", "before", required=True, type=int,
              help="detach every yearly audit partition of the years before this one")  # fmt: skip
@click.pass_context
def audit_archive(ctx: click.Context, before: int) -> None:
    """Detach the audit years before YEAR (oldest part of the chain only) for archiving.

    The tables stay in the database, outside the chain, until dumped and dropped
    (docs/operations.md); `popdb audit verify` goes on from the recorded cut."""
    from popdb.core import audit, partitions

    with session_for(ctx, owner=True) as session:
        detached = partitions.detach_audit_before(session.connection(), before)
        if detached:
            audit.record(session, actor=audit.Actor.operator(), action="audit_archived",
                         detail={"partitions": [d.as_json() for d in detached]})  # fmt: skip
    emit({"detached": [d.as_json() for d in detached]})


@audit_group.command("reattach")
@click.pass_context
def audit_reattach(ctx: click.Context) -> None:
    """Attach every archived audit year back (restore dropped ones from their dumps first)."""
    from popdb.core import audit, partitions

    with session_for(ctx, owner=True) as session:
        names = partitions.attach_archived_audit(session.connection())
        if names:
            audit.record(session, actor=audit.Actor.operator(), action="audit_reattached",
                         detail={"partitions": names})  # fmt: skip
    emit({"attached": names})


@audit_group.command("partitions")
@click.option("--through", type=int, default=None, help="last year to create (default: next)")
@click.pass_context
def audit_partitions(ctx: click.Context, through: int | None) -> None:
    """Create the yearly audit partitions still missing up to next year; run it yearly."""
    from popdb.core import partitions

    with session_for(ctx, owner=True) as session:
        made = partitions.ensure_audit_years(session.connection(), through)
    emit({"created": made})
