"""What every ``nianbao`` command shares: the ``--archive`` option, opening an archive with errors in
plain words, JSON output, and the two consoles (results to stdout, progress and errors to stderr)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console

from archive.archive import ENV_VAR, Archive, default_path
from archive.errors import ArchiveError, CatalogError

err = Console(stderr=True)
out = Console()


def archive_option(f):
    return click.option("--archive", "archive_dir", type=click.Path(file_okay=False, path_type=Path),
                        envvar=ENV_VAR, default=None, show_default=f"${ENV_VAR} or ./nianbao-archive",
                        help="Archive directory.")(f)


def open_archive(path: Path | None, *, readonly: bool = False) -> Archive:
    try:
        return Archive.open(path or default_path(), readonly=readonly)
    except (ArchiveError, CatalogError) as e:
        raise click.ClickException(str(e)) from e


def emit_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
