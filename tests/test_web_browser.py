"""The web app in headless Chromium (Debian's, or Playwright's own): search a two-character term, page
through the results, open a report, see its table and failed check, open the original; a report whose
HTML carries <script> and onerror= runs no script anywhere. A screenshot of the report page is saved
to test-artifacts/ for review."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import sync_playwright

from archive import Archive
from archive.web import create_app
from crawler.settings import CHROMIUM_ARGS, chromium_path
from helpers.captures import http_capture
from spiders.demo.generator import generate, to_html

pytestmark = [pytest.mark.slow, pytest.mark.browser]  # Chromium drives the web pages

HOST = "127.0.0.93"
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
EVIL = ('<script>window.top.__pwned = "script"; alert("script")</script>'
        '<img src="x" onerror="window.top.__pwned = \'onerror\'; alert(\'onerror\')">'
        "<p>&lt;script&gt;window.top.__pwned='escaped'&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;</p>")


def evil_page(rep) -> bytes:
    page = to_html(rep).decode()
    return page.replace("<p>一、总体情况</p>", "<p>一、总体情况</p>" + EVIL, 1).encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    path = tmp_path_factory.mktemp("browser") / "a"
    with Archive.open(path) as a:
        with a.writer() as w:
            for i in range(25):
                rep = generate(7000 + i, year=2019 + i % 5, breaks=("balance:total",) if i == 4 else ())
                body = evil_page(rep) if i == 7 else to_html(rep)
                if i == 0:  # a link to a page the archive holds, and one to a page it does not
                    body = body.replace(b"</body>", '<a id="held" href="1.html">下一篇</a> '
                                        '<a id="not-held" href="99.html">另一篇</a></body>'.encode())
                w.add(http_capture(f"http://{HOST}/nb/{i}.html", body))
        a.reindex(only_pending=True)
        evil_id = a.catalog.scalar("SELECT report_id FROM documents d JOIN captures k ON k.sha256 = d.sha256 "
                                   "WHERE k.url LIKE '%/nb/7.html'")
        first = a.catalog.scalar(f"SELECT sha256 FROM captures WHERE url = 'http://{HOST}/nb/0.html'")
        agency = a.report(1)["agency"]
    with socket.socket() as s:
        s.bind((HOST, 0))
        port = s.getsockname()[1]
    app = create_app(path, allowed_hosts=[HOST])
    srv = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    while not srv.started:
        time.sleep(0.05)
    yield {"url": f"http://{HOST}:{port}", "evil": evil_id, "first": first, "agency": agency}
    srv.should_exit = True
    t.join(10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        exe = chromium_path()
        b = p.chromium.launch(headless=True, args=CHROMIUM_ARGS, **({"executable_path": exe} if exe else {}))
        yield b
        b.close()


def test_search_page_through_open_a_report_its_failed_check_and_the_original(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    page.goto(server["url"] + "/")
    page.fill("input[name=q]", "复议")
    page.click("button[type=submit]")
    assert int(page.inner_text("#total")) == 25
    assert page.locator("li.hit").count() == 20 and page.locator("li.hit mark").first.inner_text() == "复议"
    page.click("a[rel=next]")
    assert page.locator("li.hit").count() == 5 and "第 2 页" in page.inner_text("nav.pager")
    page.click("a[rel=prev]")
    assert page.locator("li.hit").count() == 20
    page.close()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    page.goto(server["url"] + "/?q=复议&failed_checks=true")
    assert int(page.inner_text("#total")) == 1
    page.click("li.hit a.title")
    assert "/report/" in page.url
    assert page.locator("table.template").count() == 3  # tables 二, 三 and 四
    assert page.locator("#failed-checks").inner_text().count("applications.balance.total") == 1
    assert page.locator("table.template td.bad").count() > 0
    ARTIFACTS.mkdir(exist_ok=True)
    # A tall viewport rather than full_page: full-page capture stalled headless Chromium here after a
    # few navigations (with the sandboxed frame on the page), ignoring its own timeout.
    height = page.evaluate("() => document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": min(height, 6000)})
    page.screenshot(path=str(ARTIFACTS / "report-page.png"), timeout=30_000)

    response = page.goto(server["url"] + page.get_attribute("#original-link", "href"))
    assert response.status == 200 and "存档副本" in page.inner_text("#archived-banner")
    frame = page.frame_locator("iframe.original")
    assert "政府信息公开工作年度报告" in frame.locator("body").inner_text()
    response = page.goto(server["url"] + page.get_attribute("#content-link", "href"))
    assert response.status == 200 and response.headers["content-security-policy"].startswith("sandbox")
    assert "/original/" in page.url and "政府信息公开工作年度报告" in page.content()
    page.close()


def test_script_in_an_archived_report_never_runs(server, browser):
    page = browser.new_page()
    page.set_default_timeout(20_000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{server['url']}/report/{server['evil']}")
    page.wait_for_load_state("networkidle")
    assert page.locator("iframe.original").count() == 1  # the original is shown, in a sandbox
    time.sleep(0.5)
    for frame in page.frames:
        assert frame.evaluate("() => window.__pwned === undefined && window.top === window.top"), frame.url
    assert page.evaluate("() => window.__pwned") is None
    # The page's text carries it as text, however it is laid out (sections fold).
    assert "<script>window.top.__pwned='escaped'</script>" in (page.text_content("main") or "")
    # Opened directly, the original is a sandboxed document: no script, and it is not our origin.
    page.goto(server["url"] + page.get_attribute("#original-link", "href"))
    page.goto(server["url"] + page.get_attribute("#content-link", "href"))
    assert page.evaluate("() => window.__pwned") is None
    assert page.evaluate("() => { try { return document.cookie, 'same'; } catch (e) { return 'opaque'; } }") == "opaque"
    assert dialogs == []
    page.close()


def test_a_click_on_an_archived_link_opens_the_archived_copy_with_its_banner(server, browser):
    """The original is in a sandboxed frame (no script); a user's click on a link the archive holds opens that
    page's archived copy in the whole tab, banner and all; a link it does not hold points at the live web."""
    page = browser.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{server['url']}/original/{server['first']}")
    assert f"http://{HOST}/nb/0.html" in page.inner_text("#source-url")
    frame = page.frame_locator("iframe.original")
    assert frame.locator("#not-held").get_attribute("href") == f"http://{HOST}/nb/99.html"
    with page.expect_navigation():
        frame.locator("#held").click()
    assert "/original/" in page.url and "?capture=" in page.url
    assert "存档副本" in page.inner_text("#archived-banner")
    assert f"http://{HOST}/nb/1.html" in page.inner_text("#source-url")
    page.close()


