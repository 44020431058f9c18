"""``nianbao agencies list|merge|unmerge|suggest``: one agency under several names, over the
:class:`archive.Archive` methods ``agencies``, ``merge_agencies``, ``unmerge_agency``, ``agency_aliases`` and
``suggest_merges``."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from archive.errors import AliasError
from crawler.cli.base import archive_option, emit_json, open_archive, out


@click.group()
def agencies() -> None:
    """The agencies the archive holds reports of, and the names merged as one agency."""


@agencies.command("list")
@archive_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the agencies, and every alias recorded.")
def agencies_list(archive_dir: Path | None, as_json: bool) -> None:
    """Each agency with its years, the names its reports give and the names merged into it."""
    with open_archive(archive_dir, readonly=True) as a:
        found, aliases = a.agencies(), a.agency_aliases()
    if as_json:
        emit_json({"agencies": found, "aliases": aliases})
        return
    t = Table(title=f"{len(found)} agenc{'y' if len(found) == 1 else 'ies'}")
    for col in ("agency", "years", "names in its reports", "aliases"):
        t.add_column(col)
    for r in found:
        t.add_row(r["agency"] or "?", " ".join(map(str, r["years"])), "、".join(r["names"]), "、".join(r["aliases"]))
    out.print(t)
    if aliases:
        t = Table(title=f"{len(aliases)} alias(es)")
        for col in ("alias", "is the agency", "agency id", "merged", "by", "reason"):
            t.add_column(col)
        for r in aliases:
            t.add_row(r["alias_name"], r["canonical_name"], r["agency_id"], r["merged_at"][:19], r["merged_by"] or "",
                      r["reason"] or "")
        out.print(t)


@agencies.command("merge")
@archive_option
@click.argument("canonical")
@click.argument("alias")
@click.option("--reason", help="Why they are one agency (kept with the alias).")
@click.option("--json", "as_json", is_flag=True)
def agencies_merge(archive_dir: Path | None, canonical: str, alias: str, reason: str | None, as_json: bool) -> None:
    """Record that ALIAS names the agency CANONICAL (the first name is kept): reports, coverage and comparisons
    follow. Refused for one name, a cycle, or a year both names hold a report on."""
    try:
        with open_archive(archive_dir) as a:
            res = a.merge_agencies(canonical, alias, reason=reason)
    except AliasError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        emit_json(res)
        return
    out.print(f"merged: {res['alias_name']} is now {res['canonical_name']} (agency id {res['agency_id']}); "
              f"{res['reports_moved']} report(s) refiled; its years: {' '.join(map(str, res['years'])) or 'none yet'}",
              highlight=False)


@agencies.command("unmerge")
@archive_option
@click.argument("alias")
@click.option("--json", "as_json", is_flag=True)
def agencies_unmerge(archive_dir: Path | None, alias: str, as_json: bool) -> None:
    """Forget that ALIAS is another agency's name: its reports are its own again."""
    try:
        with open_archive(archive_dir) as a:
            res = a.unmerge_agency(alias)
    except AliasError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        emit_json(res)
        return
    out.print(f"unmerged: {res['alias_name']} is its own agency again; {len(res['reports_moved'])} report(s) "
              f"refiled under it", highlight=False)
    if res["reports_kept"]:
        out.print(f"kept under {res['canonical_name']} (their year is taken under {res['alias_name']}): reports "
                  f"{', '.join(map(str, res['reports_kept']))}", highlight=False)


@agencies.command("suggest")
@archive_option
@click.option("--json", "as_json", is_flag=True)
def agencies_suggest(archive_dir: Path | None, as_json: bool) -> None:
    """Pairs of agencies that may be one (a name ending with the other after a place; one SiteIDCode in different
    years): proposed with the command that merges them, never merged."""
    with open_archive(archive_dir, readonly=True) as a:
        found = a.suggest_merges()
    if as_json:
        emit_json(found)
        return
    if not found:
        out.print("no agencies look like one agency under two names")
        return
    t = Table(title=f"{len(found)} possible merge(s)")
    for col in ("keep", "years", "merge into it", "years", "both hold", "why"):
        t.add_column(col)
    for r in found:
        t.add_row(r["canonical"], " ".join(map(str, r["canonical_years"])), r["alias"],
                  " ".join(map(str, r["alias_years"])), " ".join(map(str, r["clash_years"])), ", ".join(r["evidence"]))
    out.print(t)
    out.print("to merge (check each first; a pair holding a report on the same year is refused):", highlight=False)
    for r in found:
        click.echo(f"  {r['command']}")
