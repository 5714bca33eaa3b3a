"""`popdb dedup`: match records into persons, train, explain, export, evaluate."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from popdb.cli.base import emit, main, session_for
from popdb.core.errors import PopdbError


@main.group("dedup")
def dedup_group() -> None:
    """Link the source records that describe the same person."""


def _thresholds(auto_link: float | None, review: float | None) -> Any:
    from dedup.model import AUTO_LINK, REVIEW, Thresholds
    from popdb.core.errors import InvalidInput

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
    from dedup.run import RunOptions
    from popdb.registry.matching import match

    options = RunOptions(rebuild=rebuild, retrain=retrain,
                         thresholds=_thresholds(auto_link, review))  # fmt: skip
    say = (lambda text: click.echo(text, err=True)) if sys.stderr.isatty() else (lambda _: None)
    with session_for(ctx) as session:
        summary = match(session.connection(), options, say)
    emit(summary.as_dict())


@dedup_group.command("train")
@click.option("--with-labels", is_flag=True, help="refine m from reviewers' decisions")
@click.option("--dry-run", is_flag=True, help="report the effect, keep the active model")
@click.pass_context
def dedup_train(ctx: click.Context, with_labels: bool, dry_run: bool) -> None:
    """Refine the active model with reviewers' merge/distinct decisions as labels; prints how
    precision and recall at the thresholds move on those pairs, and saves a new version."""
    from dedup.refinement import refine
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
    from popdb.core.errors import InvalidInput

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
