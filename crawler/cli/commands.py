"""``nianbao``: a thin command line over the Python API, with the same names; this module assembles
the group from one module per command group (:mod:`crawler.cli.archive`, :mod:`crawler.cli.crawl`,
:mod:`crawler.cli.search`, :mod:`crawler.cli.schedule`, :mod:`crawler.cli.distributed`,
:mod:`crawler.cli.agencies`, :mod:`crawler.cli.portals`).

Every archive command takes ``--archive DIR`` (default ``$NIANBAO_ARCHIVE`` or ``./nianbao-archive``).
Errors are printed in plain words; the exit status is 1 for a failed check, 2 for bad usage.
"""

from __future__ import annotations

import sqlite3
import sys

import click

from archive.errors import ArchiveError, CatalogError
from crawler.cli.agencies import agencies
from crawler.cli.archive import export, ingest, parse, recover, reparse, reports, show, stats, verify
from crawler.cli.base import err
from crawler.cli.crawl import crawl, demo
from crawler.cli.distributed import import_, worker
from crawler.cli.portals import portals
from crawler.cli.schedule import coverage, schedule
from crawler.cli.search import reindex, search, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nianbao")
def cli() -> None:
    """nianbao (年报): harvest, archive and parse government information-disclosure annual reports."""


for command in (stats, reports, show, export, verify, recover, ingest, reparse, parse, crawl, portals, demo,
                schedule, import_, worker, coverage, search, reindex, serve, agencies):
    cli.add_command(command)


def main() -> None:
    try:
        cli.main(prog_name="nianbao", standalone_mode=True)
    except (ArchiveError, CatalogError) as e:  # said in words by the archive; no traceback
        err.print(f"[red]error:[/red] {e}", highlight=False)
        sys.exit(1)
    except sqlite3.DatabaseError as e:  # a catalog damaged where this command first read it
        err.print(f"[red]error:[/red] the catalog is damaged ({e}). Nothing is lost: the WARC files and blobs "
                  f"hold every capture. Check with `nianbao verify`, rebuild with `nianbao recover`.", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
