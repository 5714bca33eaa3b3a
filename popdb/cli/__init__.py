"""The `popdb` command, the top floor: each command module parses its arguments and calls
services and libraries below it; none holds registry logic of its own.

Long work shows progress on a terminal (stderr) and every command that does work ends with
a one-line JSON summary on stdout, for scripts.
"""

from popdb.cli import (  # noqa: F401 (each module adds its commands to `main`)
    audit,
    backup,
    batches,
    clients,
    database,
    demo,
    imports,
    matching,
    serve,
    template,
    worker,
)
from popdb.cli.base import main

__all__ = ["main"]
