"""The portal registry (``portals`` table): rows checked already by the importer (``spiders.registry``, where the
profile's rules live; the archive never imports them) are stored all together in one transaction or not at all.

A row is ``name, agency, url, region, level, parent, site_id, profile`` (``url`` one start URL, or a JSON list of
several; ``profile`` the JSON of the optional profile keys, or empty). ``imported_at`` and ``source`` change only
with the row, so importing the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from archive.capture import iso, utcnow
from archive.catalog.db import Catalog

FIELDS = ("name", "agency", "url", "region", "level", "parent", "site_id", "profile")
COLUMNS = (*FIELDS, "imported_at", "source")


def _has_table(catalog: Catalog) -> bool:
    """A catalog opened read-only before migration 17 has no registry: it registers nothing."""
    return catalog.db["portals"].exists()


def import_rows(catalog: Catalog, rows: Sequence[dict], *, source: str | None = None,
                replace: bool = False) -> dict:
    """Add new rows, update changed ones, leave equal ones alone and, with ``replace``, remove the rows of names
    not given: all in one transaction. Returns the counts and names (``added``, ``changed``, ``unchanged``,
    ``removed``)."""
    now = iso(utcnow())
    given = {r["name"]: tuple(r.get(k) for k in FIELDS) for r in rows}
    if len(given) != len(rows):
        raise ValueError("the rows name one portal twice")
    with catalog.transaction():
        conn = catalog.conn
        held = {r[0]: tuple(r) for r in conn.execute(f"SELECT {', '.join(FIELDS)} FROM portals")}
        added = [v for n, v in given.items() if n not in held]
        changed = [v for n, v in given.items() if n in held and held[n] != v]
        removed = sorted(set(held) - set(given)) if replace else []
        if added:
            conn.executemany(f"INSERT INTO portals ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                             [(*v, now, source) for v in added])
        if changed:
            sets = ", ".join(f"{k} = ?" for k in (*FIELDS[1:], "imported_at", "source"))
            conn.executemany(f"UPDATE portals SET {sets} WHERE name = ?",
                             [(*v[1:], now, source, v[0]) for v in changed])
        if removed:
            conn.executemany("DELETE FROM portals WHERE name = ?", [(n,) for n in removed])
    return {"added": len(added), "changed": len(changed), "unchanged": len(given) - len(added) - len(changed),
            "removed": len(removed), "added_names": [v[0] for v in added], "changed_names": [v[0] for v in changed],
            "removed_names": removed}


def rows(catalog: Catalog) -> list[dict]:
    """Every registry row, by name (plain tuples turned into dicts: 100,000 rows load in a fraction of a second)."""
    if not _has_table(catalog):
        return []
    cur = catalog.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM portals ORDER BY name")
    return [dict(zip(COLUMNS, r, strict=True)) for r in cur]


def stamp(catalog: Catalog) -> tuple:
    """Changes whenever the registry does (a row added, changed or removed), for a cache of its profiles."""
    if not _has_table(catalog):
        return (0, None)
    return tuple(catalog.conn.execute("SELECT count(*), max(imported_at) FROM portals").fetchone())
