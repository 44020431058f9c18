"""One agency under several names (洪泽区人民政府 in 2023, 淮安市洪泽区人民政府 in 2024): the aliases a user records
with ``nianbao agencies merge A B``, the stable agency id they give, and the merges worth proposing.

An alias row says the name B is the agency A (``alias_key`` → ``canonical_key``, both names as written, who, when,
why). A may be an alias itself: chains (C → B → A) resolve to their root, the **agency id**. Reports are filed
under their agency id: a merge rewrites ``reports.agency_key`` of B's reports to A's root in the transaction that
records the alias, and placement files every later report of either name there too (it resolves names through
this table). So the agency page, previous/next year, the cross-year checks, the comparison, coverage and plain SQL
all follow a merge with no join and no change to their queries, at any scale; an unmerge deletes the row and
files back, in one transaction, the reports whose own name now resolves elsewhere. Both are one SQLite
transaction: a crash leaves the merge done or not done, never half.

The catalog can be rebuilt from the WARC files (``nianbao recover``), which hold no merge: each merge and unmerge
also rewrites ``agency-aliases.json`` beside the catalog (whole, atomically; a crash between the two leaves it one
step behind until the next), and a recovery files reports by it from the start.

A year both names hold a report on is refused, with the years and both reports named: the archive holds one
report per agency and year, and which of two reports is the agency's is for a person to say, not a merge.

The portal registry gives the agency id of one document, not of a name (:func:`registry_id`, from placement): a
report found on the portal registered for 淮安市洪泽区人民政府 (or on a site whose SiteIDCode a registry row holds)
that calls itself 洪泽区人民政府 is filed under 淮安市洪泽区人民政府, so the agency id comes from the registry row,
else the SiteIDCode's row, else the normalised name. No alias is recorded: 鼓楼区人民政府 is a district of 福州市 on
one portal and of 南京市 on another. A pair a person unmerged is kept apart (``agency_apart``): neither the
registry's word nor ``suggest`` joins it again.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Iterable
from pathlib import Path

from archive.capture import iso, utcnow
from archive.catalog.db import Catalog
from archive.errors import AliasError
from archive.parser import agency_key
from archive.parser.names import region_of
from archive.store.durability import fsync_path

TABLE = "agency_aliases"
FILE = "agency-aliases.json"  # the aliases beside the catalog, for a recovery (the WARC files hold none)
COLUMNS = ("alias_key", "canonical_key", "alias_name", "canonical_name", "merged_at", "merged_by", "reason")
APART = "agency_apart"  # pairs a person unmerged: two agencies, whatever the registry's rows say (migration 21)
MAX_CHAIN = 64  # a longer chain is a damaged table, not a user's merges
UNIT_END = "省市区县州盟旗"  # the place cut off the longer name of a suggested pair ends with one of these


def place_variant(longer: str, shorter: str, shorter_name: str | None) -> bool:
    """Whether the key ``longer`` is the key ``shorter`` with a place before it (淮安市 + 洪泽区人民政府), and the
    shorter name names a place itself (洪泽区…; a bare 财政局 is every county's)."""
    i = len(longer) - len(shorter)
    return (i >= 2 and len(shorter) > 3 and longer.endswith(shorter) and longer[i - 1] in UNIT_END
            and bool(region_of(shorter_name or shorter)))


def _has(catalog: Catalog, table: str) -> bool:
    """Whether the catalog has ``table`` (an older one opened read-only has not); asked once per connection,
    except on a writable catalog that lacks it (it is being migrated: asked again)."""
    known = catalog.__dict__.setdefault("_alias_tables", {})
    if table not in known:
        found = catalog.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)) is not None
        if not (found or catalog.readonly):
            return False
        known[table] = found
    return known[table]


def present(catalog: Catalog) -> bool:
    """Whether the catalog has the alias table (one older than migration 19, opened read-only, has none)."""
    return _has(catalog, TABLE)


def resolve(catalog: Catalog, key: str | None) -> str | None:
    """The agency id of a name's key: the root its aliases lead to (the key itself when it is no alias)."""
    if not key or not present(catalog):
        return key
    root = catalog.scalar(f"""WITH RECURSIVE up(k, depth) AS (
                                SELECT ?, 0
                                UNION ALL SELECT a.canonical_key, depth + 1 FROM {TABLE} a JOIN up ON a.alias_key = up.k
                                WHERE depth < {MAX_CHAIN})
                              SELECT k FROM up ORDER BY depth DESC LIMIT 1""", (key,))
    return root or key


def agency_id(catalog: Catalog, name: str | None) -> str | None:
    """The stable id of the agency a name belongs to: its normalised key, resolved through the aliases."""
    return resolve(catalog, agency_key(name) or (name or None))