@pytest.mark.parametrize("width,height,name", [(1280, 900, "desktop"), (390, 844, "phone")])
def test_each_view_reads_at_desktop_and_phone_width(server, browser, width, height, name):
    """Search, a report, an agency, the comparison, coverage, an archived original and the API docs: nothing
    wider than the screen but a table's own scroll box (tables scroll sideways), the API docs drawn from our
    own files. Screenshots saved."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        for path, shot in (("/?q=复议", "search"), ("/report/1", "report"), (f"/agency/{server['agency']}", "agency"),
                           ("/compare?metric=applications/1/total", "compare"), ("/coverage", "coverage"),
                           (f"/original/{server['first']}", "original"), ("/docs", "docs")):
            page.goto(server["url"] + path)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{path} is {overflow}px wider than a {name} screen"
            page.screenshot(path=str(ARTIFACTS / f"{shot}-{name}.png"), full_page=False, timeout=30_000)
        page.goto(server["url"] + "/docs")
        page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)  # drawn: the script ran, no CDN asked
        page.goto(server["url"] + "/compare?metric=applications/1/total")
        assert page.locator("#compare-table tbody tr").count() >= 1 and page.locator("svg.multiple").count() >= 1
        page.goto(server["url"] + "/coverage")
        assert page.locator("#coverage-matrix tbody tr").count() >= 1
        assert page.locator("#coverage-verdicts tbody tr").count() >= 25  # every report judged, no profile needed
        page.goto(f"{server['url']}/agency/{server['agency']}")
        assert page.locator("table.years-side").count() == 3 and page.locator("#compliance tbody tr").count() >= 1
    finally:
        page.close()
