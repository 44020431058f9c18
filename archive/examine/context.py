"""What the catalog knows of a blob beyond its bytes, gathered at examine time from the catalog alone:
how it was met (link text, referrer, what the referring page said) and the dates the portal printed.

An HTML page's examined facts (``blobs.page``: its own printed date, the dates beside its links) are
stored when it is examined; a document is dated from its own page, or from the pages that linked it
(a list page is archived before its attachments). Every candidate is stored on the document
(``documents.published_dates``), so a compliance verdict reads them without opening any original.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from archive.catalog.db import Catalog
from archive.extract.published import date_beside, plausible


def referring_page(catalog: Catalog, referrer: str) -> dict | None:
    """The first capture of a referring URL (``u``: where it was) and its examined facts (``page``)."""
    row = catalog.one("""SELECT k.sha256, coalesce(k.final_url, k.url) AS u, b.page FROM captures k
                         LEFT JOIN blobs b ON b.sha256 = k.sha256
                         WHERE (k.url = ? OR k.final_url = ?) AND k.sha256 IS NOT NULL
                         ORDER BY k.fetched_at LIMIT 1""", (referrer, referrer))
    if row is None:
        return None
    return {"sha256": row["sha256"], "u": row["u"], "page": json.loads(row["page"] or "null") or {}}


def referrer_printed(ref: dict, target_url: str) -> tuple[str, str] | None:
    """(ISO date, how) a referring page printed for ``target_url``: beside its link, else its own date."""
    page = ref["page"]
    if found := date_beside(page.get("links") or [], ref["u"], target_url):
        return found[0].isoformat(), found[1]
    own = page.get("published")
    return (own[0], own[1]) if own else None


def linked_context(catalog: Catalog, sha256: str) -> dict:
    """How a blob was first met: its link text and referrer, the referring page's title and site meta,
    the date that page printed for it, and the agency and year a user gave with it (the ``ParseContext``
    fields, only those known)."""
    first = catalog.one("SELECT url, referrer, link_text, portal_agency FROM captures WHERE sha256 = ? "
                        "ORDER BY id LIMIT 1", (sha256,)) or {}
    portal = first.get("portal_agency") or catalog.scalar(  # captured before migration 9 first, say
        "SELECT portal_agency FROM captures WHERE sha256 = ? AND portal_agency IS NOT NULL ORDER BY id DESC LIMIT 1",
        (sha256,)) if first else None
    out = {"link_text": first.get("link_text"), "referrer": first.get("referrer"), "portal_agency": portal,
           **(user_hints(catalog, sha256) if first else {})}
    ref = referring_page(catalog, first["referrer"]) if first.get("referrer") else None
    if ref is not None:
        # the page's meta tags and its labelled fields (发布机构, 主办单位): the attachment's agency if it names none
        out.update(referrer_title=ref["page"].get("title"),
                   referrer_meta={**(ref["page"].get("meta") or {}), **(ref["page"].get("fields") or {})})
        if found := referrer_printed(ref, first["url"]):
            out.update(link_date=found[0], link_date_source=f"{found[1]} of {ref['u']}")
    return {k: v for k, v in out.items() if v}


def user_hints(catalog: Catalog, sha256: str) -> dict:
    """The agency and year a user last gave with the blob's file (``nianbao ingest --agency --year``), each
    the latest given: a file ingested again with a corrected hint is read with that one."""
    row = catalog.one("""SELECT (SELECT user_agency FROM captures WHERE sha256 = :s AND user_agency IS NOT NULL
                                 ORDER BY id DESC LIMIT 1) AS user_agency,
                                (SELECT user_year FROM captures WHERE sha256 = :s AND user_year IS NOT NULL
                                 ORDER BY id DESC LIMIT 1) AS user_year""", {"s": sha256}) or {}
    return {k: v for k, v in row.items() if v is not None}


def printed_dates(catalog: Catalog, sha256: str, kind: str, page: dict) -> list[dict]:
    """Every date printed for one document: an HTML page's own (one entry, no ``referrer``), else one
    per (referrer, URL) it was captured from, with ``where`` the referring page's URL."""
    if kind == "html":
        own = page.get("published")
        return [{"date": own[0], "how": own[1]}] if own else []
    out: list[dict] = []
    seen: set[tuple[str, str]] = set()
    for k in catalog.rows("""SELECT url, referrer FROM captures WHERE sha256 = ? AND referrer IS NOT NULL
                             AND referrer != '' ORDER BY fetched_at""", (sha256,)):
        if (k["referrer"], k["url"]) in seen:
            continue
        seen.add((k["referrer"], k["url"]))
        ref = referring_page(catalog, k["referrer"])
        found = referrer_printed(ref, k["url"]) if ref else None
        if found:
            out.append({"referrer": k["referrer"], "url": k["url"], "date": found[0], "how": found[1],
                        "where": ref["u"]})
    return out


