"""``nianbao import`` and ``nianbao worker``: thin commands over :mod:`archive.ingest.warc_import` and
:mod:`crawler.tasks`."""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

import click

from archive.archive import default_path
from crawler.cli.base import archive_option, emit_json, open_archive, out
from crawler.progress import progress_bar


def broker_option(f):
    return click.option("--broker", envvar="NIANBAO_BROKER", metavar="URL",
                        help="Celery broker (redis://host:6379/0): enqueue the work for `nianbao worker`s "
                        "instead of doing it here. Default: $NIANBAO_BROKER.")(f)


def shared_option(f):
    return click.option("--shared", envvar="NIANBAO_SHARED", metavar="PATH|URL",
                        help="Where workers hand over their WARCs (a shared path, or s3://… through fsspec). "
                        "Default: $NIANBAO_SHARED, else ARCHIVE/shared.")(f)


@click.command("import")
@archive_option
@click.argument("sources", nargs=-1)
@shared_option
@click.option("--keep", is_flag=True, help="With --shared: keep the hand-overs once imported.")
@click.option("--jobs", "-j", type=int, default=None, help="Parser processes for what carries no parse result.")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def import_(archive_dir: Path | None, sources: tuple[str, ...], shared: str | None, keep: bool, jobs: int | None,
            as_json: bool) -> None:
    """Import WARC files (paths or fsspec URLs such as s3://bucket/x.warc.gz) and pick the reports out.

    Takes our workers' hand-overs and WARCs from other crawlers (Heritrix, Browsertrix, wget, warcio).
    Importing a file again changes nothing. Without files, imports the workers' finished hand-overs
    from the shared location.
    """
    if not sources:
        from crawler.distributed import import_pending, shared_location

        where = archive_dir or default_path()
        done = import_pending(where, shared_location(where, shared), keep=keep)
        if as_json:
            emit_json(done)
        else:
            names = ", ".join(f"{d['portal']} ({d['new_reports']} new report(s))" for d in done)
            out.print(f"imported {len(done)} hand-over(s): {names or 'none was waiting'}")
        return
    with open_archive(archive_dir) as a, progress_bar("importing (bytes)", quiet=as_json) as bar, \
            progress_bar("parsing", quiet=as_json) as pbar:
        res = a.import_warcs(list(sources), progress=bar, parse_progress=pbar, jobs=jobs)
    data = asdict(res)
    data["errors"] = [{"file": f, "error": e} for f, e in res.errors]
    data["notes"] = [{"url": u, "note": n} for u, n in res.notes]
    if as_json:
        emit_json(data)
    else:
        out.print(f"imported {res.files} file(s), {res.records:,} record(s): {res.captures:,} new capture(s), "
                  f"{res.new_blobs} new original(s), {res.new_documents} new document(s), {res.new_reports} new "
                  f"report(s); {res.known:,} record(s) this archive held already (imported before, or its own), "
                  f"{res.already_held:,} capture(s) it held under other record ids, {res.skipped_files} file(s) "
                  f"imported whole before, {res.other:,} record(s) that are not HTTP exchanges skipped")
        if res.parse_results_used:
            out.print(f"{res.parse_results_used} parse result(s) taken from the files, {res.parsed_here} parsed here")
        for u, n in res.notes[:20]:
            out.print(f"[yellow]{u}[/yellow]: {n}")
        for f, e in res.errors:
            out.print(f"[red]{f}[/red]: {e}")
    if res.errors:
        sys.exit(1)


@click.command()
@click.option("--broker", envvar="NIANBAO_BROKER", metavar="URL", required=True,
              help="Celery broker, e.g. redis://10.0.0.5:6379/0 (default: $NIANBAO_BROKER).")
@click.option("--concurrency", "-c", type=int, default=None, help="Tasks at once (default: the number of cores).")
@click.option("--queues", "-Q", default=None, help="Only these queues (nianbao.crawl, nianbao.parse).")
@click.option("--name", "-n", default=None, help="Worker name (default: nianbao@HOST).")
@click.option("--loglevel", default="INFO", show_default=True)
def worker(broker: str, concurrency: int | None, queues: str | None, name: str | None, loglevel: str) -> None:
    """Crawl and parse for a distributed harvest: serve the broker's tasks until stopped.

    Run one on every machine. Each crawl task names the shared location its hand-over goes to;
    SIGTERM finishes the running tasks first, and a worker killed outright loses nothing (its tasks
    go back to the queue). Scratch space: $NIANBAO_WORKDIR, else the temp dir.
    """
    from crawler.tasks import run_worker

    run_worker(broker, concurrency=concurrency, queues=queues.split(",") if queues else None, name=name,
               loglevel=loglevel)


def crawl_on_workers(archive_dir: Path, portals: list, broker: str, shared: str | None, *, browser: str,
                     quiet: bool = False, batch: int = 1):
    """``nianbao crawl --broker``: the portals as tasks, a live table of where each one is, the summary."""
    import time

    from rich.live import Live
    from rich.table import Table

    from archive import Archive
    from crawler.cli.base import err
    from crawler.distributed import crawl_remote, shared_location
    from crawler.run import summarize_runs

    started = time.monotonic()
    by_name = {p.name: p for p in portals}

    def table(tasks) -> Table:
        t = Table(title=f"distributed crawl · {time.monotonic() - started:.0f} s", title_justify="left")
        for col in ("portal", "state", "worker", "pages", "new reports"):
            t.add_column(col)
        for s in tasks:
            colour = {"imported": "green", "failed": "red", "running": "cyan"}.get(s.state, "white")
            t.add_row(", ".join(s.names), f"[{colour}]{s.state}[/{colour}]" + (f" {s.error}" if s.error else ""),
                      s.worker or "", str(s.pages or ""), str(s.new_reports or ""))
        return t

    live = Live(table([]), console=err, transient=False, auto_refresh=False) if not quiet and err.is_terminal \
        else None
    where = shared_location(archive_dir, shared)
    try:
        if live:
            live.start()
        tasks = crawl_remote(archive_dir, portals, broker, where, browser=browser, batch=batch,
                             on_change=(lambda ts: live.update(table(ts), refresh=True)) if live else None)
    finally:
        if live:
            live.stop()
    failed = [t for t in tasks if t.state != "imported"]
    for t in failed:
        err.print(f"[red]{', '.join(t.names)}[/red]: {t.error or t.state}")
    with Archive.open(archive_dir) as a:
        return summarize_runs(a, [(t.run_id, by_name[n]) for t in tasks if t.run_id for n in t.names],
                              status="ok" if not failed else "partial", seconds=round(time.monotonic() - started, 1))
