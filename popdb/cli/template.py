"""`popdb template`: blank collection forms for commune police."""

from __future__ import annotations

from pathlib import Path

import click

from popdb.cli.base import emit, main


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
