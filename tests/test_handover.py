"""A worker's hand-over through an object store (fsspec's in-memory filesystem stands in for S3): the
owner imports the WARC and uses the worker's parse results instead of parsing again, once."""

from __future__ import annotations

import uuid

from archive import Archive
from archive.ingest.handover import complete_handovers, import_handover, pack
from archive.store.shared import SharedStore
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_docx, to_html


def test_a_handover_through_an_object_store_is_imported_once_with_its_parse_results(tmp_path):
    reps = [generate(6300 + i, year=2020 + i) for i in range(3)]
    with Archive.open(tmp_path / "scratch") as scratch:
        with scratch.writer(portals=["p"]) as w:
            for i, rep in enumerate(reps):
                w.add(http_capture(f"http://127.0.0.41/nb/{i}.html", to_html(rep), link_text=f"{rep.year}年报",
                                   gzip_it=True))
            w.add(http_capture("http://127.0.0.41/files/0.docx", to_docx(reps[0]),
                               content_type="application/octet-stream"))
            run_id = w.run_id
        want = {(r["agency"], r["year"]) for r in scratch.reports()}
        shared = SharedStore(f"memory://nianbao-{uuid.uuid4().hex}")
        assert not shared.local
        manifest = pack(scratch, shared, "task-1", portal="p", run_id=run_id)
    assert complete_handovers(shared) == ["task-1"] and manifest["status"] == "ok"
    with Archive.open(tmp_path / "owner") as a:
        got, res = import_handover(a, shared, "task-1")
        assert res.parse_results_used == 4 and res.parsed_here == 0  # three pages and the DOCX
        assert {(r["agency"], r["year"]) for r in a.reports()} == want and len(want) == 3
        assert a.catalog.scalar("SELECT count(DISTINCT link_text) FROM captures WHERE link_text LIKE '%年报'") == 3
        run = a.catalog.one("SELECT kind, portals, status FROM runs WHERE id = ?", (got["run_id"],))
        assert (run["kind"], run["portals"], run["status"]) == ("crawl", '["p"]', "ok")
        before = a.catalog.scalar("SELECT count(*) FROM captures")
        again, res2 = import_handover(a, shared, "task-1", remove=True)
        assert res2 is None and again["run_id"] == got["run_id"]
        assert a.catalog.scalar("SELECT count(*) FROM captures") == before
    assert complete_handovers(shared) == []
