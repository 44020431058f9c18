"""``nianbao stats|reports|show|export|verify|ingest|reparse|parse``: thin commands over the
:class:`archive.Archive` methods of the same names (``parse`` over :func:`archive.parser.parse`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.table import Table

from archive.archive import EXPORT_FORMATS, default_path
from archive.errors import ArchiveError, CatalogError, LockHeld, NotFound
from crawler.cli.base import archive_option, emit_json, err, open_archive, out
from crawler.cli.distributed import broker_option, shared_option
from crawler.progress import progress_bar


@click.command()
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


@click.command()
@archive_option
@click.option("--year", type=int, help="Only this year.")
@click.option("--agency", help="Only agencies whose name contains this.")
@click.option("--unassigned", is_flag=True, help="List the documents in no report instead, and why each is in none.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def reports(archive_dir: Path | None, year: int | None, agency: str | None, unassigned: bool, as_json: bool) -> None:
    """List the reports in the archive, then how many documents are in none of them and why."""
    with open_archive(archive_dir, readonly=True) as a:
        if unassigned:
            return _unassigned(a.unassigned(), as_json)
        rows = a.reports(year=year, agency=agency)
        reasons = a.unassigned_reasons()
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
    if reasons:
        n = sum(reasons.values())
        out.print(f"{n} document{'s are' if n > 1 else ' is'} in no report (nianbao reports --unassigned lists "
                  f"{'them' if n > 1 else 'it'}):", soft_wrap=True)
        for reason, count in reasons.items():
            out.print(f"  {count:>5}  {reason}", soft_wrap=True, markup=False)


def _unassigned(rows: list[dict], as_json: bool) -> None:
    """One line per document in no report: where it was fetched, its kind and year, and why."""
    if as_json:
        emit_json(rows)
        return
    out.print(f"{len(rows)} document(s) in no report", soft_wrap=True)
    for r in rows:
        out.print(f"{r['url'] or r['sha256'][:16]}  {r['kind']} {r['year'] or 'no year'}  {r['reason']}",
                  soft_wrap=True, markup=False, highlight=False)


@click.command()
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


@click.command()
@archive_option
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), help="Export format.")
@click.option("--datasette", is_flag=True,
              help="Instead of data: Datasette's metadata.json for catalog.db (tables, views and columns described "
                   "in Chinese and English, internal tables hidden, canned queries).")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout).")
@click.option("--year", type=int, help="Only this year (jsonl, csv, xlsx).")
@click.option("--report", help="wacz: the report (an id or AGENCY/YEAR) whose captures to package.")
def export(archive_dir: Path | None, fmt: str | None, datasette: bool, output: Path | None, year: int | None,
           report: str | None) -> None:
    """Export reports as JSONL, cells as CSV (UTF-8 with a BOM, for Excel) or XLSX (a sheet per table), every
    capture as one WARC stream, or one report's captures as a WACZ for replayweb.page; or, with --datasette,
    the metadata that describes catalog.db to Datasette."""
    if datasette:
        if fmt or year is not None or report:
            raise click.UsageError("--datasette describes the whole catalog: give neither --format, --year nor "
                                   "--report")
        _datasette_metadata(archive_dir, output)
        return
    if fmt is None:
        raise click.UsageError("give --format (jsonl, csv, xlsx, warc or wacz), or --datasette")
    if report and fmt != "wacz":
        raise click.UsageError("--report is for --format wacz; the other formats export the whole archive")
    if year is not None and fmt in ("wacz", "warc"):
        raise click.UsageError(f"--year is for jsonl, csv and xlsx; a {fmt.upper()} export takes no year")
    if fmt in ("xlsx", "wacz") and output is None:
        raise click.UsageError(f"an {fmt.upper()} file is a zip: give it with -o FILE")
    if fmt == "wacz":
        if not report:
            raise click.UsageError("a WACZ holds one report's captures: give --report ID or --report AGENCY/YEAR")
        with open_archive(archive_dir, readonly=True) as a:
            try:
                res = a.wacz(report, output)
            except NotFound as e:
                raise click.ClickException(str(e)) from e
        err.print(f"exported {res['records']} WARC records of report {res['report_id']} ({res['agency']} "
                  f"{res['year']}), {res['pages']} pages, to {output}", soft_wrap=True)
        return
    with open_archive(archive_dir, readonly=True) as a:
        binary = fmt in ("warc", "xlsx")
        if output:
            text_mode = {} if binary else {"encoding": "utf-8", "newline": ""}
            with open(output, "wb" if binary else "w", **text_mode) as fh:
                n = a.export(fmt, fh) if fmt == "warc" else a.export(fmt, fh, year=year)
        else:
            stream = sys.stdout.buffer if binary else sys.stdout
            n = a.export(fmt, stream, year=year) if not binary else a.export(fmt, stream)
            stream.flush()
    what = {"jsonl": "reports", "csv": "cells", "xlsx": "cells", "warc": "WARC files"}[fmt]
    err.print(f"exported {n} {what}" + (f" to {output}" if output else ""))


def _datasette_metadata(archive_dir: Path | None, output: Path | None) -> None:
    with open_archive(archive_dir, readonly=True) as a:
        try:
            meta = a.datasette_metadata()
        except CatalogError as e:
            raise click.ClickException(str(e)) from e
        catalog = a.path / "catalog.db"
    text = json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    tables = {k: v for db in meta["databases"].values() for k, v in db["tables"].items()}
    shown = sum(not t.get("hidden") for t in tables.values())
    err.print(f"described {shown} tables and views, hid {len(tables) - shown}"
              + (f", to {output}: datasette {catalog} -m {output}" if output else ""), highlight=False, soft_wrap=True)


@click.command()
@archive_option
@click.option("--quick", is_flag=True, help="SQLite's quick_check, and WARC files by size only (no record read).")
@click.option("--warc-records", is_flag=True, hidden=True, help="Kept for scripts: records are read unless --quick.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def verify(archive_dir: Path | None, quick: bool, warc_records: bool, as_json: bool) -> None:
    """Check everything: the catalog file, every blob's hash, every WARC file and record digest, and that each
    capture's record is where the catalog says. Exit 1 on any damage; `nianbao recover` rebuilds a lost catalog."""
    with open_archive(archive_dir, readonly=True) as a, progress_bar("verifying blobs", quiet=as_json) as bar, \
            progress_bar("verifying WARC files", quiet=as_json) as bar2:
        res = a.verify(quick=quick, warc_records=True if warc_records else None, progress=bar, warc_progress=bar2)
    if as_json:
        emit_json(res.as_dict())
    else:
        out.print(f"checked the catalog ({'quick_check' if quick else 'integrity_check'}), {res.blobs_checked:,} "
                  f"blobs and {res.warc_records_checked:,} WARC records")
        for p in res.catalog_problems:
            out.print(f"[red]catalog[/red] {p}", highlight=False)
        for sha in res.missing:
            out.print(f"[red]missing[/red] {sha} (the catalog names it; the blob store does not hold it)")
        for sha in res.corrupt:
            out.print(f"[red]corrupt[/red] {sha} (its bytes no longer match its SHA-256)")
        for p in res.warc_problems:
            out.print(f"[red]WARC[/red] {p}", highlight=False)
        for p in res.capture_problems[:20]:
            out.print(f"[red]capture[/red] {p}", highlight=False)
        if len(res.capture_problems) > 20:
            out.print(f"… and {len(res.capture_problems) - 20} more capture(s) whose record is not where they say")
        for p in res.unnamed_warcs:
            out.print(f"[yellow]unnamed WARC[/yellow] {p}", highlight=False)
        if res.orphans:
            out.print(f"{len(res.orphans)} blob(s) on disk belong to no capture (left by an interrupted run; "
                      f"harmless, reused if fetched again)")
        if res.catalog_problems:
            out.print("The catalog is damaged; the WARC files and blobs hold every capture: rebuild it with "
                      "`nianbao recover --force` (the damaged file is kept).")
        out.print("[green]archive OK[/green]" if res.ok else "[red]archive has problems[/red]")
    if not res.ok:
        sys.exit(1)


