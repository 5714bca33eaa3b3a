"""Dependencies point inward: only `api` imports Flask; the libraries never import `api`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
WEB = {"flask", "flask_smorest", "werkzeug", "gunicorn", "api"}
#: The CLI is the composition root: it may start the web server, lazily.
ALLOWED = {("popdb/cli.py", "api")}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", ["popdb", "dedup", "importers", "migrations"])
def test_libraries_do_not_import_the_web_layer(package: str) -> None:
    offenders = []
    for path in sorted((REPO / package).rglob("*.py")):
        rel = path.relative_to(REPO).as_posix()
        bad = {m for m in _imports(path) & WEB if (rel, m) not in ALLOWED}
        if bad:
            offenders.append(f"{rel}: {sorted(bad)}")
    assert offenders == []


def test_popdb_core_does_not_depend_on_dedup_or_importers_at_import_time() -> None:
    offenders = [
        p.relative_to(REPO).as_posix()
        for p in (REPO / "popdb" / "models").rglob("*.py")
        if _imports(p) & {"dedup", "importers"}
    ]
    assert offenders == []
