"""`popdb demo`: synthetic citizens imported and matched."""

from __future__ import annotations

import sys

import click

from popdb.cli.base import emit, main, settings_of


@main.command()
@click.option("--persons", default=1000, show_default=True, type=click.IntRange(1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.pass_context
def demo(ctx: click.Context, persons: int, seed: int) -> None:
    """Generate synthetic citizens (with their duplicates), import them and match them."""
    from popdb.ops.bootstrap import prepare_database
    from popdb.ops.demo import load_demo

    settings = settings_of(ctx)
    engine = prepare_database(settings)
    say = (lambda text: click.echo(text, err=True)) if sys.stderr.isatty() else (lambda _: None)
    emit(load_demo(engine, settings.home / "demo" / f"seed-{seed}", persons=persons, seed=seed,
                   say=say))  # fmt: skip
