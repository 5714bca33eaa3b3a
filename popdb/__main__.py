"""`python -m popdb` is the `popdb` command."""

from popdb.cli import main

main()