def document_dates(catalog: Catalog, sha256: str, kind: str, page: dict, year: int | None) -> dict:
    """The document columns: every printed date, and the earliest plausible one with its source."""
    dates = printed_dates(catalog, sha256, kind, page)
    today = datetime.now(UTC).date()
    fit = [d for d in dates if year is None or plausible(date.fromisoformat(d["date"]), year, today)]
    best = min(fit, key=lambda d: d["date"], default=None)
    source = None
    if best is not None:
        where = best.get("where") or catalog.scalar(
            "SELECT coalesce(final_url, url) FROM captures WHERE sha256 = ? ORDER BY fetched_at LIMIT 1", (sha256,))
        source = f"{best['how']} of {where}"
    return {"published": best["date"] if best else None, "published_source": source,
            "published_dates": json.dumps(dates, ensure_ascii=False)}


def document_context(catalog: Catalog, sha256: str, context: dict) -> str:
    """The context stored with a document: what its parser was told, brought up to date with what the
    catalog knows now (the referring page may have been examined in the same batch, after the hint)."""
    return json.dumps({**context, **linked_context(catalog, sha256)}, ensure_ascii=False)


def redate(catalog: Catalog, sha256: str) -> None:
    """Date one document again from the catalog (a page that links it was examined after it)."""
    doc = catalog.one("SELECT d.id, d.kind, d.year, d.context, d.published, d.published_source, d.published_dates, "
                      "b.page FROM documents d JOIN blobs b ON b.sha256 = d.sha256 WHERE d.sha256 = ?", (sha256,))
    if doc is None:
        return
    page = json.loads(doc["page"] or "null") or {}
    cols = {**document_dates(catalog, sha256, doc["kind"], page, doc["year"]),
            "context": document_context(catalog, sha256, json.loads(doc["context"] or "{}"))}
    if any(doc[k] != v for k, v in cols.items()):  # an update queues the document for the search index again
        catalog.db["documents"].update(doc["id"], cols)


def redate_linked_from(catalog: Catalog, page_sha256: str) -> None:
    """Date again the documents captured from a page just examined (whatever order they came in)."""
    for r in list(catalog.rows("""SELECT DISTINCT d.sha256 FROM captures k JOIN documents d ON d.sha256 = k.sha256
                                  WHERE d.kind != 'html' AND k.referrer IN (
                                      SELECT url FROM captures WHERE sha256 = :s
                                      UNION SELECT final_url FROM captures WHERE sha256 = :s)""",
                                {"s": page_sha256})):
        redate(catalog, r["sha256"])


def linked_documents(catalog: Catalog, sha256: str) -> list[dict]:
    """The documents one document is published with, as the crawl saw the links: an attachment's HTML
    pages, or a page's attachments that are not pages (two pages linking each other are two reports).
    Each is ``id``, ``report_id``, ``year`` and ``how`` in words ("its page <url>")."""
    kind = catalog.scalar("SELECT kind FROM documents WHERE sha256 = ?", (sha256,))
    if kind is None:
        return []
    if kind == "html":
        how, rows = "its attachment", catalog.rows(
            """SELECT DISTINCT d.id, d.report_id, d.year, coalesce(k.final_url, k.url) AS url
               FROM captures k JOIN documents d ON d.sha256 = k.sha256
               WHERE d.kind != 'html' AND k.referrer IN (SELECT url FROM captures WHERE sha256 = :s
                                                         UNION SELECT final_url FROM captures WHERE sha256 = :s)""",
            {"s": sha256})
    else:
        how, rows = "its page", catalog.rows(
            """SELECT DISTINCT d.id, d.report_id, d.year, k.referrer AS url
               FROM captures k JOIN captures p ON p.url = k.referrer OR p.final_url = k.referrer
               JOIN documents d ON d.sha256 = p.sha256
               WHERE k.sha256 = :s AND d.kind = 'html'""", {"s": sha256})
    out: dict[int, dict] = {}
    for r in rows:
        out.setdefault(r["id"], {"id": r["id"], "report_id": r["report_id"], "year": r["year"],
                                 "how": f"{how} {r['url']}"})
    return list(out.values())
