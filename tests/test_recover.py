"""``nianbao recover`` rebuilds a lost catalog from the WARC files and blobs: crawled portals (redirects,
attachments, revisits and 304s of a second crawl), ingested files (one given twice) and their parsed reports
come back equal to the original catalog, row for row where a WARC says it, with a blob the store lost written
back from its record; the damaged catalog is kept, and a sound one is not rebuilt unless asked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from archive import Archive
from crawler.cli import cli
from crawler.run import crawl_in_subprocess
from helpers.damage import overwrite_last_page
from spiders.demo.generator import agency_name, generate, to_html
from spiders.demo.portals import build
from spiders.demo.server import PortalServer
from spiders.profiles import PortalProfile

pytestmark = pytest.mark.slow  # two crawls and an ingest, then a rebuild

FAST = {"browser": "never", "progress": False, "overrides": {"AUTOTHROTTLE_START_DELAY": 0.0}}
CAPTURE_COLUMNS = ("source", "url", "final_url", "fetched_at", "status", "method", "content_type", "etag",
                   "last_modified", "sha256", "size", "kind", "filename", "referrer", "link_text", "redirects",
                   "ip_address", "host", "site_id", "portal_agency", "user_agency", "user_year", "warc_file",
                   "warc_offset", "warc_length", "warc_record_id", "warc_type", "payload_digest", "source_record_id")


@pytest.fixture(scope="module")
def original(tmp_path_factory) -> Path:
    where = tmp_path_factory.mktemp("orig") / "arch"
    portals = [build("trs", 61, [2021, 2022, 2023]), build("hanweb", 62, [2022, 2023])]
    servers = [PortalServer(p.site, host=f"127.0.0.{61 + i}").start() for i, p in enumerate(portals)]
    try:
        profiles = [PortalProfile(name=p.name, start_urls=[s.url + "/"], agency=p.agency, delay=0.0)
                    for p, s in zip(portals, servers, strict=True)]
        assert crawl_in_subprocess(where, profiles, **FAST)["status"] == "ok"
        assert crawl_in_subprocess(where, profiles, **FAST)["status"] == "ok"  # 304s and revisits
    finally:
        for s in servers:
            s.stop()
    files = tmp_path_factory.mktemp("files")
    for seed in (801, 802):
        (files / f"年报{seed}.html").write_bytes(to_html(generate(seed, year=2022, agency=agency_name(seed))))
    (files / "copy.html").write_bytes((files / "年报801.html").read_bytes())  # the same bytes again: a revisit
    res = CliRunner().invoke(cli, ["ingest", str(files), "--archive", str(where)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return where


def snapshot(where: Path) -> dict:
    with Archive.open(where, readonly=True) as a:
        c = a.catalog
        cols = ", ".join(CAPTURE_COLUMNS)
        return {
            "captures": sorted(tuple(r.values()) for r in c.rows(f"SELECT {cols} FROM captures")),
            "blobs": sorted(tuple(r.values()) for r in c.rows(
                "SELECT sha256, size, stored_size, encoding, kind, first_seen, role, examined_by FROM blobs")),
            "warc_files": sorted(tuple(r.values()) for r in c.rows("SELECT name, size, records FROM warc_files")),
            "documents": sorted(tuple(r.values()) for r in c.rows(
                "SELECT d.sha256, d.agency, d.year, d.title, d.template, d.text_sha256, d.cells_count, "
                "d.failed_checks, r.agency AS report_agency, r.year AS report_year "
                "FROM documents d LEFT JOIN reports r ON r.id = d.report_id")),
            "reports": sorted(tuple(r.values()) for r in c.rows(
                "SELECT r.agency_key, r.year, r.title, count(v.id) FROM reports r "
                "JOIN revisions v ON v.report_id = r.id GROUP BY r.id")),
            "cells": c.scalar("SELECT count(*) FROM cells"),
        }


def differences(got, want) -> list:
    """The first few rows that differ, column by column (captures), or the rows themselves."""
    if not isinstance(got, list):
        return [got, want]
    if got and len(got[0]) == len(CAPTURE_COLUMNS):
        at = CAPTURE_COLUMNS.index("warc_record_id")
        g, w = {r[at]: r for r in got}, {r[at]: r for r in want}
        missing = [dict(zip(CAPTURE_COLUMNS, w[k], strict=True)) for k in w.keys() - g.keys()]
        extra = [dict(zip(CAPTURE_COLUMNS, g[k], strict=True)) for k in g.keys() - w.keys()]
        if missing or extra:
            return [{"missing": missing[:2], "extra": extra[:2]}]
        got, want = sorted(g.values()), sorted(w.values())
    out = []
    for g, w in zip(got, want, strict=False):
        if g != w:
            out.append([(CAPTURE_COLUMNS[i] if len(g) == len(CAPTURE_COLUMNS) else i, a, b)
                        for i, (a, b) in enumerate(zip(g, w, strict=False)) if a != b])
    return out[:3] + ([f"{len(got)} rows against {len(want)}"] if len(got) != len(want) else [])


def test_a_deleted_catalog_is_rebuilt_equal_from_the_warc_files_and_blobs(original, tmp_path):
    want = snapshot(original)
    kinds = {row[CAPTURE_COLUMNS.index("warc_type")] for row in want["captures"]}
    assert {"response", "revisit", "resource"} <= kinds and len(want["reports"]) >= 7
    assert any(row[CAPTURE_COLUMNS.index("status")] == 304 for row in want["captures"])
    copy = tmp_path / "arch"
    shutil.copytree(original, copy)
    (copy / "catalog.db").unlink()
    lost = want["blobs"][0][0]
    with Archive.open(original, readonly=True) as a:
        a.store.locate(lost)  # it is there in the original
    for p in (copy / "blobs" / lost[:2]).glob(lost + "*"):
        p.unlink()  # and lost from the copy's store
    res = CliRunner().invoke(cli, ["recover", "--archive", str(copy), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["blobs_restored"] == 1 and out["notes"] == []
    assert not [n for n in out["set_aside"] if n.endswith(".db")]  # only the deleted file's stale WAL, if any
    got = snapshot(copy)
    for key in want:
        assert got[key] == want[key], (key, differences(got[key], want[key]))
    with Archive.open(copy, readonly=True) as a:
        assert a.verify().ok
        assert a.search("政府信息公开").total > 0  # the search index was rebuilt too


def test_a_damaged_catalog_is_kept_aside_and_a_sound_one_is_left_alone(original, tmp_path):
    copy = tmp_path / "arch"
    shutil.copytree(original, copy)
    refused = CliRunner().invoke(cli, ["recover", "--archive", str(copy)])
    assert refused.exit_code == 1 and "is sound" in refused.output
    overwrite_last_page(copy / "catalog.db")
    res = CliRunner().invoke(cli, ["recover", "--archive", str(copy)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "the damaged catalog is kept as catalog-damaged-" in res.output
    assert len(list(copy.glob("catalog-damaged-*.db"))) == 1
    want, got = snapshot(original), snapshot(copy)
    assert got["reports"] == want["reports"] and got["documents"] == want["documents"]