def edges(catalog: Catalog) -> dict[str, dict]:
    """Every alias row by its key (the table is small: aliases are recorded by people)."""
    if not present(catalog):
        return {}
    return {r["alias_key"]: r for r in catalog.rows(f"SELECT * FROM {TABLE} ORDER BY merged_at, alias_key")}


def root(rows: dict[str, dict], key: str) -> str:
    """``key`` followed through ``rows`` (from :func:`edges`) to its root."""
    seen = {key}
    while key in rows:
        key = rows[key]["canonical_key"]
        if key in seen or len(seen) > MAX_CHAIN:
            break
        seen.add(key)
    return key


def groups(catalog: Catalog, rows: dict[str, dict] | None = None) -> dict[str, dict]:
    """Each agency id that has aliases: ``name`` (the name its root was merged under), ``names`` (every name of
    it merged, root first) and ``aliases`` (the rows leading to it, chains included)."""
    rows = edges(catalog) if rows is None else rows
    out: dict[str, dict] = {}
    for key, row in rows.items():
        top = root(rows, key)
        g = out.setdefault(top, {"name": None, "names": [], "aliases": []})
        g["aliases"].append(row)
        if row["canonical_key"] == top:
            g["name"] = g["name"] or row["canonical_name"]
    for g in out.values():
        g["name"] = g["name"] or g["aliases"][0]["canonical_name"]
        g["names"] = list(dict.fromkeys([g["name"], *(r["canonical_name"] for r in g["aliases"]),
                                         *(r["alias_name"] for r in g["aliases"])]))
    return out


def display_names(catalog: Catalog) -> dict[str, str]:
    """Agency id → the name it is shown under, for the agencies with aliases (the others show their reports')."""
    return {k: g["name"] for k, g in groups(catalog).items()}


def _keys(a: str, b: str | None = None) -> tuple[str, ...]:
    out = []
    for name in (a, b) if b is not None else (a,):
        key = agency_key(name)
        if not key:
            raise AliasError(f"{name!r} is not an agency's name (it has no letters or digits)")
        out.append(key)
    return tuple(out)


def _who() -> str:
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except Exception:  # no user name in a container
        return socket.gethostname()


def _requeue(catalog: Catalog, keys: Iterable[str]) -> None:
    """The search index shows an agency's names and region: its documents are indexed again (queued here, in
    the same transaction, so a crash cannot leave the index behind the merge)."""
    for key in set(keys):
        catalog.conn.execute("INSERT OR IGNORE INTO search_dirty(document_id) SELECT d.id FROM documents d "
                             "JOIN reports r ON r.id = d.report_id WHERE r.agency_key = ?", (key,))


def _years(catalog: Catalog, key: str) -> dict[int, dict]:
    return {r["year"]: r for r in catalog.rows("SELECT id, agency, year FROM reports WHERE agency_key = ? "
                                               "ORDER BY year", (key,))}


def merge(catalog: Catalog, canonical: str, alias: str, *, reason: str | None = None,
          by: str | None = None) -> dict:
    """Record that the agency named ``alias`` is the agency named ``canonical`` (the name given first is the one
    kept) and file the alias's reports under the canonical's agency id, in one transaction."""
    ka, kb = _keys(canonical, alias)
    if ka == kb:
        raise AliasError(f"{canonical} and {alias} are one name (compared without spaces, punctuation and width): "
                         f"an agency cannot be merged into itself")
    with catalog.transaction():
        rows = edges(catalog)
        top = root(rows, ka)
        if kb in rows:
            was = rows[kb]
            if top == root(rows, kb):
                raise AliasError(f"{alias} is already an alias of {was['canonical_name']}, which is the agency "
                                 f"{canonical} is: nothing to merge")
            raise AliasError(f"{alias} is already an alias of {was['canonical_name']} (merged {was['merged_at']}); "
                             f"unmerge it first (`nianbao agencies unmerge {alias}`), or merge "
                             f"{was['canonical_name']} into {canonical}")
        if top == kb:
            raise AliasError(f"{canonical} is already an alias of {alias} (directly or through another name): "
                             f"merging {alias} into it would make a cycle. To keep {canonical} as the name, unmerge "
                             f"it first (`nianbao agencies unmerge {canonical}`), then merge again")
        mine, theirs = _years(catalog, top), _years(catalog, kb)
        clash = sorted(set(mine) & set(theirs))
        if clash:
            both = "; ".join(f"{y}: report {mine[y]['id']} ({mine[y]['agency']}) and report {theirs[y]['id']} "
                             f"({theirs[y]['agency']})" for y in clash)
            raise AliasError(f"not merged: {canonical} and {alias} both have a report on {', '.join(map(str, clash))} "
                             f"({both}). The archive holds one report per agency and year; look at both "
                             f"(`nianbao show ID`): if they are two agencies, do not merge them")
        row = {"alias_key": kb, "canonical_key": ka, "alias_name": alias.strip(), "canonical_name": canonical.strip(),
               "merged_at": iso(utcnow()), "merged_by": by or _who(), "reason": reason}
        catalog.db[TABLE].insert(row)
        if apart_present(catalog):  # a person's merge overrides their earlier unmerge of the pair
            catalog.conn.execute(f"DELETE FROM {APART} WHERE (key_a, key_b) IN (VALUES (?, ?), (?, ?))",
                                 (ka, kb, kb, ka))
        moved = catalog.conn.execute("UPDATE reports SET agency_key = ? WHERE agency_key = ?", (top, kb)).rowcount
        _requeue(catalog, [top])
    return {**row, "agency_id": top, "reports_moved": moved, "years": sorted({*mine, *theirs})}


