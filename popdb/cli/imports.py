"""`popdb import`: one file of citizen records, one batch."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import click

from popdb.cli.base import emit, main, settings_of
from popdb.core import db


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
@click.option(
    "--no-match",
    is_flag=True,
    help="leave the batch `loaded`: do not match its records into persons now "
    "(`popdb dedup run` does it later)",
)
@click.option(
    "--preview",
    is_flag=True,
    help="hold the batch at `loaded` for a match preview (`popdb batches preview ID`, then "
    "`popdb batches release ID`); also when POPDB_MATCH_PREVIEW or the commune's setting says so",
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
    no_match: bool,
    preview: bool,
) -> None:
    """Import a CSV or XLSX file of citizen records collected by one commune, then match its
    records into persons (the batch ends `matched`; `--no-match` leaves it `loaded`)."""
    from importers.batches import (
        BatchRequest,
        check_collected_on,
        ignored_on_duplicate,
        register,
        summary,
    )
    from importers.error_report import write_report
    from importers.mapping import MappingError, load_profile
    from importers.pipeline import run_batch
    from popdb.core.errors import InvalidInput
    from popdb.core.progress import Progress, estimate_rows

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
        preview=preview or settings_of(ctx).match_preview,
    )
    settings = settings_of(ctx)
    if request.collected_on is not None:  # refused before the database is even started
        check_collected_on(request.collected_on, epoch=settings.epoch)
    from popdb.ops.bootstrap import prepare_database

    engine = prepare_database(settings)
    with db.session_scope(engine) as session:
        batch, duplicate = register(session, request, epoch=settings.epoch)
        batch_id = batch.id
        if duplicate:
            out = summary(batch, duplicate=True, notes=ignored_on_duplicate(batch, request))
    if not duplicate:
        progress = Progress(total=estimate_rows(file), enabled=sys.stderr.isatty())
        try:
            out = run_batch(lambda: db.session_scope(engine), batch_id, file, progress=progress)
        finally:
            progress.close()
        if out["status"] == "loaded" and not no_match:
            out = _match(engine, batch_id, out)
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


def _match(engine: Any, batch_id: int, out: dict[str, Any]) -> dict[str, Any]:
    """Match after the load, as the import worker does, in a transaction of its own: the
    load stays committed if matching fails. The summary gains `match` (what the run did)."""
    from importers.batches import get_batch, summary
    from popdb.registry.matching import match_loaded

    with db.session_scope(engine) as session:
        run = match_loaded(session.connection(), batch_id)
    if run is None:  # held for a match preview
        return {**out, "match": None}
    with db.session_scope(engine) as session:
        fresh = summary(get_batch(session, batch_id))
    fields = ("new_records", "auto_links", "reviews", "persons", "review_items_per_1000")
    return {**out, "status": fresh["status"],
            "match": {k: v for k, v in run.as_dict().items() if k in fields}}  # fmt: skip
