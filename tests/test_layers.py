"""The house's one direction (docs/architecture.md): the import-linter contracts in
pyproject.toml hold, for every import, lazy ones inside functions included."""

from __future__ import annotations

import ast
import os
from pathlib import Path

from importlinter.cli import lint_imports

REPO = Path(__file__).resolve().parent.parent


def test_the_import_linter_contracts_hold() -> None:
    here = os.getcwd()
    os.chdir(REPO)
    try:
        assert lint_imports(config_filename=str(REPO / "pyproject.toml")) == 0
    finally:
        os.chdir(here)


def test_migrations_stand_on_the_ground_only() -> None:
    """Migrations run against any revision of the code, so they import nothing above the
    ground (import-linter's root packages do not include them)."""
    offenders = []
    for path in sorted((REPO / "migrations").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in {"api", "dedup", "importers", "flask"} or (
                    top == "popdb" and not name.startswith("popdb.core")
                ):
                    offenders.append(f"{path.relative_to(REPO)}: {name}")
    assert offenders == []
