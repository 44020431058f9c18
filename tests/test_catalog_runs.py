"""What the crawler asks the catalog (archive.catalog.runs, archive.catalog.lookup): which runs a crawl
resumes, the validators for conditional requests, a URL's last capture, a run's rows per portal."""

from __future__ import annotations

from archive.catalog import harvests
from archive.examine.pipeline import examine, parse_blob
from helpers.captures import http_capture

HOST, OTHER = "127.0.0.71", "127.0.0.72"


def _run(archive, portals: list[str], status: str, captures=()) -> int:
    with archive.writer(kind="crawl", portals=portals, examine=False) as w:
        for cap in captures:
            w.add(cap)
        w.close(status=status)
    return w.run_id


def test_a_crawl_resumes_the_interrupted_runs_of_its_portals_since_the_last_finished_one(archive):
    _run(archive, ["p"], "ok")
    two = _run(archive, ["p"], "interrupted")
    three = _run(archive, ["q"], "failed")
    _run(archive, ["p"], "running")  # another crawl still going: not resumed
    five = _run(archive, ["p", "q"], "shutdown")
    assert archive.resumable_runs(["p"]) == [five, two]
    assert archive.resumable_runs(["q"]) == [five, three]
    assert archive.resumable_runs(["p", "q"]) == [five, three, two]
    assert archive.resumable_runs(["r"]) == []
    _run(archive, ["p"], "ok")
    assert archive.resumable_runs(["p"]) == []
    assert archive.resumable_runs(["p", "q"]) == [five, three, two]  # that ok run did not cover q


def test_validators_and_last_captures_are_per_host_and_newest_first(archive):
    old = http_capture(f"http://{HOST}/a.html", b"<html>old</html>", extra_headers=[("ETag", '"1"')])
    new = http_capture(f"http://{HOST}/a.html", b"<html>new</html>", extra_headers=[("ETag", '"2"')])
    plain = http_capture(f"http://{HOST}/b.html", b"<html>b</html>")  # no validator
    dated = http_capture(f"http://{HOST}/c.html", b"<html>c</html>",
                         extra_headers=[("Last-Modified", "Mon, 03 Jan 2022 00:00:00 GMT")])
    gone = http_capture(f"http://{HOST}/d.html", b"<html>gone</html>", status=404, extra_headers=[("ETag", '"9"')])
    elsewhere = http_capture(f"http://{OTHER}/a.html", b"<html>other</html>", extra_headers=[("ETag", '"x"')])
    first = _run(archive, ["p"], "ok", [old, plain])
    second = _run(archive, ["p"], "ok", [new, dated, gone, elsewhere])

    lookup = archive.crawl_lookup([HOST])
    by_url = {v["url"]: v for v in lookup.validators()}
    assert set(by_url) == {f"http://{HOST}/a.html", f"http://{HOST}/c.html"}
    assert by_url[f"http://{HOST}/a.html"]["etag"] == '"2"' and by_url[f"http://{HOST}/a.html"]["kind"] == "html"
    assert by_url[f"http://{HOST}/c.html"]["last_modified"] == "Mon, 03 Jan 2022 00:00:00 GMT"

    assert lookup.last(f"http://{HOST}/a.html")["run_id"] == second
    assert lookup.last(f"http://{HOST}/b.html")["run_id"] == first
    assert lookup.last(f"http://{HOST}/d.html") is None  # an error page is nothing to resume from
    assert lookup.last(f"http://{OTHER}/a.html") is None  # not one of this crawl's hosts
    assert archive.crawl_lookup().last(f"http://{OTHER}/a.html")["etag"] == '"x"'  # no hosts: every URL


def test_a_runs_rows_per_portal_and_the_latest_crawl_run(archive):
    page = http_capture(f"http://{HOST}/a.html", b"<html>a</html>")
    missing = http_capture(f"http://{HOST}/x.html", b"<html>no</html>", status=404)
    other = http_capture(f"http://{OTHER}/a.html", b"<html>o</html>")
    first = _run(archive, ["p"], "ok", [page, missing])
    second = _run(archive, ["q"], "ok", [other])
    rows = archive.run_rows(first, [HOST])
    assert sorted((r["url"], r["status"]) for r in rows.captures) == [(f"http://{HOST}/a.html", 200),
                                                                      (f"http://{HOST}/x.html", 404)]
    assert archive.run_rows(second, [HOST]).captures == []
    assert archive.run(first)["status"] == "ok" and archive.run(first)["pages"] == 2
    assert archive.run(None) is None

    assert archive.latest_crawl_run() == second
    assert archive.latest_crawl_run(portal="p") == first
    since = archive.run(second)["started_at"]
    assert archive.latest_crawl_run(portal="p", since=since) is None
    assert archive.latest_crawl_run(portal="q", since=since) == second


def test_harvest_rows_come_back_in_the_order_asked_and_hand_overs_are_remembered(archive):
    a = harvests.begin(archive.catalog, "p", "run-now")
    b = harvests.begin(archive.catalog, "q", "schedule")
    assert [r["portal"] for r in harvests.get(archive.catalog, [b, a])] == ["q", "p"]
    assert archive.imported_handovers() == set()
    with archive.catalog.transaction() as db:
        db["handovers"].insert({"task_id": "crawl-p-1", "portal": "p", "imported_at": "2024-01-01T00:00:00Z"})
    assert archive.imported_handovers() == {"crawl-p-1"}


def test_examine_takes_the_parse_step_it_is_given(archive, docs):
    sample = [docs / "report0.html", docs / "report1.html"]
    caps = [http_capture(f"http://{HOST}/{p.name}", p.read_bytes()) for p in sample]
    _run(archive, ["p"], "ok", caps)
    shas = [r["sha256"] for r in archive.catalog.rows("SELECT sha256 FROM blobs ORDER BY rowid")]
    asked = []

    def only_the_first(items):  # a step that loses the second blob, as a failed remote task would
        asked.extend(sha for sha, _ in items)
        sha, hint = items[0]
        yield sha, hint, parse_blob(str(archive.store.root), sha, hint)

    placed = examine(archive.catalog, archive.store, shas, parse_with=only_the_first)
    assert asked == shas and [p.sha256 for p in placed] == shas[:1]
    examined = {r["sha256"]: r["examined_by"] for r in archive.catalog.rows("SELECT sha256, examined_by FROM blobs")}
    assert examined[shas[0]] is not None and examined[shas[1]] is None