def unmerge(catalog: Catalog, alias: str) -> dict:
    """Forget that ``alias`` is another agency's name: its reports (and those of the names merged into it) are
    filed under it again. Documents placed while merged stay in the report the identity rule chose for them
    until ``nianbao reparse`` places them again."""
    (kb,) = _keys(alias)
    with catalog.transaction():
        rows = edges(catalog)
        if kb not in rows:
            target = next((r for r in rows.values() if r["canonical_key"] == kb), None)
            hint = (f"; it is the agency {target['alias_name']} was merged into: unmerge that name instead"
                    if target else "")
            raise AliasError(f"{alias} is not an alias of another agency (`nianbao agencies list` shows the "
                             f"aliases){hint}")
        was = rows.pop(kb)
        top = root({**rows, kb: was}, kb)
        catalog.conn.execute(f"DELETE FROM {TABLE} WHERE alias_key = ?", (kb,))
        if apart_present(catalog):  # never joined again by the registry's word, nor proposed (registry_id, suggest)
            catalog.conn.execute(f"INSERT OR REPLACE INTO {APART} (key_a, key_b, name_a, name_b, at, by, was) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 (was["canonical_key"], kb, was["canonical_name"], was["alias_name"], iso(utcnow()),
                                  _who(), was.get("merged_by")))
        moved, kept = [], []
        before = {**rows, kb: was}
        for r in list(catalog.rows("SELECT id, agency, year FROM reports WHERE agency_key = ?", (top,))):
            own = agency_key(r["agency"])
            if not own or root(before, own) != top:  # filed here for another reason (a name another report had)
                continue
            now = root(rows, own)
            if now == top:
                continue
            if catalog.scalar("SELECT 1 FROM reports WHERE agency_key = ? AND year = ?", (now, r["year"])):
                kept.append(r["id"])
                continue
            catalog.conn.execute("UPDATE reports SET agency_key = ? WHERE id = ?", (now, r["id"]))
            moved.append(r["id"])
        _requeue(catalog, [top, kb])
    return {**was, "agency_id": top, "reports_moved": moved, "reports_kept": kept}


def apart_present(catalog: Catalog) -> bool:
    """Whether the catalog has the kept-apart table (migration 21)."""
    return _has(catalog, APART)


def apart(catalog: Catalog) -> set[frozenset[str]]:
    """The pairs of names a person unmerged: two agencies, whatever their names or the registry suggest."""
    if not apart_present(catalog):
        return set()
    return {frozenset((r[0], r[1])) for r in catalog.conn.execute(f"SELECT key_a, key_b FROM {APART}")}


def registry_id(catalog: Catalog, registered: str, named: str) -> str | None:
    """The agency id the registry gives a document: that of ``registered`` (淮安市洪泽区人民政府, the agency of the
    registry row of the portal it was crawled for, or of its site's SiteIDCode) when the document's own name
    ``named`` is that name with or without its place (洪泽区人民政府); None otherwise (a department's report on
    its government's portal keeps its own), and None for a pair a person unmerged."""
    kr, kn = agency_key(registered), agency_key(named)
    if not kr or not kn or kr == kn:
        return None
    if not (place_variant(kr, kn, named) or place_variant(kn, kr, registered)):
        return None
    rr, rn = resolve(catalog, kr), resolve(catalog, kn)
    kept = apart(catalog)
    if frozenset((kr, kn)) in kept or frozenset((rr, rn)) in kept:
        return None
    return rr


def ids(catalog: Catalog, names: Iterable[str | None]) -> dict[str, str | None]:
    """The agency id of each name (one read of the aliases for all: a registry of 100,000 portals)."""
    rows = edges(catalog)
    out: dict[str, str | None] = {}
    for name in names:
        if name is not None and name not in out:
            key = agency_key(name)
            out[name] = root(rows, key) if key else None
    return out


