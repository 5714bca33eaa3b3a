"""`popdb db`: where the database is, the embedded server, migrations."""

from __future__ import annotations

from typing import Any

import click
import sqlalchemy as sa

from popdb.cli.base import emit, main, settings_of
from popdb.core import db, embedded
from popdb.ops import migrate


@main.group("db")
def db_group() -> None:
    """The database: where it is, start/stop the embedded server, migrate."""


@db_group.command("url")
@click.option("--owner", is_flag=True,
              help="the schema owner's URL (migrations) instead of the service's")  # fmt: skip
@click.pass_context
def db_url(ctx: click.Context, owner: bool) -> None:
    """Print the service's SQLAlchemy URL, the one `serve` uses (starts the embedded server
    and migrates if needed); `--owner`: the owner's, for migrations only."""
    from popdb.ops.bootstrap import prepare_database

    settings = settings_of(ctx)
    engine = prepare_database(settings)
    if owner:
        engine = db.get_owner_engine(settings)
    click.echo(engine.url.render_as_string(hide_password=False))


@db_group.command("start")
@click.pass_context
def db_start(ctx: click.Context) -> None:
    """Start the embedded server (it keeps running until `popdb db stop`)."""
    settings = settings_of(ctx)
    if settings.database_url:
        raise click.UsageError("DATABASE_URL is set: popdb does not manage that server")
    embedded.ensure_running(settings.pgdata)
    # the service's URL: the owner's is printed only when asked for (`db url --owner`)
    emit({"running": True, "url": db.database_url(settings), "pgdata": str(settings.pgdata)})


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
    engine = db.get_owner_engine(settings)
    out["service_runs_as_owner"] = db.runs_as_owner(settings)
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
    from popdb.ops.bootstrap import prepare_database

    engine = prepare_database(settings_of(ctx))
    emit({"revision": migrate.current_revision(engine)})


# --- archive: a province's (or some batches') records detached (popdb.core.partitions) ------


def _batches_of(
    session: Any, batch_ids: tuple[int, ...], province: str | None, *, archived: bool
) -> list[int]:
    from popdb.core import partitions

    if bool(batch_ids) == bool(province):
        raise click.UsageError("give --batch (one or more) or --province, not both")
    if province:
        return partitions.province_batches(session.connection(), province, archived=archived)
    return list(batch_ids)


@db_group.command("archive")
@click.option("--batch", "batch_ids", type=int, multiple=True, help="a batch id (repeatable)")
@click.option("--province", default=None, help="every batch of this province's communes")
@click.pass_context
def db_archive(ctx: click.Context, batch_ids: tuple[int, ...], province: str | None) -> None:
    """Detach the batches' source_record and match_candidate partitions for archiving: the
    registry no longer reads them; dump and drop them as docs/operations.md says."""
    from popdb.cli.base import session_for
    from popdb.core import audit, partitions

    with session_for(ctx, owner=True) as session:
        batches = _batches_of(session, batch_ids, province, archived=False)
        if province:  # its batches' own partitions and its folded one
            detached = partitions.detach_province(session.connection(), province)
        else:
            detached = partitions.detach_batches(session.connection(), batches)
        audit.record(session, actor=audit.Actor.operator(), action="records_archived",
                     detail={"batches": batches, "province": province})  # fmt: skip
    emit({"batches": batches, "detached": [d.as_json() for d in detached]})


@db_group.command("reattach")
@click.option("--batch", "batch_ids", type=int, multiple=True, help="a batch id (repeatable)")
@click.option("--province", default=None, help="every batch of this province's communes")
@click.pass_context
def db_reattach(ctx: click.Context, batch_ids: tuple[int, ...], province: str | None) -> None:
    """Attach archived batches' partitions back (restore dropped ones from their dumps)."""
    from popdb.cli.base import session_for
    from popdb.core import audit, partitions

    with session_for(ctx, owner=True) as session:
        batches = _batches_of(session, batch_ids, province, archived=True)
        if province:
            names = partitions.attach_archived_province(session.connection(), province)
        else:
            names = partitions.attach_archived_batches(session.connection(), batches)
        audit.record(session, actor=audit.Actor.operator(), action="records_reattached",
                     detail={"batches": batches, "province": province})  # fmt: skip
    emit({"batches": batches, "attached": names})


@db_group.command("fold")
@click.option("--province", "provinces", multiple=True,
              help="a province code (repeatable); default: every one with batches to fold")
@click.pass_context
def db_fold(ctx: click.Context, provinces: tuple[str, ...]) -> None:
    """Fold each province's matched batches into its one partition of source_record and
    match_candidate, so reads that do not name a batch plan over a few partitions, not one
    per batch (docs/operations.md, "Limits"). Rows and ids are unchanged. Run it after busy
    upload periods, e.g. nightly."""
    from popdb.cli.base import session_for
    from popdb.core import audit, partitions

    out = []
    with session_for(ctx, owner=True) as session:
        chosen = list(provinces) or partitions.provinces_to_fold(session.connection())
    for province in chosen:
        while True:  # a transaction per FOLD_BATCHES batches (the lock table's limit)
            with session_for(ctx, owner=True, prepare=False) as session:
                folded = partitions.fold_province(session.connection(), province)
                if folded.batches:
                    audit.record(session, actor=audit.Actor.operator(),
                                 action="records_folded", detail=folded.as_json())  # fmt: skip
            if not folded.batches:
                break
            out.append(folded.as_json())
    emit({"folded": out})


# --- read replicas (popdb/ops/replicas.py, docs/operations.md "Replicas and failover") ------


@db_group.group("replica")
def replica_group() -> None:
    """Hot standbys of the embedded server: start, stop, status, promote (opt-in)."""


@replica_group.command("start")
@click.option("--name", default="r1", show_default=True, help="replica name (a-z, 0-9, _)")
@click.option("--sync", "synchronous", is_flag=True,
              help="the primary's commits wait for this replica (no loss on failover)")  # fmt: skip
@click.pass_context
def replica_start(ctx: click.Context, name: str, synchronous: bool) -> None:
    """Make (pg_basebackup, first time) and start a replica; agency reads then use it."""
    from popdb.ops import replicas

    emit(replicas.start(settings_of(ctx), name, synchronous=synchronous))


@replica_group.command("stop")
@click.option("--name", default="r1", show_default=True)
@click.option("--remove", is_flag=True, help="also delete its copy and replication slot")
@click.pass_context
def replica_stop(ctx: click.Context, name: str, remove: bool) -> None:
    """Stop a replica (reads go back to the primary)."""
    from popdb.ops import replicas

    emit(replicas.stop(settings_of(ctx), name, remove=remove))


@replica_group.command("status")
@click.pass_context
def replica_status(ctx: click.Context) -> None:
    """Each replica: running, streaming, lag as the router measures it."""
    from popdb.core import replicas as routing
    from popdb.ops import replicas

    settings = settings_of(ctx)
    out: dict[str, Any] = {"max_lag_s": settings.replica_max_lag_s,
                           "routing": routing.status(settings)}  # fmt: skip
    if not settings.database_url:
        out["embedded"] = replicas.status(settings)
    emit(out)


@replica_group.command("promote")
@click.option("--name", default="r1", show_default=True)
@click.pass_context
def replica_promote(ctx: click.Context, name: str) -> None:
    """After the primary died: make the replica a primary (see docs/operations.md)."""
    from popdb.ops import replicas

    emit(replicas.promote(settings_of(ctx), name))
