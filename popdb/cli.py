"""The `popdb` command. Thin: each command opens a session and calls library code.

Long work shows progress on a terminal (stderr) and every command that does work ends
with a one-line JSON summary on stdout, for scripts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
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
@click.option(
    "--demo",
    "demo_persons",
    type=int,
    default=0,
    help="load N synthetic persons first when the registry is empty (scripts/serve: 1000)",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int | None, demo_persons: int) -> None:
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
    import_worker: subprocess.Popen[bytes] | None = None
    try:
        engine = prepare_database(settings)
        if demo_persons > 0:
            from popdb.demo import load_demo, registry_is_empty

            if registry_is_empty(engine):
                say = partial(click.echo, err=True)
                summary = load_demo(engine, settings.home / "demo" / "seed-0",
                                    persons=demo_persons, say=say)  # fmt: skip
                click.echo(f"demo data loaded: {summary['rows_imported']} records, "
                           f"{summary['dedup']['persons']}", err=True)  # fmt: skip
            from popdb.demo import demo_admin_key

            with db.session_scope(engine) as session:
                key = demo_admin_key(session)
            click.echo(f"admin pages: http://{host}:{port}/admin  (review queue, compare, "
                       f"persons); sign in with the demo admin key {key}", err=True)  # fmt: skip
        engine.dispose()
        import_worker = subprocess.Popen([sys.executable, "-m", "popdb", "worker"])
        click.echo(f"popdb serving on http://{host}:{port}  (docs: /docs)", err=True)
        run_server(
            settings,
            host=host,
            port=port,
            workers=workers or settings.web_workers,
            metrics_dir=str(metrics_dir),
        )
    finally:
        if import_worker is not None:
            _stop_process(import_worker)
        if started_here:
            embedded.stop(settings.pgdata)
            click.echo("embedded PostgreSQL stopped", err=True)


def _stop_process(process: subprocess.Popen[bytes], grace_seconds: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after a grace period (an interrupted import is rolled back)."""
    process.terminate()
    try:
        process.wait(grace_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


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
    from popdb.policy import build_policy

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


# --- audit -------------------------------------------------------------------------------


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
    from popdb import audit

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
    from popdb import audit

    with session_for(ctx) as session:
        head = audit.anchor(session)
    head.write(out)
    emit({**head.__dict__, "file": str(out)})


# --- backup / restore --------------------------------------------------------------------


def _table_progress() -> Any:
    from popdb.progress import Progress

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
    from popdb import backup

    url = db.database_url(settings_of(ctx))
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
    from popdb import backup

    backup.check_archive(file)  # before starting a server for a file that is no backup
    url = db.database_url(settings_of(ctx))
    bar, update = _table_progress()
    try:
        outcome = backup.restore(url, file, force=force, progress=update)
    finally:
        bar.close()
    emit(outcome.as_dict())
    if outcome.revision != migrate.head_revision():
        click.echo(f"the restored schema is at {outcome.revision}, not at this version's head "
                   f"{migrate.head_revision()}: run `popdb db upgrade`", err=True)  # fmt: skip


# --- import ------------------------------------------------------------------------------


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--commune", "commune_code", required=True, help="5-digit commune code")
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="mapping profile (JSON) for files not in the DC01 layout",
)
@click.option(
    "--collected-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="collection date (YYYY-MM-DD) that picks the commune list; default today",
)
@click.option("--encoding", help="text encoding of a CSV file (detected when not given)")
@click.option("--delimiter", help="CSV delimiter (detected when not given)")
@click.option("--sheet", help="worksheet of an Excel file (default the first)")
@click.option(
    "--report",
    type=click.Path(dir_okay=False, path_type=Path),
    help="where to write the error report CSV (default FILE.errors.csv beside the file)",
)
@click.pass_context
def import_file(
    ctx: click.Context,
    file: Path,
    commune_code: str,
    mapping: Path | None,
    collected_on: dt.datetime | None,
    encoding: str | None,
    delimiter: str | None,
    sheet: str | None,
    report: Path | None,
) -> None:
    """Import a CSV or XLSX file of citizen records collected by one commune."""
    from importers.batches import BatchRequest, ignored_on_duplicate, register, summary
    from importers.mapping import MappingError, load_profile
    from importers.pipeline import run_batch
    from importers.report import write_report
    from popdb.errors import InvalidInput
    from popdb.progress import Progress, estimate_rows

    if delimiter == "\\t":
        delimiter = "\t"
    profile_json = None
    if mapping is not None:
        try:
            load_profile(mapping)
        except MappingError as exc:
            raise InvalidInput(f"Bad mapping profile {mapping}: {exc}") from None
        profile_json = json.loads(mapping.read_text(encoding="utf-8"))
    options = {k: v for k, v in (("encoding", encoding), ("delimiter", delimiter),
                                 ("sheet", sheet)) if v is not None}  # fmt: skip
    request = BatchRequest(
        path=file,
        commune_code=commune_code,
        mapping=profile_json,
        collected_on=collected_on.date() if collected_on else None,
        options=options,
    )
    settings = settings_of(ctx)
    from popdb.bootstrap import prepare_database

    engine = prepare_database(settings)
    with db.session_scope(engine) as session:
        batch, duplicate = register(session, request)
        batch_id = batch.id
        if duplicate:
            out = summary(batch, duplicate=True, notes=ignored_on_duplicate(batch, request))
    if not duplicate:
        progress = Progress(total=estimate_rows(file), enabled=sys.stderr.isatty())
        try:
            out = run_batch(lambda: db.session_scope(engine), batch_id, file, progress=progress)
        finally:
            progress.close()
    out["error_report"] = None
    if out["status"] in ("loaded", "matched") and (out["warnings"] or out["rejected"]):
        report = report or file.with_name(file.name + ".errors.csv")
        with db.session_scope(engine) as session:
            write_report(session, batch_id, report)
        out["error_report"] = str(report)
    emit(out)
    if out["status"] == "failed":
        click.echo(f"error: {out['failure_reason']}", err=True)
        sys.exit(1)


