"""The scheduler's frontier: one ``frontier`` row per scheduled portal with when it is next due, so 100,000
portals are a table and an index, not 100,000 jobs (the way large crawlers keep theirs).

The scheduler computes every time (cron lines live in :mod:`spiders.cron`, which this layer never imports)
and hands them in: :meth:`Frontier.sync` makes the rows match the portal set in one transaction,
:meth:`Frontier.due` picks the earliest due ones through the ``next_due`` index, :meth:`Frontier.record`
puts harvests' outcomes down (a success clears the failures, a failure counts one more and the back-off
the scheduler chose). Times are UTC ISO strings of one width (:func:`archive.capture.iso`), so they
compare as text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from datetime import datetime

from archive.capture import iso
from archive.catalog.db import Catalog

RESULTS = ("ok", "failed", "other")  # success, a failure (counted, backs off), neither (skipped, stopped)


class Frontier:
    """The frontier of one archive (``Archive.frontier``)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def exists(self) -> bool:
        """False for a catalog older than migration 18 opened read-only."""
        return self._catalog.db["frontier"].exists()

    def sync(self, signatures: Mapping[str, str],
             next_due: Callable[[str, str], datetime]) -> dict[str, list[str]]:
        """Make the rows match ``signatures`` (portal → schedule signature): new portals are added, gone
        ones deleted, and those whose signature changed get a new ``next_due``; ``next_due(portal,
        signature)`` is called for those only. The rest keep their times, which is what makes a run missed
        while the scheduler was down happen on start. One transaction."""
        changes: dict[str, list[str]] = {"added": [], "rescheduled": [], "removed": []}
        with self._catalog.transaction() as db:
            conn = db.conn
            have = dict(conn.execute("SELECT portal, signature FROM frontier"))
            add, change = [], []
            for name, sig in signatures.items():
                old = have.pop(name, None)
                if old is None:
                    add.append((name, sig, iso(next_due(name, sig))))
                    changes["added"].append(name)
                elif old != sig:
                    change.append((sig, iso(next_due(name, sig)), name))
                    changes["rescheduled"].append(name)
            conn.executemany("INSERT INTO frontier (portal, signature, next_due, failures) VALUES (?, ?, ?, 0)", add)
            conn.executemany("UPDATE frontier SET signature = ?, next_due = ? WHERE portal = ?", change)
            conn.executemany("DELETE FROM frontier WHERE portal = ?", [(n,) for n in have])
            changes["removed"] = sorted(have)
        return changes

    def due(self, now: datetime, limit: int, exclude: Collection[str] = ()) -> list[dict]:
        """Up to ``limit`` portals due at ``now`` (``next_due <= now``), the longest overdue first, leaving
        out ``exclude`` (those in flight)."""
        if limit <= 0:
            return []
        rows = self._catalog.rows(
            "SELECT * FROM frontier WHERE next_due <= ? ORDER BY next_due, portal LIMIT ?",
            (iso(now), limit + len(exclude)))
        return [r for r in rows if r["portal"] not in exclude][:limit]

    def make_due(self, portals: Iterable[str], now: datetime) -> int:
        """Make these portals due at ``now`` at the latest (a harvest cut off resumes at once)."""
        with self._catalog.transaction() as db:
            return db.conn.executemany("UPDATE frontier SET next_due = min(next_due, ?) WHERE portal = ?",
                                       [(iso(now), p) for p in portals]).rowcount

    def record(self, outcomes: Iterable[dict]) -> None:
        """Put harvests' outcomes down, in one transaction. Each: ``portal``, ``outcome`` (the harvest's),
        ``result`` (one of :data:`RESULTS`), ``at`` (datetime), and optionally ``next_due`` (None keeps it)
        and ``backoff_until`` (for a failure). ``ok`` clears the failures; ``failed`` counts one more."""
        params = []
        for o in outcomes:
            if o["result"] not in RESULTS:
                raise ValueError(f"unknown frontier result {o['result']!r}")
            nxt, until = o.get("next_due"), o.get("backoff_until")
            params.append({"portal": o["portal"], "outcome": o["outcome"], "result": o["result"], "at": iso(o["at"]),
                           "next_due": iso(nxt) if nxt else None, "until": iso(until) if until else None})
        if not params:
            return
        with self._relaxed(), self._catalog.transaction() as db:
            db.conn.executemany("""
                UPDATE frontier SET
                  next_due = coalesce(:next_due, next_due), last_attempt = :at, last_outcome = :outcome,
                  last_ok = CASE WHEN :result = 'ok' THEN :at ELSE last_ok END,
                  failures = CASE :result WHEN 'ok' THEN 0 WHEN 'failed' THEN failures + 1 ELSE failures END,
                  backoff_until = CASE :result WHEN 'ok' THEN NULL WHEN 'failed' THEN :until ELSE backoff_until END
                WHERE portal = :portal""", params)

    @contextlib.contextmanager
    def _relaxed(self) -> Iterator[None]:
        """Commit without waiting for the disk (WAL, ``synchronous=NORMAL``): still all or nothing, but a power cut
        may lose the last few outcomes, and those portals are harvested once more; the harvest history, written
        with a full fsync, keeps what happened. Without it a burst of due harvests waits on an fsync each."""
        conn = self._catalog.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            conn.execute("PRAGMA synchronous=FULL")

    def rows(self, portals: Iterable[str] | None = None) -> dict[str, dict]:
        """Every row (or these portals' rows), by portal."""
        if not self.exists():
            return {}
        if portals is None:
            return {r["portal"]: r for r in self._catalog.rows("SELECT * FROM frontier ORDER BY portal")}
        wanted = list(portals)
        out: dict[str, dict] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i:i + 500]
            out.update((r["portal"], r) for r in self._catalog.rows(
                f"SELECT * FROM frontier WHERE portal IN ({','.join('?' * len(chunk))})", chunk))
        return out

    def failing(self, at_least: int = 1) -> list[dict]:
        """Portals whose last ``at_least`` harvests or more all failed, the most failures first."""
        if not self.exists():
            return []
        return list(self._catalog.rows("SELECT * FROM frontier WHERE failures >= ? ORDER BY failures DESC, portal",
                                       (at_least,)))

    def next_due(self) -> str | None:
        """The earliest ``next_due`` of all (UTC ISO), or None when there are no portals."""
        return self._catalog.scalar("SELECT min(next_due) FROM frontier") if self.exists() else None

    def count(self) -> int:
        return self._catalog.scalar("SELECT count(*) FROM frontier") if self.exists() else 0
