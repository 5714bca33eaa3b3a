"""`popdb serve`: the database up, migrations applied, the API and admin pages served."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from functools import partial

import click

from popdb.cli.base import main, settings_of
from popdb.core import db, embedded


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
    from popdb.ops.bootstrap import prepare_database

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
        from popdb.core import audit

        audit.keyring().require_active()  # refuse to serve what could not be audited
        if demo_persons > 0:
            from popdb.ops.demo import load_demo, registry_is_empty

            if registry_is_empty(engine):
                say = partial(click.echo, err=True)
                summary = load_demo(engine, settings.home / "demo" / "seed-0",
                                    persons=demo_persons, say=say)  # fmt: skip
                click.echo(f"demo data loaded: {summary['rows_imported']} records, "
                           f"{summary['dedup']['persons']}", err=True)  # fmt: skip
            from popdb.ops.demo import demo_admin_key

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