def listing(catalog: Catalog) -> list[dict]:
    """Every alias row with the agency id it resolves to."""
    rows = edges(catalog)
    return [{**r, "agency_id": root(rows, k)} for k, r in rows.items()]


def suggest(catalog: Catalog) -> list[dict]:
    """Pairs of agencies that may be one, never merged here: one name ends with the other after a place
    (淮安市洪泽区人民政府 / 洪泽区人民政府), or both have reports on a site with one SiteIDCode (网站标识码), in
    different years and with names ending alike (a site publishes its departments' reports too, in the same
    years). Each with the years each holds and the command that would merge them."""
    agencies: dict[str, dict] = {}
    for r in catalog.rows("SELECT agency_key, agency, year FROM reports WHERE agency_key IS NOT NULL ORDER BY year"):
        a = agencies.setdefault(r["agency_key"], {"name": r["agency"], "years": set()})
        a["years"].add(r["year"])
        a["name"] = r["agency"] or a["name"]
    names = display_names(catalog)
    for key, a in agencies.items():
        a["name"] = names.get(key, a["name"])
    found: dict[tuple[str, str], set[str]] = {}
    apart_pairs = apart(catalog)
    for key in agencies:
        for i in range(2, len(key) - 3):
            tail = key[i:]
            if tail in agencies and place_variant(key, tail, agencies[tail]["name"]):
                found.setdefault((key, tail), set()).add("name")
    sites: dict[str, set[str]] = {}
    for r in catalog.rows("""SELECT DISTINCT k.site_id, r.agency_key FROM captures k
                             JOIN documents d ON d.sha256 = k.sha256 JOIN reports r ON r.id = d.report_id
                             WHERE k.site_id IS NOT NULL AND k.site_id != '' AND r.agency_key IS NOT NULL"""):
        sites.setdefault(r["site_id"], set()).add(r["agency_key"])
    for site, keys in sites.items():
        ordered = sorted(keys)
        for i, x in enumerate(ordered):
            for y in ordered[i + 1:]:
                if agencies[x]["years"] & agencies[y]["years"] or x[-2:] != y[-2:]:
                    continue
                # the fuller name first (it is kept); of two as full, the newer
                pair = tuple(sorted((x, y), key=lambda k: (-len(k), -max(agencies[k]["years"]))))
                found.setdefault(pair, set()).add(f"SiteIDCode {site}")
    out = []
    for (keep, other), why in sorted(found.items()):
        if frozenset((keep, other)) in apart_pairs:  # a person unmerged them: not proposed again
            continue
        a, b = agencies[keep], agencies[other]
        out.append({"canonical": a["name"], "alias": b["name"], "canonical_years": sorted(a["years"]),
                    "alias_years": sorted(b["years"]), "clash_years": sorted(a["years"] & b["years"]),
                    "evidence": sorted(why), "command": f"nianbao agencies merge {a['name']} {b['name']}"})
    return out


def save(catalog: Catalog, where: Path) -> None:
    """Write every alias and kept-apart pair to ``where`` (a file beside the catalog), whole: a temporary file
    fsynced, then renamed."""
    rows = [{c: r[c] for c in COLUMNS} for r in edges(catalog).values()]
    kept = [dict(r) for r in catalog.rows(f"SELECT * FROM {APART} ORDER BY at")] if apart_present(catalog) else []
    tmp = where.with_name(f".{where.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"schema": "nianbao.agency-aliases/1", "aliases": rows, "apart": kept}, f, ensure_ascii=False,
                  indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, where)
    fsync_path(where.parent)


def restore(catalog: Catalog, where: Path) -> int:
    """Take the aliases :func:`save` wrote into a new catalog (a recovery's, before any report is filed); how many.
    A file that cannot be read is left for a person, said in words."""
    if not where.exists():
        return 0
    try:
        held = json.loads(where.read_text(encoding="utf-8"))
        rows = [{c: r.get(c) for c in COLUMNS} for r in held["aliases"]
                if r.get("alias_key") and r.get("canonical_key")]
        kept = [r for r in held.get("apart") or [] if r.get("key_a") and r.get("key_b")]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise AliasError(f"{where} cannot be read ({e}): move it aside to recover without the agency aliases, "
                         f"and merge them again with `nianbao agencies merge`") from e
    with catalog.transaction():
        catalog.db[TABLE].insert_all(rows, ignore=True)
        if kept and apart_present(catalog):
            catalog.db[APART].insert_all(kept, ignore=True)
    return len(rows)
