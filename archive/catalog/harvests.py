"""The harvest history: one ``harvests`` row per harvest of a portal, opened before the crawl process
starts and closed with its outcome, so a crash, a time-out or a stop is on record with its reason.

Outcomes: ``running``, ``ok``, ``failed`` (the crawl reached nothing or reported an error), ``crashed``
(the crawl process died), ``timeout`` (ended at the time limit), ``stopped`` (the scheduler was asked to
stop; what was fetched is saved and the next run resumes it), ``interrupted`` (the harvesting process
itself died; found and marked at the next start), ``skipped`` (the portal was being harvested already).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable

from archive.capture import iso, utcnow
from archive.catalog.db import Catalog
from archive.store.durability import pid_alive

OUTCOMES = ("running", "ok", "failed", "crashed", "timeout", "stopped", "interrupted", "skipped")
UNFINISHED = ("stopped", "interrupted")  # a run the next start resumes at once


def begin(catalog: Catalog, portal: str, trigger: str, scheduled_for: str | None = None) -> int:
    """Open a harvest row (outcome ``running``) owned by this process; return its id."""
    with catalog.transaction() as db:
        return db["harvests"].insert({
            "portal": portal, "trigger": trigger, "scheduled_for": scheduled_for, "started_at": iso(utcnow()),
            "outcome": "running", "pid": os.getpid(), "host": socket.gethostname(),
        }).last_pk


def finish(catalog: Catalog, harvest_id: int, outcome: str, reason: str | None = None, **numbers) -> None:
    """Close a harvest row with its outcome and the crawl's numbers (pages, new_documents, …)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown harvest outcome {outcome!r}")
    with catalog.transaction() as db:
        db["harvests"].update(harvest_id, {"outcome": outcome, "reason": reason, "ended_at": iso(utcnow()),
                                           **numbers})


def skipped(catalog: Catalog, portal: str, trigger: str, reason: str, scheduled_for: str | None = None) -> int:
    """Record a harvest that did not start (the portal was busy), so the history has no silent gaps."""
    hid = begin(catalog, portal, trigger, scheduled_for)
    finish(catalog, hid, "skipped", reason)
    return hid


def recover(catalog: Catalog) -> list[int]:
    """Mark ``running`` rows of this host whose process is gone as ``interrupted``; return their ids."""
    host = socket.gethostname()
    dead = [r["id"] for r in catalog.rows("SELECT id, pid FROM harvests WHERE outcome = 'running' AND host = ?",
                                          (host,)) if not r["pid"] or not pid_alive(r["pid"])]
    if dead:
        with catalog.transaction():
            for hid in dead:
                catalog.conn.execute(
                    "UPDATE harvests SET outcome = 'interrupted', ended_at = ?, reason = ? WHERE id = ?",
                    (iso(utcnow()), "the harvesting process ended before the crawl did (killed or crashed); "
                     "the next run resumes from what was saved", hid))
    return dead


def last(catalog: Catalog, portals: Iterable[str] | None = None) -> dict[str, dict]:
    """The latest harvest of each portal (a ``skipped`` one only when nothing else is on record); none
    from a catalog older than the harvest history."""
    if not catalog.db["harvests"].exists():
        return {}
    rows = catalog.rows("""SELECT h.* FROM harvests h WHERE h.id = (
        SELECT max(id) FROM harvests g WHERE g.portal = h.portal AND g.outcome != 'skipped')
        OR (h.outcome = 'skipped' AND NOT EXISTS (
            SELECT 1 FROM harvests g WHERE g.portal = h.portal AND g.outcome != 'skipped'))
        ORDER BY h.id""")
    out = {r["portal"]: r for r in rows}
    return {p: out[p] for p in portals if p in out} if portals is not None else out


