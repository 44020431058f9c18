"""``nianbao portals add|list|import|export``: thin commands over :mod:`spiders.profiles` (one TOML profile) and
:mod:`spiders.registry` (many portals from a CSV or JSONL file, in the catalog)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.table import Table

from archive.archive import default_path
from crawler.cli.base import archive_option, emit_json, err, out

TABLE_ROWS = 500  # beyond this `portals list` prints plain lines: a rich table of 100,000 rows takes minutes


@click.group()
def portals() -> None:
    """Portal profiles: what to crawl and how (TOML profiles, and the registry imported from a file)."""


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
@click.option("--json", "as_json", is_flag=True, help="Every portal with all its fields, as JSON.")
def portals_list(archive_dir: Path | None, as_json: bool) -> None:
    """Every portal: the archive's own TOML profiles, the bundled ones and the registry's rows, with where each
    comes from; a registry row shadowed by a TOML profile of the same name is listed as such."""
    from spiders.profiles import ProfileError
    from spiders.registry import listing

    try:
        found = listing(archive_dir or default_path())
    except ProfileError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        emit_json(found)
        return
    used = [p for p in found if p["in_use"]]
    counts = {o: sum(p["origin"] == o for p in used) for o in ("own", "bundled", "registry")}
    shadowed = len(found) - len(used)
    title = (f"{len(used)} portal(s): {counts['own']} own, {counts['bundled']} bundled, {counts['registry']} "
             f"registry" + (f"; {shadowed} shadowed by a profile of the same name" if shadowed else ""))

    def origin(p: dict) -> str:
        return p["origin"] if p["in_use"] else f"{p['origin']} (shadowed by {p['shadowed_by']})"

    if len(found) > TABLE_ROWS:
        err.print(title)
        for p in found:
            click.echo("\t".join([p["name"], origin(p), p["agency"] or "", p["region"] or "", p["level"] or "",
                                  " ".join(p["start_urls"])]))
        return
    t = Table(title=title)
    for col in ("name", "origin", "agency", "region", "level", "start", "render", "robots"):
        t.add_column(col)
    for p in found:
        t.add_row(p["name"], origin(p), p["agency"] or "", p["region"] or "", p["level"] or "",
                  " ".join(p["start_urls"]), p["render"], "yes" if p["robots"] else "no",
                  style=None if p["in_use"] else "dim")
    out.print(t)


@portals.command("import")
@archive_option
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="Remove the registry's portals that the file does not name.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), help="Default: by the extension, else sniffed.")
@click.option("--json", "as_json", is_flag=True, help="Print what changed as JSON.")
def portals_import(archive_dir: Path | None, file: Path, replace: bool, fmt: str | None, as_json: bool) -> None:
    """Register portals from a CSV (header row; UTF-8, with or without BOM, or Excel's GBK) or JSONL file:
    name, agency, url, region, level (国/省/市/县/乡), parent, site_id (SiteIDCode) and optional profile keys.

    Every row is checked first; any error refuses the whole file (each error with its line number) and
    nothing is written. Importing the same file again changes nothing.
    """
    from spiders.registry import RegistryError, import_file

    where = archive_dir or default_path()
    with err.status(f"reading {file} …") as status:
        def progress(n: int) -> None:
            status.update(f"reading {file}: {n:,} rows checked …")

        try:
            res = import_file(where, file, replace=replace, fmt=fmt, progress=progress if not as_json else None)
        except RegistryError as e:
            raise click.ClickException(str(e)) from e
    if as_json:
        emit_json({k: v for k, v in res.items() if not k.endswith("_names")})
        return
    out.print(f"{res['rows']:,} portal(s) in {file}: {res['added']:,} added, {res['changed']:,} changed, "
              f"{res['unchanged']:,} unchanged" + (f", {res['removed']:,} removed" if replace else ""),
              soft_wrap=True, highlight=False)
    if res["shadowed"]:
        names = ", ".join(res["shadowed"][:20]) + (" …" if len(res["shadowed"]) > 20 else "")
        out.print(f"{len(res['shadowed'])} of them shadowed by a TOML profile of the same name, which is used "
                  f"instead: {names}", soft_wrap=True, highlight=False)


@portals.command("export")
@archive_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Default: stdout.")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]),
              help="Default: by the output's extension, else csv.")
@click.option("--all", "everything", is_flag=True,
              help="The TOML profiles in use too (bundled and the archive's own), as registry rows.")
def portals_export(archive_dir: Path | None, output: Path | None, fmt: str | None, everything: bool) -> None:
    """Write the registry as a file `nianbao portals import` reads back (CSV: UTF-8 with a BOM, for Excel)."""
    from spiders.registry import export_rows, write

    where = archive_dir or default_path()
    fmt = fmt or ("jsonl" if output and output.suffix.lower() in (".jsonl", ".ndjson", ".json") else "csv")
    rows = export_rows(where, everything=everything)
    if output is None:
        n = write(rows, sys.stdout, fmt)
    else:
        tmp = output.with_name(output.name + ".tmp")
        with open(tmp, "w", encoding="utf-8-sig" if fmt == "csv" else "utf-8", newline="") as fh:
            n = write(rows, fh, fmt)
        os.replace(tmp, output)
    err.print(f"exported {n:,} portal(s)" + (f" to {output}" if output else ""), soft_wrap=True, highlight=False)

