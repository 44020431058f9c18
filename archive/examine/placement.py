"""Place parse results in the catalog: documents, their cells, checks and sections, and the report and
revision each belongs to by the identity rule (:mod:`archive.examine.identity`), in the caller's transaction."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

from archive.capture import iso, utcnow
from archive.catalog import aliases
from archive.catalog.db import Catalog
from archive.examine import context
from archive.examine.identity import (
    WEAK_SOURCES,
    Decision,
    DocPrint,
    ReportCandidate,
    RevisionCandidate,
    agencies_compatible,
    decide_report,
    decide_revision,
)
from archive.extract.formats import REPORT_KINDS
from archive.parser import ParseResult, agency_key, fingerprint

# Which rendition shows a revision best: structure survives DOCX and HTML, PDF text is flattened.
KIND_RANK = {"docx": 0, "html": 1, "doc": 2, "wps": 2, "text": 3, "pdf": 4, "image": 5}
Progress = Callable[[int, int], None]


def _plain(value):
    """A value SQLite stores as it is; a list or mapping as JSON, as sqlite-utils would have stored it."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list, tuple)) else value


@dataclass
class Placed:
    """What examining one blob changed."""

    sha256: str
    document_id: int | None = None
    report_id: int | None = None
    revision_id: int | None = None
    new_document: bool = False
    new_report: bool = False
    unreadable: bool = False  # the store could not give the original back: nothing was changed for it
    new_revision: bool = False
    note: str | None = None