@click.command()
@archive_option
@click.option("--force", is_flag=True, help="Rebuild even a catalog SQLite finds sound.")
@click.option("--jobs", "-j", type=int, default=None, help="Parser processes (default: up to 2).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def recover(archive_dir: Path | None, force: bool, jobs: int | None, as_json: bool) -> None:
    """Rebuild a lost or damaged catalog from the WARC files and blobs; the damaged file is kept beside it."""
    from archive.archive import Archive

    where = archive_dir or default_path()
    try:
        with progress_bar("reading WARC files", quiet=as_json) as bar, progress_bar("parsing", quiet=as_json) as bar2:
            res = Archive.recover(where, force=force, jobs=jobs, progress=bar, parse_progress=bar2)
    except (ArchiveError, LockHeld) as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        emit_json(res.as_dict())
        return
    out.print(f"rebuilt the catalog of {where} from {res.warc_files} WARC file(s): {res.captures:,} captures, "
              f"{res.blobs:,} originals ({res.blobs_restored} written back to the blob store from their WARC "
              f"records), {res.documents:,} documents in {res.reports:,} reports")
    if res.set_aside:
        out.print(f"the damaged catalog is kept as {', '.join(res.set_aside)}", highlight=False)
    for where_, what in res.notes:
        out.print(f"[yellow]not recovered[/yellow] {where_}: {what}", highlight=False)
    out.print("Run and harvest history is not in the WARC files: one 'recover' run now holds every capture.")


def _hint(ctx: click.Context, param: click.Parameter, value):
    """--agency and --year checked by the archive's own rule before anything is opened or archived."""
    if value is None:
        return None
    from archive.errors import HintError
    from archive.ingest.files import user_hints

    try:
        agency, year = user_hints(value, None) if param.name == "agency" else user_hints(None, value)
    except HintError as e:
        raise click.BadParameter(str(e), ctx=ctx, param=param) from e
    return agency if param.name == "agency" else year


@click.command()
@archive_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--agency", callback=_hint, help="Whose reports the files are (e.g. 安康市信访局): for those whose "
              "text names no agency; a text that names another keeps its own, with a warning.")
