"""`popdb import`: one file of citizen records, one batch."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

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
    )
    settings = settings_of(ctx)
    from popdb.ops.bootstrap import prepare_database

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
