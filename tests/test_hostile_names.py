"""File names that are not UTF-8 (what a Windows zip of 年报 gives on Linux) are archived with the rest of their
batch, shown readably, their exact bytes kept in the file URL; a capture with a field that is not text is
refused alone, before any of its bytes are written."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from click.testing import CliRunner

from archive import Archive, Capture
from archive.capture import display_name
from archive.errors import CaptureError
from crawler.cli import cli

GBK_NAME = "年报2023.html".encode("gb18030")  # b"\xc4\xea\xb1\xa82023.html": not UTF-8


def test_display_name():
    assert display_name("年报.pdf") == "年报.pdf"
    assert display_name(os.fsdecode(GBK_NAME)) == "年报2023.html"
    odd = display_name(os.fsdecode(b"\xff\xfe\x80report.pdf"))  # neither UTF-8 nor GB18030
    assert odd.endswith("report.pdf") and "\ufffd" in odd and odd.encode("utf-8")


def test_a_gbk_named_file_is_archived_with_its_batch(docs, tmp_path):
    src = tmp_path / "zip"
    src.mkdir()
    shutil.copy(docs / "report0.html", src / "report0.html")
    shutil.copy(docs / "report0.pdf", src / "report0.pdf")
    shutil.copy(docs / "report1.html", os.fsdecode(os.fsencode(src) + b"/" + GBK_NAME))
    where = tmp_path / "arch"
    res = CliRunner().invoke(cli, ["ingest", str(src), "--archive", str(where), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["files"] == 3 and out["errors"] == [] and out["new_reports"] == 2
    with Archive.open(where, readonly=True) as a:
        rows = {r["filename"]: r["url"] for r in a.catalog.rows("SELECT filename, url FROM captures")}
        assert set(rows) == {"report0.html", "report0.pdf", "年报2023.html"}
        assert rows["年报2023.html"].endswith("/%C4%EA%B1%A82023.html")  # the bytes as they were
        assert a.verify().ok and not a.verify().orphans
    shown = CliRunner().invoke(cli, ["ingest", str(src), "--archive", str(where)], catch_exceptions=False)
    assert shown.exit_code == 0 and "3 unchanged file(s) skipped" in " ".join(shown.output.split())


def test_a_capture_that_is_not_text_is_refused_alone(tmp_path):
    where = tmp_path / "arch"
    good = Capture(url="http://127.0.0.9/a.html", body=b"<html><body>a</body></html>",
                   headers=[("Content-Type", "text/html")])
    bad = Capture(url="http://127.0.0.9/b.html", body=b"<html><body>b, not stored</body></html>",
                  headers=[("Content-Type", "text/html")], link_text=os.fsdecode(b"\xc4\xea\xb1\xa8 link"))
    with Archive.open(where) as a, a.writer(kind="crawl", examine=False) as w:
        w.add(good)
        with pytest.raises(CaptureError, match=r"link text is not text"):
            w.add(bad)
        w.add(Capture(url="http://127.0.0.9/c.html", body=b"<html><body>c</body></html>",
                      headers=[("Content-Type", "text/html")]))
        w.close()
    with Archive.open(where, readonly=True) as a:
        assert sorted(r["url"] for r in a.catalog.rows("SELECT url FROM captures")) == [
            "http://127.0.0.9/a.html", "http://127.0.0.9/c.html"]
        check = a.verify(warc_records=True)
        assert check.ok and check.blobs_checked == 2 and not check.orphans  # nothing of b.html was written