def unfinished(catalog: Catalog) -> list[str]:
    """Portals whose latest harvest (``skipped`` ones aside) was cut off (:data:`UNFINISHED`): the next start
    resumes them. Reads the few unfinished rows through the ``outcome`` index, not the whole history."""
    if not catalog.db["harvests"].exists():
        return []
    marks = ",".join("?" * len(UNFINISHED))
    return [r["portal"] for r in catalog.rows(f"""
        SELECT DISTINCT h.portal FROM harvests h WHERE h.outcome IN ({marks})
          AND h.id = (SELECT max(g.id) FROM harvests g WHERE g.portal = h.portal AND g.outcome != 'skipped')
        ORDER BY h.portal""", UNFINISHED)]


def history(catalog: Catalog, portal: str | None = None, limit: int = 50) -> list[dict]:
    """The latest harvests, newest first; none from a catalog older than the harvest history."""
    if not catalog.db["harvests"].exists():
        return []
    where, params = ("WHERE portal = ?", (portal,)) if portal else ("", ())
    return list(catalog.rows(f"SELECT * FROM harvests {where} ORDER BY id DESC LIMIT ?", (*params, limit)))


def get(catalog: Catalog, ids: Iterable[int]) -> list[dict]:
    """These harvest rows, in the order asked (an id with no row is left out)."""
    ids = list(ids)
    marks = ",".join("?" * len(ids))
    found = {r["id"]: r for r in catalog.rows(f"SELECT * FROM harvests WHERE id IN ({marks})", ids)} if ids else {}
    return [found[i] for i in ids if i in found]


def portal_numbers(catalog: Catalog, run_id: int, hosts: list[str]) -> dict:
    """What one run brought from one portal's hosts: pages fetched, documents and reports first seen."""
    marks = ",".join("?" * len(hosts))
    pages = catalog.scalar(f"SELECT count(*) FROM captures WHERE run_id = ? AND host IN ({marks})",
                           (run_id, *hosts)) or 0
    # A document is new in this run when no earlier run captured its bytes; a report is new when
    # every one of its documents is.
    new_docs = [r["id"] for r in catalog.rows(f"""
        SELECT DISTINCT d.id FROM documents d JOIN captures k ON k.sha256 = d.sha256
        WHERE k.run_id = ? AND k.host IN ({marks})
          AND NOT EXISTS (SELECT 1 FROM captures e WHERE e.sha256 = d.sha256 AND e.run_id < ?)""",
        (run_id, *hosts, run_id))]
    new_reports = catalog.scalar(f"""
        SELECT count(DISTINCT d.report_id) FROM documents d WHERE d.id IN ({",".join(map(str, new_docs)) or "NULL"})
          AND NOT EXISTS (SELECT 1 FROM documents o JOIN captures e ON e.sha256 = o.sha256
                          WHERE o.report_id = d.report_id AND e.run_id < ?)""", (run_id,)) or 0
    return {"pages": pages, "new_documents": len(new_docs), "new_reports": new_reports}


class HarvestLog:
    """The harvest history of one archive as the crawler and the scheduler keep it (``Archive.harvest_log``):
    the functions above, bound to its catalog, so neither reaches into the catalog itself."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def begin(self, portal: str, trigger: str, scheduled_for: str | None = None) -> int:
        return begin(self._catalog, portal, trigger, scheduled_for)

    def finish(self, harvest_id: int, outcome: str, reason: str | None = None, **numbers) -> None:
        finish(self._catalog, harvest_id, outcome, reason, **numbers)

    def skipped(self, portal: str, trigger: str, reason: str, scheduled_for: str | None = None) -> int:
        return skipped(self._catalog, portal, trigger, reason, scheduled_for)

    def recover(self) -> list[int]:
        return recover(self._catalog)

    def last(self, portals: Iterable[str] | None = None) -> dict[str, dict]:
        return last(self._catalog, portals)

    def unfinished(self) -> list[str]:
        return unfinished(self._catalog)

    def get(self, ids: Iterable[int]) -> list[dict]:
        return get(self._catalog, ids)

    def portal_numbers(self, run_id: int, hosts: list[str]) -> dict:
        return portal_numbers(self._catalog, run_id, hosts)