# --- dedup -------------------------------------------------------------------------------


@main.group("dedup")
def dedup_group() -> None:
    """Link the source records that describe the same person."""


def _thresholds(auto_link: float | None, review: float | None) -> Any:
    from dedup.model import AUTO_LINK, REVIEW, Thresholds
    from popdb.errors import InvalidInput

    if auto_link is None and review is None:
        return None
    try:
        return Thresholds(auto_link=auto_link or AUTO_LINK, review=review or REVIEW)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


@dedup_group.command("run")
@click.option("--rebuild", is_flag=True, help="re-score and re-cluster every record")
@click.option("--retrain", is_flag=True, help="train a new model version on the data first")
@click.option("--auto-link", type=float, help="probability to link without review")
@click.option("--review", type=float, help="probability from which a pair is reviewed")
@click.pass_context
def dedup_run(
    ctx: click.Context, rebuild: bool, retrain: bool, auto_link: float | None,
    review: float | None,
) -> None:  # fmt: skip
    """Match every record not yet matched (all of them with --rebuild)."""
    from dedup.run import RunOptions, run

    options = RunOptions(rebuild=rebuild, retrain=retrain,
                         thresholds=_thresholds(auto_link, review))  # fmt: skip
    say = (lambda text: click.echo(text, err=True)) if sys.stderr.isatty() else (lambda _: None)
    with session_for(ctx) as session:
        summary = run(session.connection(), options, say)
    emit(summary.as_dict())


