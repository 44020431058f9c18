"""``nianbao schedule start|list|run-now|history`` and ``nianbao coverage``: thin commands over
:mod:`scheduler`, :mod:`crawler.harvest`, :mod:`crawler.portals` and ``Archive.coverage``, with the same names."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click
from rich.table import Table

from archive.archive import default_path
from crawler.cli.base import archive_option, emit_json, err, open_archive, out

OUTCOME_STYLE = {"ok": "green", "running": "cyan", "skipped": "yellow", "stopped": "yellow", "timeout": "red",
                 "failed": "red", "crashed": "red", "interrupted": "yellow"}
# Every coverage status, in the order the coverage module's STATUSES lists them (the summary line's order).
STATUS_STYLE = {"on_time": "green", "late": "red", "undated": "yellow", "missing": "bold red",
                "unchecked": "dim", "not_due": "dim"}


def _config(where: Path):
    from scheduler import ScheduleConfig, ScheduleConfigError

    try:
        return ScheduleConfig.load(where)
    except ScheduleConfigError as e:
        raise click.ClickException(str(e)) from e


def _outcome(h: dict | None) -> str:
    if not h:
        return "[dim]never[/dim]"
    style = OUTCOME_STYLE.get(h["outcome"], "")
    return f"[{style}]{h['outcome']}[/{style}] {(h.get('started_at') or '')[:16].replace('T', ' ')}Z"


@click.group()
def schedule() -> None:
    """Recurring harvests: run the scheduler, see what it will do and what it did."""


@schedule.command("start")
@archive_option
@click.option("--verbose", "-v", is_flag=True, help="Log APScheduler's own decisions too.")
def schedule_start(archive_dir: Path | None, verbose: bool) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C (logs to stderr and ARCHIVE/logs/)."""
    import logging

    from scheduler import SchedulerRunning, Service, setup_logging
    from spiders.profiles import ProfileError

    where = archive_dir or default_path()
    where.mkdir(parents=True, exist_ok=True)
    config = _config(where)
    path = setup_logging(where, logging.DEBUG if verbose else logging.INFO)
    err.print(f"logging to {path}")
    try:
        Service(where, config=config).run()
    except SchedulerRunning as e:
        raise click.ClickException(str(e)) from e
    except ProfileError as e:
        raise click.ClickException(f"a portal profile is wrong: {e}") from e


