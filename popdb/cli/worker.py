"""`popdb worker`: the background loader of uploaded batches."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from popdb.cli.base import main, settings_of
from popdb.core import db

if TYPE_CHECKING:
    from importers.pipeline import SessionScope


@main.command()
@click.pass_context
def worker(ctx: click.Context) -> None:
    """Load batches uploaded through the API, in the background (`popdb serve` runs one),
    then match each loaded batch's records into persons (the batch shows `matched`).

    SIGTERM or Ctrl-C stops it after the batch in hand; killing it outright is safe too: the
    batch's transaction is rolled back and the next worker starts it again.
    """
    import signal
    import threading

    from importers.worker import run_forever, sweep_stray_uploads
    from popdb.ops.bootstrap import prepare_database

    settings = settings_of(ctx)
    engine = prepare_database(settings)
    from popdb.core import audit

    audit.keyring().require_active()
    with db.session_scope(engine) as session:
        sweep_stray_uploads(session, settings.uploads)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_forever(engine, lambda: db.session_scope(engine), stop=stop, after_load=match_after_load)


def match_after_load(scope: SessionScope, batch_id: int) -> None:
    """The worker's `after_load` hook: match the batch's records into persons in a unit of
    work of its own, committed apart from the load (a failure leaves the batch `loaded`)."""
    from popdb.registry.matching import match_loaded

    with scope() as session:
        match_loaded(session.connection(), batch_id)
