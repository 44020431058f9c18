"""``nianbao crawl`` and ``nianbao demo``: thin commands over :mod:`crawler.run`, :mod:`crawler.portals` and
:mod:`crawler.demo` (``nianbao portals`` is :mod:`crawler.cli.portals`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from archive.archive import default_path
from crawler.cli.base import archive_option, emit_json, out
from crawler.cli.distributed import broker_option, shared_option


@click.command()
@archive_option
@click.argument("urls", nargs=-1)
@click.option("--portal", "portal_names", multiple=True, help="A portal profile by name (repeatable).")
@click.option("--browser", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Render pages in Chromium: only where needed, for every page, or never.")
@click.option("--max-pages", type=int, help="Pages per host at most (default: the profile's, 2000).")
@broker_option
@shared_option
@click.option("--batch", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="With --broker: portals per task (small portals are cheaper crawled a few to a process).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def crawl(archive_dir: Path | None, urls: tuple[str, ...], portal_names: tuple[str, ...], browser: str,
          max_pages: int | None, broker: str | None, shared: str | None, batch: int, as_json: bool) -> None:
    """Crawl portals (front-page URLs or profiles) for their annual reports into the archive.

    With --broker, each portal (or each --batch of portals) is a task for the `nianbao worker`s; their
    hand-overs are imported here as they finish.
    """
    from crawler.portals import portals_in
    from crawler.run import crawl as run_crawl
    from crawler.summary import print_crawl_summary
    from spiders.profiles import PortalProfile, ProfileError

    where = archive_dir or default_path()
    try:
        portals = (portals_in(where, portal_names) if portal_names else []) + [PortalProfile.for_url(u) for u in urls]
    except ProfileError as e:
        raise click.ClickException(str(e)) from e
    if not portals:
        raise click.UsageError("give front-page URLs or --portal names")
    for p in portals:
        if max_pages:
            p.max_pages = max_pages
    from archive.errors import LockHeld
    from crawler.harvest import portal_lock

    locks = []
    try:  # the scheduler's portal locks: never two crawls of one portal at once
        for p in portals:
            locks.append(portal_lock(where, p.name).acquire(trigger="crawl"))
        if broker:
            from crawler.cli.distributed import crawl_on_workers

            summary = crawl_on_workers(where, portals, broker, shared, browser=browser, quiet=as_json, batch=batch)
        else:
            summary = run_crawl(where, portals, browser=browser, progress=not as_json)
    except LockHeld as e:
        raise click.ClickException(f"{e}: that portal is being harvested now; try again when it is done") from e
    except RuntimeError as e:
        raise click.ClickException(str(e)) from e
    finally:
        for lock in locks:
            lock.release()
    if as_json:
        emit_json(summary.as_dict())
    else:
        print_crawl_summary(out, summary)
    if not summary.crawled_anything:
        sys.exit(1)


@click.command()
# not archive_option: $NIANBAO_ARCHIVE names the user's real archive, which the demo must never write into
@click.option("--archive", "archive_dir", type=click.Path(file_okay=False, path_type=Path), default="nianbao-demo",
              show_default=True, help="The demo's own archive: a new directory, or one an earlier demo made.")
@click.option("--browser", type=click.Choice(["auto", "never"]), default="auto", show_default=True,
              help="Crawl the script-rendered and challenge portals through Chromium.")
def demo(archive_dir: Path, browser: str) -> None:
    """Serve simulated portals on 127.0.0.2 and up, crawl them into an archive of the demo's own, show the
    result. It never reads $NIANBAO_ARCHIVE, and refuses a directory it did not make."""
    from crawler.demo import NotDemoArchive, run_demo

    try:
        run_demo(archive_dir, console=out, browser=browser)
    except NotDemoArchive as e:
        raise click.ClickException(str(e)) from e