@click.option("--year", type=int, callback=_hint, help="The year the files report on (1990-2100): for those "
              "whose text names none; a text that names another keeps its own, with a warning.")
@click.option("--jobs", "-j", type=int, default=None, help="Parser processes (default: up to 2).")
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def ingest(archive_dir: Path | None, files: tuple[Path, ...], agency: str | None, year: int | None,
           jobs: int | None, as_json: bool) -> None:
    """Archive local files (or directories of them) as if fetched."""
    with open_archive(archive_dir) as a, progress_bar("archiving", quiet=as_json) as bar, \
            progress_bar("parsing", quiet=as_json) as pbar:
        res = a.ingest(files, agency=agency, year=year, progress=lambda i, n, name: bar(i, n), parse_progress=pbar,
                       jobs=jobs)
    data = {"files": res.files, "new_blobs": res.new_blobs, "skipped_unchanged": res.skipped,
            "new_documents": res.new_documents, "new_reports": res.new_reports,
            "errors": [{"file": f, "error": e} for f, e in res.errors],
            "not_documents": [{"file": f, "what": w} for f, w in res.not_documents],
            "notes": [{"file": f, "note": n} for f, n in res.notes], "run": res.run_id}
    if as_json:
        emit_json(data)
    else:
        out.print(f"archived {res.files} file(s): {res.new_blobs} new original(s), {res.new_documents} new "
                  f"document(s), {res.new_reports} new report(s); {res.skipped} unchanged file(s) skipped")
        if res.not_documents:
            out.print(f"left out {len(res.not_documents)} file(s) that are not documents:", highlight=False)
            for f, w in res.not_documents[:20]:
                out.print(f"  {f}: {w}", highlight=False, soft_wrap=True)  # a path is not broken
            if len(res.not_documents) > 20:
                out.print(f"  … and {len(res.not_documents) - 20} more (--json lists them all)", highlight=False)
        for f, n in res.notes:
            out.print(f"[yellow]{f}[/yellow]: {n}")
        for f, e in res.errors:
            out.print(f"[red]not archived[/red] {f}: {e}")
    if res.errors:
        sys.exit(1)


@click.command()
@archive_option
@click.option("--all", "everything", is_flag=True, help="Re-parse every original, not only those an older "
              "parser read.")
@click.option("--failed", is_flag=True, help="Re-parse the originals whose parse failed (over a time or memory "
              "limit, or unreadable), however often it did; nothing else.")
@click.option("--jobs", "-j", type=int, default=None, help="Parser processes (default: up to 2).")
@broker_option
@shared_option
@click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
def reparse(archive_dir: Path | None, everything: bool, failed: bool, jobs: int | None, broker: str | None,
            shared: str | None, as_json: bool) -> None:
    """Rebuild parsed data (documents, cells, checks, reports) from the stored originals.

    With --broker the originals go out as parse tasks to `nianbao worker`s (through the shared
    location); reports and revisions are then re-derived here.
    """
    with open_archive(archive_dir) as a, progress_bar("parsing", quiet=as_json) as bar, \
            progress_bar("placing", quiet=as_json) as bar2:
        try:
            parse_with = None
            if broker:
                from crawler.distributed import remote_parse, shared_location

                parse_with = remote_parse(a, broker, shared_location(archive_dir or default_path(), shared))
            res = a.reparse(everything=everything, failed=failed, jobs=jobs, progress=bar, assign_progress=bar2,
                            parse_with=parse_with)
        except RuntimeError as e:  # the broker or the shared location, in words
            raise click.ClickException(str(e)) from e
    data = {"parser_version": res.parser_version, "parsed": res.parsed, "documents": res.documents,
            "reports": res.reports, "unassigned": res.unassigned, "failed": res.failed, "unreadable": res.unreadable}
    if as_json:
        emit_json(data)
    else:
        out.print(f"parser {res.parser_version}: parsed {res.parsed} original(s); "
                  f"{res.documents} document(s) in {res.reports} report(s)"
                  + (f"; {res.unassigned} in no report (nianbao reports --unassigned says why)"
                     if res.unassigned else ""))
        for f in res.failed:
            out.print(f"  could not read {f['sha256'][:12]} ({f['kind']}, failed {f['failures']}x): {f['reason']}")
        if res.unreadable:
            out.print(f"[yellow]{len(res.unreadable)} original(s) skipped[/yellow]: the blob store could not give them "
                      f"back; their documents are left as they were (nianbao verify lists the damage)")
            for u in res.unreadable:
                out.print(f"  skipped {u['sha256'][:12]}: {u['reason']}", highlight=False)


@click.command()
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
