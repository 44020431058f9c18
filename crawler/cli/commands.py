"""``nianbao``: a thin command line over the Python API, with the same names.

Every archive command takes ``--archive DIR`` (default ``$NIANBAO_ARCHIVE`` or ``./nianbao-archive``).
Errors are printed in plain words; the exit status is 1 for a failed check, 2 for bad usage.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from archive.archive import default_path
from archive.catalog.export import FORMATS
from archive.errors import NotFound
from crawler.cli.base import archive_option, emit_json, err, open_archive, out
from crawler.cli.distributed import broker_option, import_, shared_option, worker
from crawler.cli.schedule import coverage, schedule
from crawler.cli.search import reindex, search, serve
from crawler.progress import progress_bar


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nianbao")
def cli() -> None:
    """nianbao (年报): harvest, archive and parse government information-disclosure annual reports."""


@cli.command()
@archive_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats(archive_dir: Path | None, as_json: bool) -> None:
    """Counts and sizes: blobs, captures, documents, reports, bytes."""
    with open_archive(archive_dir, readonly=True) as a:
        s = a.stats()
    if as_json:
        emit_json(s)
        return
    t = Table(title=f"archive {s['archive']}", show_header=False)
    labels = [("reports", "reports"), ("revisions", "revisions"), ("documents", "documents"),
              ("unassigned_documents", "documents without a report"), ("captures", "captures"),
              ("blobs", "blobs (unique originals)"), ("bytes", "original bytes"), ("stored_bytes", "bytes on disk"),
              ("warc_files", "WARC files"), ("warc_bytes", "WARC bytes"), ("cells", "table cells"),
              ("failed_checks", "failed checks"), ("pending_parse", "blobs waiting to be parsed"), ("runs", "runs")]
    for key, label in labels:
        t.add_row(label, f"{s[key]:,}")
    t.add_row("document kinds", ", ".join(f"{k} {n}" for k, n in s["kinds"].items()) or "—")
    out.print(t)


@cli.command()
@archive_option
@click.option("--year", type=int, help="Only this year.")
@click.option("--agency", help="Only agencies whose name contains this.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def reports(archive_dir: Path | None, year: int | None, agency: str | None, as_json: bool) -> None:
    """List the reports in the archive."""
    with open_archive(archive_dir, readonly=True) as a:
        rows = a.reports(year=year, agency=agency)
    if as_json:
        emit_json(rows)
        return
    t = Table(title=f"{len(rows)} report(s)")
    for col in ("id", "agency", "year", "template", "documents", "kinds", "revisions", "cells", "failed checks"):
        t.add_column(col)
    for r in rows:
        t.add_row(str(r["id"]), r["agency"] or "?", str(r["year"]), r["template"] or "", str(r["documents"]),
                  r["kinds"] or "", str(r["revisions"]), str(r["cells"] or 0), str(r["failed_checks"] or 0))
    out.print(t)


@cli.command()
@archive_option
@click.argument("report")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed structure as JSON.")
def show(archive_dir: Path | None, report: str, as_json: bool) -> None:
    """One report: REPORT is an id or AGENCY/YEAR (e.g. 安康市信访局/2021)."""
    with open_archive(archive_dir, readonly=True) as a:
        try:
            data = a.show(report)
        except NotFound as e:
            raise click.ClickException(str(e)) from e
    if as_json:
        emit_json(data)
        return
    out.print(f"[bold]{data['title'] or data['agency']}[/bold]  (report {data['report_id']}, "
              f"{data['agency']}, {data['year']}, template {data['template']}, revision {data['revision']})")
    for s in data["sections"]:
        out.print(f"  {s['number']}、{s['heading']}  ({len(s['text'])} characters)")
    out.print(f"  {len(data['cells'])} cells, {sum(not c['ok'] for c in data['checks'])} failed checks "
              f"of {len(data['checks'])}")
    for w in data["warnings"]:
        out.print(f"  [yellow]warning:[/yellow] {w}")
    t = Table(title="documents")
    for col in ("revision", "kind", "sha256", "captures (first URL)", "identity"):
        t.add_column(col)
    for d in data["documents"]:
        first = d["captures"][0]["final_url"] if d["captures"] else ""
        t.add_row(str(d["revision"]), d["kind"], d["sha256"][:16], f"{len(d['captures'])} · {first}",
                  "; ".join(d["identity"].values()))
    out.print(t)


@cli.command()
@archive_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Export format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout).")
@click.option("--year", type=int, help="Only this year (jsonl, csv).")
def export(archive_dir: Path | None, fmt: str, output: Path | None, year: int | None) -> None:
    """Export reports as JSONL, cells as CSV, or every capture as one WARC stream."""
    with open_archive(archive_dir, readonly=True) as a:
        binary = fmt == "warc"
        if output:
            text_mode = {} if binary else {"encoding": "utf-8", "newline": ""}
            with open(output, "wb" if binary else "w", **text_mode) as fh:
                n = a.export(fmt, fh, year=year) if not binary else a.export(fmt, fh)
        else:
            stream = sys.stdout.buffer if binary else sys.stdout
            n = a.export(fmt, stream, year=year) if not binary else a.export(fmt, stream)
            stream.flush()
    what = {"jsonl": "reports", "csv": "cells", "warc": "WARC files"}[fmt]
    err.print(f"exported {n} {what}" + (f" to {output}" if output else ""))


@cli.command()
@archive_option
@click.option("--warc-records", is_flag=True, help="Also re-check the digests of every WARC record.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify(archive_dir: Path | None, warc_records: bool, as_json: bool) -> None:
    """Re-hash every blob; exit 1 if any is missing or corrupt, or a WARC file is damaged."""
    with open_archive(archive_dir, readonly=True) as a, progress_bar("verifying blobs", quiet=as_json) as bar:
        res = a.verify(warc_records=warc_records, progress=bar)
    if as_json:
        emit_json(res.as_dict())
    else:
        out.print(f"checked {res.blobs_checked:,} blobs"
                  + (f" and {res.warc_records_checked:,} WARC records" if warc_records else ""))
        for sha in res.missing:
            out.print(f"[red]missing[/red] {sha}")
        for sha in res.corrupt:
            out.print(f"[red]corrupt[/red] {sha} (its bytes no longer match its SHA-256)")
        for p in res.warc_problems:
            out.print(f"[red]WARC[/red] {p}")
        if res.orphans:
            out.print(f"{len(res.orphans)} blob(s) on disk belong to no capture (left by an interrupted run; "
                      f"harmless, reused if fetched again)")
        out.print("[green]archive OK[/green]" if res.ok else "[red]archive has problems[/red]")
    if not res.ok:
        sys.exit(1)


@cli.command()
@archive_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--jobs", "-j", type=int, default=None, help="Parser processes (default: up to 2).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def ingest(archive_dir: Path | None, files: tuple[Path, ...], jobs: int | None, as_json: bool) -> None:
    """Archive local files (or directories of them) as if fetched."""
    with open_archive(archive_dir) as a, progress_bar("archiving", quiet=as_json) as bar, \
            progress_bar("parsing", quiet=as_json) as pbar:
        res = a.ingest(files, progress=lambda i, n, name: bar(i, n), parse_progress=pbar, jobs=jobs)
    data = {"files": res.files, "new_blobs": res.new_blobs, "skipped_unchanged": res.skipped,
            "new_documents": res.new_documents, "new_reports": res.new_reports,
            "errors": [{"file": f, "error": e} for f, e in res.errors],
            "notes": [{"file": f, "note": n} for f, n in res.notes], "run": res.run_id}
    if as_json:
        emit_json(data)
    else:
        out.print(f"archived {res.files} file(s): {res.new_blobs} new original(s), {res.new_documents} new "
                  f"document(s), {res.new_reports} new report(s); {res.skipped} unchanged file(s) skipped")
        for f, n in res.notes:
            out.print(f"[yellow]{f}[/yellow]: {n}")
        for f, e in res.errors:
            out.print(f"[red]not archived[/red] {f}: {e}")
    if res.errors:
        sys.exit(1)


@cli.command()
@archive_option
@click.option("--all", "everything", is_flag=True, help="Re-parse every original, not only those an older "
              "parser read.")
@click.option("--jobs", "-j", type=int, default=None, help="Parser processes (default: up to 2).")
@broker_option
@shared_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def reparse(archive_dir: Path | None, everything: bool, jobs: int | None, broker: str | None, shared: str | None,
            as_json: bool) -> None:
    """Rebuild parsed data (documents, cells, checks, reports) from the stored originals.

    With --broker the originals go out as parse tasks to `nianbao worker`s (through the shared
    location); reports and revisions are then re-derived here.
    """
    examine_with = None
    if broker:
        import functools

        from crawler.distributed import examine_remote, shared_location

        examine_with = functools.partial(examine_remote, broker=broker,
                                         shared=shared_location(archive_dir or default_path(), shared))
    with open_archive(archive_dir) as a, progress_bar("parsing", quiet=as_json) as bar, \
            progress_bar("placing", quiet=as_json) as bar2:
        try:
            res = a.reparse(everything=everything, jobs=jobs, progress=bar, assign_progress=bar2,
                            examine_with=examine_with)
        except RuntimeError as e:  # the broker or the shared location, in words
            raise click.ClickException(str(e)) from e
    data = {"parser_version": res.parser_version, "parsed": res.parsed, "documents": res.documents,
            "reports": res.reports}
    if as_json:
        emit_json(data)
    else:
        out.print(f"parser {res.parser_version}: parsed {res.parsed} original(s); "
                  f"{res.documents} document(s) in {res.reports} report(s)")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--url", help="Where the document was found (helps name the agency and year).")
@click.option("--title", help="The link text or page title it was found under (same).")
@click.option("--json", "as_json", is_flag=True, help="Print the parsed structure as JSON (one object per line "
              "when several files are given).")
def parse(files: tuple[Path, ...], url: str | None, title: str | None, as_json: bool) -> None:
    """Parse local files and print their structure, without archiving them. The format is told by
    the content, not the file name."""
    from archive.parser import parse as parse_document
    from crawler.summary import print_summary

    for file in files:
        res = parse_document(file.read_bytes(), filename=file.name, url=url, title=title)
        if as_json:
            data = json.dumps(res.report, ensure_ascii=False, indent=None if len(files) > 1 else 2)
            click.echo(data)
        else:
            print_summary(out, file.name, res)
        if not res.is_report:
            err.print(f"[yellow]{file.name} does not read as an annual report[/yellow]")


@cli.command()
@archive_option
@click.argument("urls", nargs=-1)
@click.option("--portal", "portal_names", multiple=True, help="A portal profile by name (repeatable).")
@click.option("--browser", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Render pages in Chromium: only where needed, for every page, or never.")
@click.option("--max-pages", type=int, help="Pages per host at most (default: the profile's, 2000).")
@broker_option
@shared_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def crawl(archive_dir: Path | None, urls: tuple[str, ...], portal_names: tuple[str, ...], browser: str,
          max_pages: int | None, broker: str | None, shared: str | None, as_json: bool) -> None:
    """Crawl portals (front-page URLs or profiles) for their annual reports into the archive.

    With --broker, each portal is a task for the `nianbao worker`s; their hand-overs are imported here
    as they finish.
    """
    from crawler.run import crawl as run_crawl
    from crawler.summary import print_crawl_summary
    from spiders.profiles import PortalProfile, ProfileError, load_all

    where = archive_dir or default_path()
    try:
        known = load_all(where / "portals")
        missing = [n for n in portal_names if n not in known]
        if missing:
            names = ", ".join(sorted(known)) or "none"
            raise click.ClickException(f"no portal profile named {', '.join(missing)}; known: {names} "
                                       f"(add one with `nianbao portals add`)")
        portals = [known[n] for n in portal_names] + [PortalProfile.for_url(u) for u in urls]
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

            summary = crawl_on_workers(where, portals, broker, shared, browser=browser, quiet=as_json)
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


@cli.group()
def portals() -> None:
    """Portal profiles: what to crawl and how."""


@portals.command("add")
@archive_option
@click.argument("url")
@click.option("--name", help="Profile name (default: the host).")
@click.option("--agency", help="The agency the portal belongs to.")
@click.option("--render", type=click.Choice(["auto", "browser", "never"]), default="auto", show_default=True)
def portals_add(archive_dir: Path | None, url: str, name: str | None, agency: str | None, render: str) -> None:
    """Write a profile for a portal's front page into the archive's portals/ directory."""
    from spiders.profiles import PortalProfile, ProfileError, save

    try:
        profile = PortalProfile.for_url(url, name)
        profile.agency, profile.render = agency, render
        path = save(profile, (archive_dir or default_path()) / "portals")
    except ProfileError as e:
        raise click.ClickException(str(e)) from e
    out.print(f"wrote {path}; crawl it with [bold]nianbao crawl --portal {profile.name}[/bold]")


@portals.command("list")
@archive_option
@click.option("--json", "as_json", is_flag=True)
def portals_list(archive_dir: Path | None, as_json: bool) -> None:
    """The profiles known: the archive's own and the bundled ones."""
    from dataclasses import asdict

    from spiders.profiles import load_all

    found = load_all((archive_dir or default_path()) / "portals")
    if as_json:
        emit_json([asdict(p) for p in found.values()])
        return
    t = Table(title=f"{len(found)} portal profile(s)")
    for col in ("name", "agency", "start", "render", "robots"):
        t.add_column(col)
    for p in found.values():
        t.add_row(p.name, p.agency or "", " ".join(p.start_urls), p.render, "yes" if p.robots else "no")
    out.print(t)


@cli.command()
@archive_option
@click.option("--browser", type=click.Choice(["auto", "never"]), default="auto", show_default=True,
              help="Crawl the script-rendered and challenge portals through Chromium.")
def demo(archive_dir: Path | None, browser: str) -> None:
    """Serve simulated portals on 127.0.0.2 and up, crawl them into a fresh archive, show the result."""
    from crawler.demo import run_demo

    run_demo(archive_dir or Path("nianbao-demo"), console=out, browser=browser)


cli.add_command(schedule)
cli.add_command(import_)
cli.add_command(worker)
cli.add_command(coverage)
cli.add_command(search)
cli.add_command(reindex)
cli.add_command(serve)


def main() -> None:
    try:
        cli.main(prog_name="nianbao", standalone_mode=True)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)

