"""The demo job end to end: nine simulated portals served, crawled twice into a fresh archive."""

from __future__ import annotations

import pytest
from rich.console import Console

from crawler.demo import run_demo

# The demo crawls its portals: a challenge passed in Chromium, DOC reports read through LibreOffice.
pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.libreoffice]


def test_demo_finds_every_report_and_recrawls_for_almost_nothing(tmp_path):
    console = Console(file=open(tmp_path / "out.txt", "w"), width=120)  # noqa: SIM115 - closed with the test dir
    result = run_demo(tmp_path / "demo", console=console, small=True, progress=False)
    first, second = result["first"], result["second"]
    got = {(a, int(y)) for p in first["portals"] for y, ags in p["reports"].items() for a in ags}
    assert got == set(result["expected"])
    assert result["stats"]["reports"] == len(result["expected"]) and result["verify_ok"]
    assert second["new_blobs"] == 0 and second["not_modified"] > 0
    assert result["bytes_second"] < 0.1 * result["bytes_first"]
    # Every published report is judged on the date its page printed (demo pages say 发布时间 …-01-20).
    judged = {(v["agency"], v["year"]): v for v in result["coverage"]}
    assert all(judged[k]["status"] == "on_time" and judged[k]["source"].startswith(("page info line", "date beside"))
               for k in result["expected"])
    text = (tmp_path / "out.txt").read_text()
    assert "datasette serve" in text and "report 2023" in text