@dedup_group.command("train")
@click.option("--with-labels", is_flag=True, help="refine m from reviewers' decisions")
@click.option("--dry-run", is_flag=True, help="report the effect, keep the active model")
@click.pass_context
def dedup_train(ctx: click.Context, with_labels: bool, dry_run: bool) -> None:
    """Refine the active model with reviewers' merge/distinct decisions as labels; prints how
    precision and recall at the thresholds move on those pairs, and saves a new version."""
    from dedup.learning import refine
    from dedup.run import active_model, save_model

    if not with_labels:
        raise PopdbError("say --with-labels; to retrain without labels: popdb dedup run --retrain")
    with session_for(ctx) as session:
        connection = session.connection()
        found = active_model(connection)
        if found is None:
            raise PopdbError("no model yet: run `popdb dedup run` first")
        _, version, model = found
        refined, report = refine(connection, model)
        summary = {"refined_from_version": version, **report}
        if not dry_run:
            _, summary["model_version"] = save_model(
                connection, refined, f"version {version} refined with {report['labels']} labels"
            )
    emit(summary)


@dedup_group.command("explain")
@click.argument("key_a")
@click.argument("key_b")
@click.pass_context
def dedup_explain(ctx: click.Context, key_a: str, key_b: str) -> None:
    """Each field's contribution to the match weight of two records (source key, BATCH:ROW
    or #ID)."""
    from dedup.report import explain_keys

    with session_for(ctx) as session:
        emit(explain_keys(session.connection(), key_a, key_b))


@dedup_group.command("export")
@click.option("--pairs", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--clusters", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def dedup_export(ctx: click.Context, pairs: Path | None, clusters: Path | None) -> None:
    """Write the stored scored pairs (links, reviews, and distinct pairs from probability
    0.01) and/or every record's person as CSV."""
    from dedup.report import export_clusters, export_pairs
    from popdb.errors import InvalidInput

    if pairs is None and clusters is None:
        raise InvalidInput("nothing to export: give --pairs FILE and/or --clusters FILE")
    out: dict[str, Any] = {}
    with session_for(ctx) as session:
        if pairs is not None:
            out["pairs"] = {"path": str(pairs), "rows": export_pairs(session.connection(), pairs)}
        if clusters is not None:
            out["clusters"] = {
                "path": str(clusters), "rows": export_clusters(session.connection(), clusters)
            }  # fmt: skip
    emit(out)


@dedup_group.command("evaluate")
@click.option("--truth-column", required=True, help="column of the raw rows naming the person")
@click.pass_context
def dedup_evaluate(ctx: click.Context, truth_column: str) -> None:
    """Pairwise precision, recall and F1 of the persons and of the automatic links."""
    from dedup.report import evaluate

    with session_for(ctx) as session:
        emit(evaluate(session.connection(), truth_column))


# --- demo --------------------------------------------------------------------------------


@main.command()
@click.option("--persons", default=1000, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.pass_context
def demo(ctx: click.Context, persons: int, seed: int) -> None:
    """Generate synthetic citizens (with their duplicates), import them and match them."""
    from popdb.bootstrap import prepare_database
    from popdb.demo import load_demo

    settings = settings_of(ctx)
    engine = prepare_database(settings)
    say = (lambda text: click.echo(text, err=True)) if sys.stderr.isatty() else (lambda _: None)
    emit(load_demo(engine, settings.home / "demo" / f"seed-{seed}", persons=persons, seed=seed,
                   say=say))  # fmt: skip


# --- template ----------------------------------------------------------------------------


@main.group("template")
def template_group() -> None:
    """Blank collection templates to hand to commune police."""


@template_group.command("dc01")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def template_dc01(out: Path) -> None:
    """Write a blank DC01 workbook with drop-down lists for the coded fields."""
    from importers.template import write_dc01_template

    write_dc01_template(out)
    emit({"template": "dc01", "path": str(out)})


# --- worker ------------------------------------------------------------------------------


@main.command()
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Load batches uploaded through the API, in the background (`popdb serve` runs one).

    SIGTERM or Ctrl-C stops it after the batch in hand; killing it outright is safe too: the
    batch's transaction is rolled back and the next worker starts it again.
    """
    import signal
    import threading

    from importers.worker import run_forever, sweep_stray_uploads
    from popdb.bootstrap import prepare_database

    settings = settings_of(ctx)
    engine = prepare_database(settings)
    with db.session_scope(engine) as session:
        sweep_stray_uploads(session, settings.uploads)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_forever(engine, lambda: db.session_scope(engine), stop=stop)