@schedule.command("list")
@archive_option
@click.option("--failing", is_flag=True, help="Only the portals whose last harvests failed (backing off).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def schedule_list(archive_dir: Path | None, failing: bool, as_json: bool) -> None:
    """Each scheduled portal: its schedule, the last run and its outcome, failures in a row and back-off, the
    next run."""
    from scheduler import schedule_list as listing
    from spiders.profiles import ProfileError

    where = archive_dir or default_path()
    try:
        data = listing(where, config=_config(where), failing=failing)
    except ProfileError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        emit_json(data)
        return
    h = data["scheduler"]
    out.print(f"scheduler: [green]running[/green] (pid {h.get('pid')} on {h.get('host')}, since {h.get('since')})"
              if h is not None else "scheduler: [yellow]not running[/yellow] (start it with `nianbao schedule start`)")
    t = Table(title=f"{len(data['portals'])} {'failing' if failing else 'scheduled'} portal(s), "
                    f"times in {data['timezone']}")
    for col in ("portal", "schedule", "last run", "pages / new docs / new reports", "failures", "next run"):
        t.add_column(col)
    for p in data["portals"]:
        last = p["last_run"]
        nums = f"{last['pages']} / {last['new_documents']} / {last['new_reports']}" if last else ""
        reason = f"\n[dim]{last['reason']}[/dim]" if last and last.get("reason") else ""
        fails = (f"[red]{p['failures']}[/red]" + (f" backs off to {p['backoff_until'][:16].replace('T', ' ')}"
                                                  if p["backing_off"] else "")) if p["failures"] else ""
        t.add_row(p["portal"], p["schedule"], _outcome(last) + reason, nums, fails,
                  (p["next_run"] or "—")[:16].replace("T", " ") + ("" if p["next_run_stored"] else " (not stored yet)"))
    out.print(t)
    if data["failing"] and not failing:
        out.print(f"[red]{len(data['failing'])} portal(s) failing[/red], backing off: {', '.join(data['failing'][:10])}"
                  + (" …" if len(data["failing"]) > 10 else "") + " (`nianbao schedule list --failing`)")
    if not data["portals"] and not failing:
        out.print("no portals are scheduled: add profiles with `nianbao portals add URL`, or name bundled ones in "
                  f"{where / 'schedule.toml'} (bundled = [\"…\"])")


@schedule.command("run-now")
@archive_option
@click.argument("portals", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the harvest rows as JSON.")
def schedule_run_now(archive_dir: Path | None, portals: tuple[str, ...], as_json: bool) -> None:
    """Harvest these portals now (beside a running scheduler; never two harvests of one portal)."""
    from scheduler import run_now
    from spiders.profiles import ProfileError

    where = archive_dir or default_path()
    if not as_json:
        err.print(f"harvesting {', '.join(portals)} … (log in {where / 'logs'})")
    try:
        rows = run_now(where, list(portals), config=_config(where), crawl_kwargs={"progress": not as_json})
    except ProfileError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        emit_json(rows)
    else:
        _history_table(rows, "harvested")
    if any(r["outcome"] != "ok" for r in rows):
        sys.exit(1)


@schedule.command("history")
@archive_option
@click.argument("portal", required=False)
@click.option("--limit", type=int, default=30, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def schedule_history(archive_dir: Path | None, portal: str | None, limit: int, as_json: bool) -> None:
    """The latest harvests (of one portal, if named), newest first."""
    with open_archive(archive_dir, readonly=True) as a:
        rows = a.harvests(portal, limit)
    if as_json:
        emit_json(rows)
    else:
        _history_table(rows, f"{len(rows)} harvest(s)")


def _history_table(rows: list[dict], title: str) -> None:
    t = Table(title=title)
    for col in ("id", "portal", "trigger", "started (UTC)", "s", "outcome", "pages", "new docs", "new reports",
                "blocked", "errors"):
        t.add_column(col)
    for r in rows:
        style = OUTCOME_STYLE.get(r["outcome"], "")
        t.add_row(str(r["id"]), r["portal"], r["trigger"], (r["started_at"] or "")[:19].replace("T", " "),
                  f"{r['seconds'] or 0:.0f}", f"[{style}]{r['outcome']}[/{style}]", str(r["pages"]),
                  str(r["new_documents"]), str(r["new_reports"]), str(r["blocked"]), str(r["errors"]))
    out.print(t)
    for r in rows:
        if r["reason"]:
            out.print(f"  {r['portal']} #{r['id']}: {r['reason']}")


@click.command()
@archive_option
@click.option("--year", type=int, help="Only reports on this year.")
@click.option("--region", help="Only agencies of this region (the first unit of their name, e.g. 安康市).")
@click.option("--portal", "portal_names", multiple=True, help="Only reports met on these portals and their "
              "profiles' agencies (default: every report in the archive, however it arrived).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), help="Judge as of this day (default: today).")
@click.option("--matrix", is_flag=True, help="Region × year: agencies judged and how many were on time.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (UTF-8 with a BOM, for Excel).")
def coverage(archive_dir: Path | None, year: int | None, region: str | None, portal_names: tuple[str, ...], today,
             matrix: bool, as_json: bool, as_csv: bool) -> None:
    """Per agency and year: published by the deadline, late, missing or not yet due, for every report in
    the archive; reports met on a portal with a profile are judged against its harvests."""
    from archive.errors import ArchiveError, CatalogError
    from crawler.portals import portals_in, scopes
    from scheduler import ScheduleConfigError
    from spiders.profiles import ProfileError

    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    where = archive_dir or default_path()
    try:
        chosen = scopes(portals_in(where, portal_names))
    except (ProfileError, ScheduleConfigError, ArchiveError, CatalogError) as e:
        raise click.ClickException(str(e)) from e
    judge = dict(year=year, region=region, today=today.date() if today else date.today(),
                 only_portals=bool(portal_names))
    with open_archive(where, readonly=True) as a:
        if as_csv:
            sys.stdout.write(a.coverage_csv(chosen, matrix=matrix, **judge))
            return
        if matrix:
            rows = a.coverage_matrix(chosen, **judge)
        else:
            verdicts = a.coverage(chosen, **judge)
            rows = [v.as_dict() for v in verdicts]
    if as_json:
        emit_json(rows)
        return
    if matrix:
        _print_matrix(rows)
        return
    t = Table(title=f"coverage{f' of {year}' if year else ''}: {len(verdicts)} agency-year(s)")
    for col in ("region", "agency", "year", "status", "deadline", "published", "on what", "portal", "report"):
        t.add_column(col)
    for v in verdicts:
        style = STATUS_STYLE[v.status]
        status = f"[{style}]{v.status}[/{style}]" + (f" +{v.days_late}d" if v.status == "late" else "")
        t.add_row(v.region or "", v.agency, str(v.year), status, v.deadline, v.published or "",
                  v.source or "; ".join(v.evidence), v.portal, str(v.report_id or ""))
    out.print(t)
    counts = {s: sum(v.status == s for v in verdicts) for s in STATUS_STYLE}
    out.print("  ".join(f"[{STATUS_STYLE[s]}]{s}[/{STATUS_STYLE[s]}] {n}" for s, n in counts.items() if n) or
              "nothing to judge: the archive holds no dated report and no portal profile names an agency")


def _print_matrix(rows: list[dict]) -> None:
    """Regions down, years across: on time / agencies whose report was due (not-due ones left out)."""
    years = sorted({r["year"] for r in rows})
    t = Table(title="agencies published on time / due, by region and year")
    t.add_column("region")
    for y in years:
        t.add_column(str(y), justify="right")
    by = {(r["region"], r["year"]): r for r in rows}
    for reg in dict.fromkeys(r["region"] for r in rows):
        cells = []
        for y in years:
            r = by.get((reg, y))
            due = r["agencies"] - r["not_due"] if r else 0
            cells.append(f"{r['on_time']}/{due}" if r and due else ("not due" if r else ""))
        t.add_row(reg or "(no region in the name)", *cells)
    out.print(t)
