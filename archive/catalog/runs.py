"""Crawl runs as the crawler asks about them: which interrupted runs a new crawl resumes, what a run
brought from a portal's hosts, and which run a crawl that died without reporting opened."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from archive.catalog.db import Catalog
from archive.catalog.views import UNASSIGNED_REASON

RESUMABLE = ("interrupted", "shutdown", "failed")  # a run whose captures the next crawl serves again


@dataclass
class PortalRows:
    """One run's captures on a portal's hosts, and every document those hosts ever brought."""

    captures: list[dict]  # url, final_url, status
    documents: list[dict]  # id, kind, year, agency, and why it is in no report (``unassigned``), one row each


def resumable(catalog: Catalog, portals: Iterable[str]) -> list[int]:
    """Interrupted crawls of these portals since the last one that finished: their captures are reused."""
    names = set(portals)
    out = []
    for r in catalog.rows("SELECT id, status, portals FROM runs WHERE kind = 'crawl' ORDER BY id DESC"):
        ran = set(json.loads(r["portals"] or "[]"))
        if not ran & names:
            continue
        if r["status"] == "ok" and ran >= names:
            break
        if r["status"] in RESUMABLE:
            out.append(r["id"])
    return out


def get(catalog: Catalog, run_id: int | None) -> dict | None:
    """The run's row (status, counts, and its ``stats`` JSON), or None."""
    return catalog.one("SELECT * FROM runs WHERE id = ?", (run_id,)) if run_id else None


def portal_rows(catalog: Catalog, run_id: int | None, hosts: list[str]) -> PortalRows:
    """What a crawl summary reports for one portal: the run's captures there, and the documents found there."""
    marks = ",".join("?" * len(hosts))
    captures = list(catalog.rows(f"SELECT url, final_url, status FROM captures WHERE run_id = ? AND host IN ({marks})",
                                 (run_id, *hosts)))
    documents = list(catalog.rows(
        f"""SELECT DISTINCT d.id, d.kind, r.year, r.agency,
                   CASE WHEN d.report_id IS NULL THEN {UNASSIGNED_REASON} END AS unassigned FROM documents d
            JOIN captures k ON k.sha256 = d.sha256 LEFT JOIN reports r ON r.id = d.report_id
            WHERE k.host IN ({marks})""", tuple(hosts)))
    return PortalRows(captures, documents)


def latest_crawl(catalog: Catalog, *, portal: str | None = None, since: str | None = None) -> int | None:
    """The newest crawl run (of ``portal``, begun at or after ``since``): the run of a crawl that ended
    without reporting its id."""
    where, params = ["kind = 'crawl'"], []
    if since is not None:
        where.append("started_at >= ?")
        params.append(since)
    if portal is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(runs.portals) WHERE value = ?)")
        params.append(portal)
    return catalog.scalar(f"SELECT max(id) FROM runs WHERE {' AND '.join(where)}", tuple(params))


def imported_handovers(catalog: Catalog) -> set[str]:
    """Task ids of the workers' hand-overs already imported."""
    return {r["task_id"] for r in catalog.rows("SELECT task_id FROM handovers")}
