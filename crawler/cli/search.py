"""``nianbao search`` and ``nianbao reindex``: thin commands over :mod:`archive.search.query`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from archive.errors import QueryError
from crawler.cli.base import archive_option, emit_json, open_archive, out
from crawler.progress import progress_bar


def _marked(snippet_html: str) -> str:
    """The snippet's <mark> as rich highlight, everything else shown as text."""
    import html

    parts = snippet_html.split("<mark>")
    text = escape(html.unescape(parts[0]))
    for p in parts[1:]:
        hit, _, rest = p.partition("</mark>")
        text += f"[bold yellow]{escape(html.unescape(hit))}[/bold yellow]{escape(html.unescape(rest))}"
    return text


@click.command()
@archive_option
@click.argument("query", required=False, default="")
@click.option("--agency", help="Agencies whose name contains this.")
@click.option("--region", help="Region (the first unit of the agency's name: 安康市, 陕西省, 中央).")
@click.option("--year", type=int, help="Reports on this year.")
@click.option("--template", type=click.Choice(["2019", "2021", "legacy", "unknown"]))
@click.option("--kind", help="Document kind: html, pdf, docx, doc, wps, image, text.")
@click.option("--failed-checks", is_flag=True, help="Only reports with a failed arithmetic check.")
@click.option("--failed-rule", help="Only reports failing this check (a rule or its prefix).")
@click.option("--cell", "cells", multiple=True, metavar="COND",
              help="A cell condition, e.g. 'applications.1.total>100' (repeatable; all must hold).")
@click.option("--all-documents", is_flag=True, help="Search every rendition and earlier revision, not only each "
              "report's current primary document.")
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--per-page", type=int, default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search(archive_dir: Path | None, query: str, agency: str | None, region: str | None, year: int | None,
           template: str | None, kind: str | None, failed_checks: bool, failed_rule: str | None,
           cells: tuple[str, ...], all_documents: bool, page: int, per_page: int, as_json: bool) -> None:
    """Full-text search (exact for Chinese terms of 2+ characters) with filters and cell conditions."""
    with open_archive(archive_dir) as a:
        try:
            res = a.search(query, agency=agency, region=region, year=year, template=template, kind=kind,
                           failed_checks=failed_checks, failed_rule=failed_rule, cells=list(cells),
                           all_documents=all_documents, page=page, per_page=per_page)
        except QueryError as e:
            raise click.ClickException(str(e)) from e
    if as_json:
        emit_json(res.as_dict())
        return
    first = (page - 1) * per_page
    out.print(f"{res.total:,} report(s){f' for {query!r}' if query else ''}"
              f" — showing {first + 1 if res.hits else 0}–{first + len(res.hits)} ({res.took_ms:.0f} ms)")
    for note in res.notes:
        out.print(f"[yellow]note:[/yellow] {note}")
    t = Table(show_lines=True)
    for col in ("report", "agency", "year", "kind", "checks", "snippet"):
        t.add_column(col)
    for h in res.hits:
        t.add_row(str(h.report_id or "—"), h.agency or "?", str(h.year or ""), h.kind or "",
                  f"[red]{h.failed_checks} failed[/red]" if h.failed_checks else "ok", _marked(h.snippet))
    out.print(t)
    for name, values in res.facets.items():
        if values:
            out.print(f"[dim]{name}:[/dim] " + "  ".join(f"{v['value']} {v['count']}" for v in values[:12]))
    if not res.total:
        sys.exit(1)


@click.command()
@archive_option
@click.option("--pending", "only_pending", is_flag=True, help="Only index what is waiting, do not rebuild.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def reindex(archive_dir: Path | None, only_pending: bool, as_json: bool) -> None:
    """Rebuild the search index from the catalog (or index only what is waiting)."""
    import time

    with open_archive(archive_dir) as a, progress_bar("indexing", quiet=as_json) as bar:
        t = time.perf_counter()
        n = a.reindex(only_pending=only_pending, progress=bar)
        seconds = time.perf_counter() - t
    if as_json:
        emit_json({"indexed": n, "seconds": round(seconds, 2)})
    else:
        out.print(f"indexed {n:,} document(s) in {seconds:.1f} s")


@click.command()
@archive_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but loopback exposes the archive and needs --allow-remote.")
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--writable", is_flag=True, help="Open the archive for writing (keeps the search index current); "
              "read-only by default.")
@click.option("--allow-remote", is_flag=True, help="Mean it: serve on an address other machines can reach.")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="A Host name to answer besides loopback and this machine's names (repeatable; "
                   "'*.example.org' patterns). Requests addressed to other names get 400 (DNS rebinding).")
@click.option("--token", envvar="NIANBAO_TOKEN", default=None, metavar="TOKEN",
              help="Ask every request for this read token (Authorization: Bearer, or ?token= once in a browser). "
                   "Also read from $NIANBAO_TOKEN, which keeps it out of the process list.")
def serve(archive_dir: Path | None, host: str, port: int, writable: bool, allow_remote: bool,
          allowed_hosts: tuple[str, ...], token: str | None) -> None:
    """Serve the archive: search, report pages, coverage, and the JSON API under /api."""
    import uvicorn

    from archive.archive import default_path
    from archive.errors import ArchiveError, CatalogError
    from archive.web import create_app
    from archive.web.access import is_loopback, serving_hosts
    from crawler.cli.base import err
    from crawler.portals import portals_in, scopes
    from scheduler import ScheduleConfigError
    from spiders.profiles import ProfileError

    remote = not is_loopback(host)
    if remote and not allow_remote:
        raise click.UsageError(f"--host {host} lets every machine that can reach this one read the archive; "
                               "add --allow-remote to mean it (and --token to ask for a read token)")
    if token is not None and not token.strip():
        raise click.UsageError("--token is empty")
    names = serving_hosts(host, allowed_hosts)
    where = archive_dir or default_path()
    try:
        app = create_app(where, portals=scopes(portals_in(where)), readonly=not writable, allowed_hosts=names,
                         token=token)
    except (ProfileError, ScheduleConfigError, ArchiveError, CatalogError) as e:
        raise click.ClickException(str(e)) from e
    if remote:
        err.print(f"[yellow]warning:[/yellow] serving on {host}, reachable from other machines"
                  + ("; every request needs the read token" if token else
                     "; no --token: anyone who can reach it can read the archive")
                  + (" [bold]and write to it (--writable)[/bold]" if writable else ""))
    out.print(f"serving {where} on [bold]http://{host}:{port}/[/bold] ({'writable' if writable else 'read-only'}; "
              f"API description at /openapi.json); answering requests addressed to {', '.join(names)}; Ctrl-C stops")
    uvicorn.run(app, host=host, port=port, log_level="warning")
