"""``nianbao``: one module per command group, each a thin layer over the Python API of the same names.

Commands parse options, call one API function and print; no SQL and no business logic here.
"""

from crawler.cli.commands import cli, main

__all__ = ["cli", "main"]
