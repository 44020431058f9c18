"""A parsed report drawn in the terminal: its identity, sections, the three tables laid out like the
template, and every failed check in red."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from archive.parser import ParseResult
from archive.parser import layout as L
from archive.parser.hints import SOURCE_WORDS
from archive.parser.layout import COLUMN_NAMES

APPLICATION_ROWS = (*L.APPLICATION_ROWS_HEAD, L.APPLICATION_ROW_2019_OTHER, *L.APPLICATION_ROWS_2021_OTHER,
                    *L.APPLICATION_ROWS_TAIL)


def _value(c: dict | None) -> str:
    if c is None:
        return "[dim]·[/dim]"
    text = c["raw"] if c["value"] is None else str(c["value"])
    return f"[cyan]{text}[/cyan]" if c.get("recovered") else text


def print_summary(console: Console, name: str, res: ParseResult) -> None:
    rep = res.report
    console.rule(f"[bold]{name}[/bold]")
    console.print(f"{rep['title'] or '(no title)'}\n{rep['agency'] or '?'} · {rep['year'] or '?'} · template "
                  f"{rep['template']} · {res.kind} · {len(rep['cells'])} cells")
    if said := provenance_line(rep.get("provenance") or {}):
        console.print(f"[dim]{said}[/dim]")
    for s in rep["sections"]:
        console.print(f"  {s['number']}、{s['heading']}  [dim]({len(s['text'])} characters)[/dim]")
    cells = {(c["table"], c["row"], c["column"]): c for c in rep["cells"]}
    failed = [c for c in rep["checks"] if not c["ok"]]
    bad_rows = {c["rule"].split(".")[-1] for c in failed if c["rule"].startswith("applications.row_total")}
    if any(k[0] == "active" for k in cells):
        t = Table(title="二、主动公开政府信息情况", title_justify="left")
        t.add_column("信息内容")
        t.add_column("数值")
        for spec in L.ACTIVE_ROWS["2019" if rep["template"] == "2019" else "2021"]:
            vals = [f"{COLUMN_NAMES[col]} {_value(cells.get(('active', spec.id, col)))}" for col in spec.columns]
            t.add_row(spec.label, "  ".join(vals))
        console.print(t)
    rows = [r for r in APPLICATION_ROWS if any(("applications", r.id, c) in cells for c in L.APPLICATION_COLUMNS)]
    if rows:
        t = Table(title="三、收到和处理政府信息公开申请情况", title_justify="left")
        t.add_column("")
        for col in L.APPLICATION_COLUMNS:
            t.add_column(COLUMN_NAMES[col], justify="right")
        for r in rows:
            label = f"[red]{r.id} {r.label[:14]}[/red]" if r.id in bad_rows else f"{r.id} {r.label[:14]}"
            t.add_row(label, *(_value(cells.get(("applications", r.id, c))) for c in L.APPLICATION_COLUMNS))
        console.print(t)
    if any(k[0] == "review_litigation" for k in cells):
        t = Table(title="四、政府信息公开行政复议、行政诉讼情况", title_justify="left")
        t.add_column("")
        for col in L.REVIEW_COLUMNS:
            t.add_column(COLUMN_NAMES.get(col, col), justify="right")
        for g in L.REVIEW_ROWS:
            t.add_row(L.REVIEW_LABELS[g], *(_value(cells.get(("review_litigation", g, c))) for c in L.REVIEW_COLUMNS))
        console.print(t)
    ok = sum(c["ok"] for c in rep["checks"])
    console.print(f"checks: {ok} passed, [{'red' if failed else 'green'}]{len(failed)} failed[/]")
    for c in failed:
        console.print(f"  [red]✗ {c['rule']}[/red]  {c['detail']}")
    for w in rep["warnings"]:
        console.print(f"  [yellow]warning:[/yellow] {w}")
    if any(c.get("recovered") for c in rep["cells"]):
        console.print("  [cyan]cyan[/cyan] numbers were recovered (OCR or glued digits split by the template's totals)")



def provenance_line(provenance: dict) -> str:
    """Where agency, year and publication date were read, in words (``agency from the signature block``)."""
    parts = [f"{what} from {SOURCE_WORDS.get(src, src)}" for what, src in provenance.items()
             if what in ("agency", "year", "published")]
    return "; ".join(parts)


def print_crawl_summary(console: Console, summary) -> None:
    """The end of a crawl: a table per portal (reports by year, documents by kind, what failed)."""
    console.print(f"[bold]crawl {summary.status}[/bold] in {summary.seconds:.0f} s: {summary.responses:,} responses "
                  f"({summary.bytes / 2**20:.1f} MB), {summary.new_blobs} new originals, {summary.not_modified} not "
                  f"modified, {summary.new_documents} new documents, {summary.new_reports} new reports"
                  + (f"; {summary.resumed_from_archive} pages reused from an interrupted run"
                     if summary.resumed_from_archive else "")
                  + (f"; {summary.not_rechecked} attachments without ETag/Last-Modified kept from the archive "
                     "(their page was unchanged and their copy younger than recheck_days)"
                     if summary.not_rechecked else ""))
    for said in (kept_out_line(summary.browser_kept_out), redirected_out_line(summary.browser_redirected_out)):
        if said:
            console.print(said)
    behind = [(p.name, p.left_behind) for p in summary.portals if p.left_behind]
    for name, what in behind:
        console.print(f"[yellow]{name} left reports behind:[/yellow] {'; '.join(what)}")
    for p in summary.portals:
        t = Table(title=f"{p.name}  ({', '.join(p.hosts)}; {p.responses} responses)", title_justify="left",
                  show_header=False)
        for year, agencies in p.reports.items():
            t.add_row(f"report {year}", "、".join(agencies))
        if not p.reports:
            t.add_row("reports", "[yellow]none found[/yellow]")
        elif p.years_without:
            t.add_row("[yellow]no report for[/yellow]", "、".join(map(str, p.years_without))
                      + " (due, and none found; published elsewhere, late, or missed)")
        for x in p.lists[:10]:
            said = (f"announces {x['announced']}, {x['found']} collected" if x["announced"] is not None
                    else f"{x['found']} collected")
            why = x["why"] or "fewer items than it announces"
            t.add_row("[yellow]list not read in full[/yellow]", f"{x['url']}  {why}; {said} ({x['method']})")
        t.add_row("documents", ", ".join(f"{k} {n}" for k, n in sorted(p.documents.items())) or "—")
        if p.unassigned:
            t.add_row(f"[yellow]{sum(p.unassigned.values())} in no report[/yellow]",
                      "; ".join(f"{n} × {why}" for why, n in p.unassigned.items())
                      + " (nianbao reports --unassigned lists them)")
        if p.challenges_passed:
            t.add_row("challenges", f"{p.challenges_passed} page{'s' if p.challenges_passed > 1 else ''} behind an "
                      "anti-bot challenge, passed in Chromium")
        if p.browser_kept_out:
            t.add_row("kept in scope", kept_out_line(p.browser_kept_out))
        if p.browser_redirected_out:
            t.add_row("[yellow]left scope[/yellow]", redirected_out_line(p.browser_redirected_out))
        for b in p.blocked[:10]:
            t.add_row("[red]blocked[/red]", f"{b['url']}  {b['reason']}")
        for f in p.failed[:10]:
            t.add_row("[yellow]failed[/yellow]", f"{f['url']}  {f['reason']}")
        if len(p.failed) > 10:
            t.add_row("", f"… and {len(p.failed) - 10} more")
        if p.skipped:
            reasons = Counter(s["reason"].split(":")[0] for s in p.skipped)
            t.add_row("skipped", "; ".join(f"{n} × {r}" for r, n in reasons.most_common()))
        for h in p.throttled:
            t.add_row("[yellow]slowed down[/yellow]", throttled_line(h))
        console.print(t)


def _s(seconds: float) -> str:
    return f"{seconds:g} s"


def throttled_line(h: dict) -> str:
    """What a host asked of the crawl and what was done, in words (``127.0.0.61 answered 429/503 4 times;
    waited as asked (Retry-After up to 3 s); delay raised to 4 s``)."""
    said, floor = [], h.get("floor_s")
    if cd := h.get("crawl_delay"):
        kept = f"{_s(floor)} kept (the most nianbao waits)" if floor is not None and cd > floor else "obeyed"
        said.append(f"robots.txt asks {_s(cd)} between requests: {kept}")
    if n := h.get("answers"):
        said.append(f"answered 429/503 {n} time{'s' if n > 1 else ''}")
        asked, waited = h.get("retry_after_max"), h.get("waited_max")
        if asked is not None and waited is not None and asked > waited:
            said.append(f"asked to wait up to {_s(asked)}, waited {_s(waited)} (the most nianbao waits)")
        elif asked is not None:
            said.append(f"waited as asked (Retry-After up to {_s(asked)})")
        if floor is not None:
            said.append(f"delay raised to {_s(floor)}")
    whose = "'s" if h.get("crawl_delay") else ""  # "127.0.0.60's robots.txt asks …"
    return f"{h['host']}{whose} {'; '.join(said)}"


def _hosts_said(hosts: dict[str, int]) -> str:
    return ", ".join(f"{h} ({k})" for h, k in list(hosts.items())[:8]) + (" …" if len(hosts) > 8 else "")


def redirected_out_line(hosts: dict[str, int]) -> str:
    """Server redirects to other hosts Chromium followed (no route sees a redirect), in words; empty when none."""
    if not (n := sum(hosts.values())):
        return ""
    return (f"the browser followed {n} server redirect{'s' if n > 1 else ''} to other hosts (a redirect passes "
            f"the browser's route; what it fetched there was dropped): {_hosts_said(hosts)}")


def kept_out_line(hosts: dict[str, int]) -> str:
    """What Chromium was kept from, in words (``the browser was kept from 3 requests to other hosts:
    127.0.0.93 (2), cdn.example.com (1)``); empty when nothing."""
    if not (n := sum(hosts.values())):
        return ""
    return f"the browser was kept from {n} request{'s' if n > 1 else ''} to other hosts: {_hosts_said(hosts)}"