@functools.lru_cache(maxsize=4096)
def _bands(key: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(fingerprint.lsh_bands(list(key)))


def bands_of(nums: list[str]) -> tuple[str, ...]:
    """LSH band keys, computed once per number sequence (a document is placed and searched with them)."""
    return _bands(tuple(nums))


def _weak(docs: list[DocPrint]) -> bool:
    """Every name a report's documents give is only their site's (and one gives a name)."""
    return any(d.agency_key for d in docs) and all(d.agency_weak for d in docs if d.agency_key)


def _docprint(row: dict) -> DocPrint:
    return DocPrint(kind=row["kind"], agency_key=agency_key(row.get("agency")), year=row.get("year"),
                    numbers=json.loads(row.get("numbers") or "[]"), text_sha256=row.get("text_sha256"),
                    id=row.get("id"), agency_weak=row.get("agency_from") in WEAK_SOURCES,
                    agency_assumed=row.get("agency_from") == "portal")


class Placer:
    """Writes parse results and applies the identity rule (see :mod:`archive.examine.identity`)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.db = catalog.db

    # -- documents ------------------------------------------------------------------------------
    def apply(self, sha256: str, res: ParseResult, hint: dict, *, assign: bool = True) -> Placed:
        """Record one parse result (inside the caller's transaction)."""
        now = iso(utcnow())
        out = Placed(sha256)
        # a user's word makes an ingested file a document, but not one that could not be read (it is failed,
        # and retried: pipeline.pending)
        is_doc = not res.error and (res.is_report or (hint.get("assert_report") and res.kind in REPORT_KINDS))
        note = res.error or ("; ".join(res.report.get("warnings", [])[:3]) or None)
        role = "report" if is_doc else ("failed" if res.error else "not_report")
        self.catalog.set("blobs", "sha256", sha256, {
            "examined_by": res.parser_version, "role": role, "examine_note": note, "kind": res.kind,
            "page": json.dumps(res.page, ensure_ascii=False) if res.page else None})
        # a failed parse is retried on later runs, a bounded number of times (pipeline.pending); one that
        # succeeds starts the count again
        self.db.execute("UPDATE blobs SET parse_failures = CASE WHEN ? THEN parse_failures + 1 ELSE 0 END "
                        "WHERE sha256 = ?", [role == "failed", sha256])
        if res.page:  # documents this page links, examined before it, can be dated now
            context.redate_linked_from(self.catalog, sha256)
        existing = self.catalog.one("SELECT * FROM documents WHERE sha256 = ?", (sha256,))
        if not is_doc:
            if existing:
                self._drop_document(existing)
            out.note = note
            return out
        rep = res.report
        cells, checks = rep.get("cells", []), rep.get("checks", [])
        first_seen = self.catalog.scalar("SELECT first_seen FROM blobs WHERE sha256 = ?", (sha256,)) or now
        row = {
            "sha256": sha256, "kind": res.kind, "first_seen": first_seen, "agency": rep.get("agency"),
            "agency_from": (rep.get("provenance") or {}).get("agency"),
            "year": rep.get("year"), "title": rep.get("title"), "template": rep.get("template"),
            "text_sha256": res.text_sha256, "numbers": json.dumps(res.numbers),
            "cells_count": len(cells), "failed_checks": sum(1 for c in checks if not c.get("ok")),
            "parser_version": res.parser_version, "parsed_at": now,
            "parsed": json.dumps(rep, ensure_ascii=False), "text": res.text,
            "context": context.document_context(self.catalog, sha256, res.context.to_dict() if res.context else {}),
            **context.document_dates(self.catalog, sha256, res.kind, res.page, rep.get("year")),
        }
        if existing:
            doc_id = existing["id"]
            self.catalog.set("documents", "id", doc_id, row)
            for t in ("cells", "checks", "sections", "document_bands"):
                self.catalog.conn.execute(f"DELETE FROM {t} WHERE document_id = ?", (doc_id,))
        else:
            doc_id = self.db["documents"].insert(row).last_pk
            out.new_document = True
        out.document_id = doc_id
        pv = res.parser_version
        # executemany, not sqlite-utils' insert_all: that one inspects and JSON-checks every value of every
        # row (about 200 cells a report), which made placing parse results the owner's largest cost in a
        # national harvest (bench/national.py); these rows are plain numbers and text of known columns
        put = self.catalog.conn.executemany
        put("INSERT INTO cells (document_id, table_id, row_id, column_id, value, raw, label, recovered, "
            "parser_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(doc_id, c["table"], c["row"], c["column"], _plain(c.get("value")), _plain(c.get("raw")),
              _plain(c.get("label")), _plain(c.get("recovered")), pv) for c in cells])
        put("INSERT INTO checks (document_id, rule, ok, detail, parser_version) VALUES (?, ?, ?, ?, ?)",
            [(doc_id, c["rule"], int(bool(c["ok"])), _plain(c.get("detail")), pv) for c in checks])
        put("INSERT INTO sections (document_id, position, number, heading, text, parser_version) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(doc_id, i, s.get("number"), s.get("heading"), s.get("text"), pv)
             for i, s in enumerate(rep.get("sections", []))])
        put("INSERT INTO document_bands (band, document_id) VALUES (?, ?)",
            [(b, doc_id) for b in bands_of(res.numbers)])
        if assign:
            same_print = existing and existing["report_id"] and (
                (existing["agency"], existing["year"], existing["numbers"], existing["kind"])
                == (row["agency"], row["year"], row["numbers"], row["kind"]))
            if same_print:
                out.report_id, out.revision_id = existing["report_id"], existing["revision_id"]
                self._refresh_revision(existing["revision_id"])
                self._refresh_report(existing["report_id"])
            else:
                self.assign(doc_id, out)
        return out

    def _drop_document(self, doc: dict) -> None:
        for t in ("cells", "checks", "sections", "document_bands"):
            self.catalog.conn.execute(f"DELETE FROM {t} WHERE document_id = ?", (doc["id"],))
        self.catalog.conn.execute("DELETE FROM documents WHERE id = ?", (doc["id"],))
        self._refresh_revision(doc["revision_id"])
        self._refresh_report(doc["report_id"])

    # -- identity -------------------------------------------------------------------------------
    def _report_candidates(self, doc: DocPrint, sha256: str) -> list[ReportCandidate]:
        links = {d["report_id"]: d["how"] for d in context.linked_documents(self.catalog, sha256)
                 if d["report_id"] is not None and (doc.year is None or d["year"] == doc.year)}
        if doc.year is None:  # only the reports its page or attachment is in (see identity rule 1)
            rows = (self.catalog.one("SELECT id, agency_key, year FROM reports WHERE id = ?", (rid,)) for rid in links)
            return [ReportCandidate(r["id"], r["agency_key"], r["year"], link=links[r["id"]]) for r in rows]
        ids: list[int] = list(links)
        if doc.agency_key:
            ids += [r["id"] for r in self.catalog.rows(
                """SELECT id FROM reports WHERE year = :y AND agency_key IS NOT NULL
                   AND (agency_key = :k OR instr(agency_key, :k) > 0 OR instr(:k, agency_key) > 0)
                   LIMIT 50""", {"y": doc.year, "k": doc.agency_key})]
        bands = bands_of(doc.numbers)
        if bands:
            marks = ",".join("?" * len(bands))
            ids += [r["report_id"] for r in self.catalog.rows(
                f"""SELECT DISTINCT d.report_id FROM document_bands b JOIN documents d ON d.id = b.document_id
                    JOIN reports r ON r.id = d.report_id
                    WHERE b.band IN ({marks}) AND r.year = ? AND d.id != ? LIMIT 50""",
                (*bands, doc.year, doc.id or -1))]
        reps = self._by_id("SELECT id, agency_key, year FROM reports WHERE id IN ({})", ids)
        ids = [i for i in dict.fromkeys(ids) if i in reps]
        # The rule reads a report's documents only when the report is linked, holds the same name, has a
        # compatible one, or has only its site's names (a candidate found by shared numbers, e.g. the
        # zeros of a county report's tables, is mostly another agency's): the others are dropped before their
        # documents are read, which decides alike (identity rules 2 to 5 skip them) at a fraction of the cost.
        mine = None if doc.agency_weak else doc.agency_key
        unsure = [i for i in ids if i not in links and not agencies_compatible(mine, reps[i]["agency_key"])]
        if unsure:
            # only a report with a document named by its site alone can be weak: those few are read whole
            weak_marks = ",".join("?" * len(WEAK_SOURCES))
            maybe = {r[0] for r in self.catalog.conn.execute(self._ids(
                f"SELECT DISTINCT report_id FROM documents WHERE id != {int(doc.id or -1)} AND report_id IN ({{}}) "
                f"AND agency IS NOT NULL AND agency_from IN ({weak_marks})", unsure), sorted(WEAK_SOURCES))}
            names: dict[int, list[DocPrint]] = {}
            for d in self._in(f"SELECT report_id, agency, agency_from FROM documents WHERE id != {int(doc.id or -1)} "
                              "AND report_id IN ({})", sorted(maybe)):
                names.setdefault(d["report_id"], []).append(DocPrint(
                    kind="", agency_key=agency_key(d["agency"]), year=None, numbers=[],
                    agency_weak=d["agency_from"] in WEAK_SOURCES))
            dropped = {i for i in unsure if not _weak(names.get(i, []))}
            ids = [i for i in ids if i not in dropped]
        docs: dict[int, list[DocPrint]] = {}
        for d in self._in("SELECT id, report_id, kind, agency, agency_from, year, numbers, text_sha256 FROM documents "
                          f"WHERE id != {int(doc.id or -1)} AND report_id IN ({{}}) ORDER BY id", ids):
            docs.setdefault(d["report_id"], []).append(_docprint(d))
        out = []
        for rid in ids:
            rep, mine_docs = reps[rid], docs.get(rid, [])
            out.append(ReportCandidate(rep["id"], rep["agency_key"], rep["year"], mine_docs, link=links.get(rid),
                                       agency_weak=_weak(mine_docs)))
        return out

    @staticmethod
    def _ids(sql: str, ids) -> str:
        """``sql`` with its ``{}`` filled by ``ids`` (integers, placed inline: no bound-variable limit)."""
        return sql.format(",".join(str(int(i)) for i in ids))

    def _in(self, sql: str, ids: list[int]):
        """The rows of ``sql`` for these ids (see :meth:`_ids`), as dicts."""
        if not ids:
            return iter(())
        return self.catalog.rows(self._ids(sql, ids))

    def _by_id(self, sql: str, ids: list[int]) -> dict[int, dict]:
        if not ids:
            return {}
        cur = self.catalog.conn.execute(self._ids(sql, ids))
        cols = [c[0] for c in cur.description]
        return {r[0]: dict(zip(cols, r, strict=True)) for r in cur}

    def _revision_candidates(self, report_id: int, doc_id: int) -> list[RevisionCandidate]:
        revs = []
        for r in self.catalog.rows("SELECT id, number FROM revisions WHERE report_id = ?", (report_id,)):
            docs = [_docprint(d) for d in self.catalog.rows(
                "SELECT id, kind, agency, year, numbers, text_sha256 FROM documents "
                "WHERE revision_id = ? AND id != ?", (r["id"], doc_id))]
            revs.append(RevisionCandidate(r["id"], r["number"], docs))
        return revs

    def assign(self, doc_id: int, out: Placed | None = None) -> Placed:
        """Place one document under a report and revision, creating them as the rule says; once it is in
        a report, the unassigned documents that may belong beside it are tried again (:meth:`settle`)."""
        out = self._place(doc_id, out)
        if out.report_id is not None:
            self.settle([doc_id])
        return out

    def settle(self, placed: list[int]) -> int:
        """Try again the unassigned documents of the year of each placed one that are its page or its
        attachment, or share numbers with it (the page came first, or the report appeared later); each
        that joins is a placed one in turn. Returns how many joined."""
        todo, joined = list(placed), 0
        while todo:
            for other in self._waiting_beside(todo.pop()):
                if self._place(other).report_id is not None:
                    todo.append(other)
                    joined += 1
        return joined

    def _waiting_beside(self, doc_id: int) -> list[int]:
        row = self.catalog.one("SELECT sha256, year FROM documents WHERE id = ?", (doc_id,))
        if row is None or row["year"] is None:
            return []
        linked = [d["id"] for d in context.linked_documents(self.catalog, row["sha256"])
                  if d["report_id"] is None and d["year"] in (row["year"], None)]
        sharing = [r["id"] for r in self.catalog.rows(  # from the few unassigned (+: not by the year index)
            """SELECT d.id FROM documents d WHERE d.report_id IS NULL AND +d.year = :y AND d.id != :id
                 AND EXISTS (SELECT 1 FROM document_bands b WHERE b.document_id = d.id AND b.band IN (
                             SELECT band FROM document_bands WHERE document_id = :id))""",
            {"id": doc_id, "y": row["year"]})]
        return list(dict.fromkeys(linked + sharing))

    def _place(self, doc_id: int, out: Placed | None = None) -> Placed:
        row = self.catalog.one("SELECT * FROM documents WHERE id = ?", (doc_id,))
        out = out or Placed(row["sha256"], document_id=doc_id)
        doc = _docprint(row)
        doc.agency_key, from_registry = self._agency_id(row)  # filed under its agency id (merged names, registry)
        old_report, old_revision = row["report_id"], row["revision_id"]
        decision = decide_report(doc, self._report_candidates(doc, row["sha256"]))
        report_id = decision.target
        if decision.create:
            report_id = self._create_report(row, doc.agency_key)
            out.new_report = True
        revision_id, rev_decision = None, None
        if report_id is not None:
            rev_decision = decide_revision(doc, self._revision_candidates(report_id, doc_id))
            revision_id = rev_decision.target
            if rev_decision.create:
                number = (self.catalog.scalar("SELECT max(number) FROM revisions WHERE report_id = ?",
                                              (report_id,)) or 0) + 1
                revision_id = self.db["revisions"].insert({
                    "report_id": report_id, "number": number, "first_seen": row["first_seen"]}).last_pk
                out.new_revision = True
        self.catalog.set("documents", "id", doc_id, {
            "report_id": report_id, "revision_id": revision_id,
            "identity": json.dumps(_explain(decision, rev_decision, from_registry), ensure_ascii=False)})
        out.report_id, out.revision_id = report_id, revision_id
        self._refresh_revision(revision_id)
        self._refresh_report(report_id)
        if old_revision and old_revision != revision_id:
            self._refresh_revision(old_revision)
        if old_report and old_report != report_id:
            self._refresh_report(old_report)
        return out

    def _agency_id(self, row: dict) -> tuple[str | None, str | None]:
        """The agency id a document is filed under, and how the registry gave it if it did: its own name's
        (through the aliases), unless the portal it was crawled for, else the registry row holding its page's
        SiteIDCode, names that agency with or without its place (洪泽区人民政府 on the portal of
        淮安市洪泽区人民政府: :func:`archive.catalog.aliases.registry_id`). A name only the site or the profile
        gives is the document's own."""
        own = aliases.resolve(self.catalog, agency_key(row.get("agency")))
        if not own or row.get("agency_from") in WEAK_SOURCES or row.get("agency_from") == "portal":
            return own, None
        ctx = json.loads(row.get("context") or "{}")
        registered, how = ctx.get("portal_agency"), "the portal it was crawled for"
        if not registered:
            site = self.catalog.scalar(
                "SELECT site_id FROM captures WHERE sha256 = ? AND site_id IS NOT NULL LIMIT 1",
                (row["sha256"],)) or (ctx.get("referrer_meta") or {}).get("SiteIDCode")
            if site and self.catalog.db["portals"].exists():
                found = [r[0] for r in self.catalog.conn.execute(
                    "SELECT DISTINCT agency FROM portals WHERE site_id = ? AND agency IS NOT NULL LIMIT 2", (site,))]
                if len(found) == 1:
                    registered, how = found[0], f"the registry row of SiteIDCode {site}"
        if registered and (given := aliases.registry_id(self.catalog, registered, row["agency"])):
            return given, f"{how} is {registered}'s: filed under it"
        return own, None

    def _create_report(self, row: dict, key: str | None) -> int:
        """A report for the document's agency id (``key``, from :meth:`_agency_id`) and year, unless one exists."""
        found = self.catalog.scalar("SELECT id FROM reports WHERE agency_key = ? AND year = ?", (key, row["year"]))
        if found:
            return found
        return self.db["reports"].insert({
            "agency": row["agency"], "agency_key": key, "year": row["year"], "title": row["title"],
            "template": row["template"], "first_seen": row["first_seen"], "updated_at": iso(utcnow())}).last_pk

    def reassign_all(self, progress: Progress | None = None) -> None:
        """Re-derive every report and revision from the documents, oldest first (after a reparse).

        Report rows are kept and matched again by agency and year, so report ids stay stable.
        """
        self.catalog.conn.execute("UPDATE documents SET report_id = NULL, revision_id = NULL")
        self.catalog.conn.execute("UPDATE reports SET current_revision_id = NULL")
        self.catalog.conn.execute("DELETE FROM revisions")
        ids = [r["id"] for r in self.catalog.rows("SELECT id FROM documents ORDER BY first_seen, id")]
        for i, doc_id in enumerate(ids, 1):
            self._place(doc_id)  # oldest first, so revisions are numbered in the order they appeared
            if progress:
                progress(i, len(ids))
        self.settle_unassigned()
        self.catalog.conn.execute(
            "DELETE FROM reports WHERE id NOT IN (SELECT report_id FROM documents WHERE report_id IS NOT NULL)")

    def settle_unassigned(self) -> int:
        """Try every unassigned document again, now that every report exists (a page placed
        before its PDF), until none joins. Returns how many joined."""
        waiting = [r["id"] for r in self.catalog.rows(
            "SELECT id FROM documents WHERE report_id IS NULL ORDER BY first_seen, id")]
        placed = [i for i in waiting if self._place(i).report_id is not None]
        return len(placed) + self.settle(placed)

    # -- derived fields -------------------------------------------------------------------------
    def _refresh_revision(self, revision_id: int | None) -> None:
        if revision_id is None:
            return
        docs = list(self.catalog.rows(
            "SELECT id, kind, cells_count, first_seen, text_sha256 FROM documents WHERE revision_id = ?",
            (revision_id,)))
        if not docs:
            self.catalog.conn.execute("UPDATE reports SET current_revision_id = NULL WHERE current_revision_id = ?",
                                      (revision_id,))
            self.catalog.conn.execute("DELETE FROM revisions WHERE id = ?", (revision_id,))
            return
        primary = min(docs, key=lambda d: (KIND_RANK.get(d["kind"], 9), -(d["cells_count"] or 0),
                                           d["first_seen"], d["id"]))
        self.catalog.set("revisions", "id", revision_id, {
            "primary_document_id": primary["id"], "text_sha256": primary["text_sha256"],
            "first_seen": min(d["first_seen"] for d in docs)})

    def _refresh_report(self, report_id: int | None) -> None:
        if report_id is None:
            return
        current = self.catalog.one(
            "SELECT id, primary_document_id FROM revisions WHERE report_id = ? ORDER BY number DESC LIMIT 1",
            (report_id,))
        if not current:
            if not self.catalog.scalar("SELECT 1 FROM documents WHERE report_id = ?", (report_id,)):
                self.catalog.conn.execute("DELETE FROM reports WHERE id = ?", (report_id,))
            return
        primary = self.catalog.one("SELECT agency, title, template FROM documents WHERE id = ?",
                                   (current["primary_document_id"],))
        # the name a document gives itself wins over one only its site gives (SiteName, 主办单位)
        strong = self.catalog.one(
            f"""SELECT agency, agency_from, context, sha256 FROM documents WHERE report_id = ? AND agency IS NOT NULL
                AND coalesce(agency_from, '') NOT IN ({",".join("?" * len(WEAK_SOURCES))})
                ORDER BY id = ? DESC, first_seen LIMIT 1""",
            (report_id, *sorted(WEAK_SOURCES), current["primary_document_id"]))
        named = (strong or {}).get("agency") or primary["agency"] or self.catalog.scalar(
            "SELECT agency FROM documents WHERE report_id = ? AND agency IS NOT NULL ORDER BY first_seen LIMIT 1",
            (report_id,))
        first = self.catalog.scalar("SELECT min(first_seen) FROM documents WHERE report_id = ?", (report_id,))
        fields = {"current_revision_id": current["id"], "title": primary["title"], "template": primary["template"],
                  "first_seen": first, "updated_at": iso(utcnow())}
        if named:
            fields["agency"] = named
            key = self._agency_id(strong)[0] if strong else aliases.resolve(self.catalog, agency_key(named))
            taken = self.catalog.scalar("SELECT 1 FROM reports WHERE agency_key = ? AND year = (SELECT year FROM "
                                        "reports WHERE id = ?) AND id != ?", (key, report_id, report_id))
            if not taken:  # found under the name it is shown under, unless another report of the year has it
                fields["agency_key"] = key
        self.catalog.set("reports", "id", report_id, fields)


def _explain(report: Decision, revision: Decision | None, agency_id: str | None = None) -> dict:
    out = {"report": report.reason}
    if agency_id:
        out["agency_id"] = agency_id
    if revision is not None:
        out["revision"] = revision.reason
    return out
