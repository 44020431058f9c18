"""The JSON API: what each endpoint returns, validation, streamed exports, safety headers, and
schemathesis driving every operation of the OpenAPI description without a server error."""

from __future__ import annotations

import csv
import io
import json

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from archive import Archive
from archive.catalog.coverage import PortalScope
from archive.web import create_app
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_docx, to_html

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def build(path):
    with Archive.open(path) as a:
        with a.writer() as w:
            for i in range(6):
                rep = generate(6000 + i, year=2019 + i % 4, breaks=("balance:total",) if i == 2 else ())
                w.add(http_capture(f"http://127.0.0.91/nb/{i}.html", to_html(rep)))
                if i == 0:
                    w.add(http_capture(f"http://127.0.0.91/nb/{i}.docx", to_docx(rep), content_type=DOCX,
                                       referrer=f"http://127.0.0.91/nb/{i}.html"))
        a.reindex(only_pending=True)
    return path


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory):
    return build(tmp_path_factory.mktemp("web") / "a")


@pytest.fixture(scope="module")
def app(archive_dir):
    return create_app(archive_dir, portals=[PortalScope("web", ["127.0.0.91"])])


@pytest.fixture(scope="module")
def client(app):
    return TestClient(app, base_url="http://127.0.0.1")


def test_reports_and_one_report_with_its_cells(client):
    data = client.get("/api/reports", params={"per_page": 2}).json()
    assert data["total"] == 6 and len(data["reports"]) == 2
    rid = data["reports"][0]["id"]
    rep = client.get(f"/api/reports/{rid}").json()
    assert rep["report_id"] == rid and len(rep["cells"]) > 100 and rep["checks"]
    assert {"table", "row", "column", "value"} <= set(rep["cells"][0])
    assert client.get("/api/reports/999999").status_code == 404
    assert client.get("/api/reports/abc").status_code == 422


def test_search_cells_agencies_coverage(client):
    res = client.get("/api/search", params={"q": "复议", "per_page": 3}).json()
    assert res["total"] == 6 and len(res["hits"]) == 3 and "<mark>复议</mark>" in res["hits"][0]["snippet"]
    failed = client.get("/api/search", params={"failed_checks": "true"}).json()
    assert failed["total"] == 1
    bad = client.get("/api/search", params={"cell": "nonsense"})
    assert bad.status_code == 422 and "TABLE.ROW.COLUMN" in bad.json()["detail"]
    cells = client.get("/api/cells", params={"table": "applications", "row": "1", "column": "total"}).json()
    assert cells["total"] == 6 and all(c["row"] == "1" for c in cells["cells"])
    agencies = client.get("/api/agencies").json()
    assert len(agencies) == 6 and all(a["years"] for a in agencies)
    cov = client.get("/api/coverage").json()
    assert {v["status"] for v in cov} <= {"on_time", "late", "undated", "missing", "unchecked", "not_due"}


def test_originals_by_sha256_are_byte_exact_downloads(client, archive_dir):
    rep = client.get("/api/reports/1").json()
    sha = rep["source_sha256"]
    with Archive.open(archive_dir, readonly=True) as a:
        original = a.read_blob(sha)
    r = client.get(f"/api/blobs/{sha}")
    assert r.status_code == 200 and r.content == original and "attachment" in r.headers["content-disposition"]
    assert client.get("/api/blobs/" + "0" * 64).status_code == 404
    assert client.get("/api/blobs/../../catalog.db").status_code == 404
    assert client.get("/api/blobs/NOTAHASH").status_code == 422
    shown = client.get(f"/original/{sha}/content")  # the bytes; /original/{sha} is the page with the banner
    assert shown.headers["content-security-policy"].startswith("sandbox")
    assert "存档副本" in client.get(f"/original/{sha}").text


def test_exports_stream_every_row(client, archive_dir):
    with Archive.open(archive_dir, readonly=True) as a:
        n_cells = a.catalog.scalar("SELECT count(*) FROM report_cells")
    with client.stream("GET", "/api/export/cells.csv") as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        chunks = list(r.iter_text())
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert len(rows) == n_cells + 1 and len(chunks) > 1  # sent in pieces, not built whole
    lines = client.get("/api/export/reports.jsonl").text.splitlines()
    assert len(lines) == 6 and all(json.loads(x)["schema"] for x in lines)


def test_pages_send_safety_headers_and_the_archive_is_read_only(client, app):
    r = client.get("/")
    assert "script-src 'self'" in r.headers["content-security-policy"] and r.headers["x-content-type-options"]
    assert app.state.archive.readonly
    assert client.post("/api/reports").status_code == 405


@pytest.fixture(scope="module")
def api_schema(archive_dir):
    # schemathesis's ASGI client addresses the app as "testserver"
    app = create_app(archive_dir, portals=[PortalScope("web", ["127.0.0.91"])], allowed_hosts=["testserver"])
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(api_schema):
    """Every operation, with generated (valid and invalid) parameters: never a 5xx."""
    ran = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call()
            case.validate_response(response, checks=[not_a_server_error])

        check()
        ran += 1
    assert ran >= 9


def test_what_the_archive_does_not_hold_is_a_404_that_says_so(client):
    """NotFound from the archive is one 404: JSON under /api, the error page elsewhere, its words kept."""
    assert client.get("/api/reports/999999").json() == {"detail": "no report with id 999999"}
    assert client.get("/api/blobs/" + "0" * 64).json() == {"detail": f"no original with SHA-256 {'0' * 64}"}
    for path in ("/report/999999", "/original/" + "0" * 64, "/agency/没有这个机关"):
        r = client.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path
    assert "no report with id 999999" in client.get("/report/999999").text
