"""``nianbao recover`` where archives are written in ways a single crawl does not show: two writers at once (a
revisit whose original is in a file that sorts after its own), WARC files that roll over after every record
(a capture's context record in the next file), a record damaged in the middle of a file (only it is lost),
and a writer at work (recovery refuses rather than lose what it writes)."""

from __future__ import annotations

import pytest

from archive import Archive, Capture
from archive.errors import ArchiveError
from helpers.damage import flip_byte

COLUMNS = ("source", "url", "final_url", "fetched_at", "status", "sha256", "size", "kind", "filename", "link_text",
           "portal_agency", "user_agency", "user_year", "warc_file", "warc_offset", "warc_record_id", "warc_type",
           "payload_digest")


def page(n: int) -> bytes:
    return f"<html><head><title>页 {n}</title></head><body><p>第{n}页 {'正文' * 200}</p></body></html>".encode()


def crawled(url: str, body: bytes, link_text: str | None = None) -> Capture:
    return Capture(url=url, body=body, headers=[("Content-Type", "text/html; charset=utf-8")], link_text=link_text,
                   portal_agency="某市人民政府办公室")


def rows(where) -> list[tuple]:
    with Archive.open(where, readonly=True) as a:
        return sorted(tuple(r.values()) for r in a.catalog.rows(f"SELECT {', '.join(COLUMNS)} FROM captures"))


def lose_catalog(where) -> None:
    for p in where.glob("catalog.db*"):
        p.unlink()


def test_a_revisit_of_a_record_in_a_file_that_sorts_later(tmp_path):
    where = tmp_path / "arch"
    with Archive.open(where) as a:
        first = a.writer(examine=False)
        first.warc._ensure_file()  # its file is opened (and named) first, written to last
        with a.writer(examine=False) as second:
            second.add(crawled("http://a.example/x.html", page(1), "信息公开"))
        first.add(crawled("http://a.example/copy-of-x.html", page(1), "副本"))
        first.close()
        assert a.catalog.scalar("SELECT count(*) FROM captures WHERE warc_type = 'revisit'") == 1
    want = rows(where)
    lose_catalog(where)
    res = Archive.recover(where)
    assert res.notes == [] and rows(where) == want


def test_files_that_roll_after_every_record_keep_each_captures_context(tmp_path):
    where = tmp_path / "arch"
    with Archive.open(where) as a, a.writer(examine=False, max_warc_size=1) as w:
        for n in range(4):
            w.add(Capture(url=f"file:///home/u/年报{n}.html", body=page(n), status=200, source="ingest",
                          filename=f"年报{n}.html", headers=[("Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT")],
                          user_agency="某县信访局" if n % 2 else None, user_year=2023 if n < 2 else None))
        w.add(crawled("http://a.example/y.html", page(9), "2023年年报"))
    want = rows(where)
    assert len(list((where / "warc").glob("*.warc.gz"))) >= 5
    lose_catalog(where)
    Archive.recover(where)
    assert rows(where) == want  # source 'ingest', file names, the user's hints and the link text came back


def test_a_record_damaged_mid_file_costs_only_that_record(tmp_path):
    where = tmp_path / "arch"
    with Archive.open(where) as a, a.writer(examine=False) as w:
        for n in range(6):
            w.add(crawled(f"http://a.example/{n}.html", page(n), f"链接{n}"))
    want = rows(where)
    with Archive.open(where, readonly=True) as a:
        hit = a.catalog.one("SELECT warc_file, warc_offset, warc_length, warc_record_id FROM captures "
                            "ORDER BY id LIMIT 1 OFFSET 2")
    flip_byte(where / "warc" / hit["warc_file"], hit["warc_offset"] + hit["warc_length"] // 2)
    lose_catalog(where)
    res = Archive.recover(where)
    at = COLUMNS.index("warc_record_id")
    assert rows(where) == [r for r in want if r[at] != hit["warc_record_id"]]  # the other five, whole
    assert len(res.notes) == 1 and "damaged" in res.notes[0][1]


def test_an_address_with_a_fragment_and_its_304_come_back(tmp_path):
    """gkmlpt columns are addressed by fragment (/gkmlpt/index#2629); the server is asked without it, so the
    records do not say it: the context record does, and the later 304 finds what it repeats."""
    where = tmp_path / "arch"
    with Archive.open(where) as a:
        with a.writer(examine=False) as w:
            w.add(Capture(url="http://g.example/gkmlpt/index#2629", final_url="http://g.example/gkmlpt/index",
                          body=page(3), headers=[("Content-Type", "text/html")]))
        with a.writer(examine=False) as w:
            w.add(Capture(url="http://g.example/gkmlpt/index#2629", body=b"", status=304))
    want = rows(where)
    assert want[1][COLUMNS.index("sha256")]  # the 304 repeats the page
    lose_catalog(where)
    Archive.recover(where)
    assert rows(where) == want


def test_a_damaged_blob_is_written_back_from_its_record(tmp_path):
    where = tmp_path / "arch"
    with Archive.open(where) as a, a.writer(examine=False) as w:
        sha = w.add(crawled("http://a.example/1.html", page(1))).sha256
    with Archive.open(where) as a:
        flip_byte(a.store.locate(sha)[0], 20)
        assert a.store.check(sha) == "corrupt"
    lose_catalog(where)
    assert Archive.recover(where).blobs_restored == 1
    with Archive.open(where, readonly=True) as a:
        assert a.store.check(sha) == "ok" and a.verify().ok


def test_recovery_refuses_while_a_writer_is_at_work(tmp_path):
    where = tmp_path / "arch"
    with Archive.open(where) as a, a.writer(examine=False) as w:
        w.add(crawled("http://a.example/1.html", page(1)))
    with Archive.open(where) as a:
        busy = a.writer(examine=False)
        with pytest.raises(ArchiveError, match="a writer is at work"):
            Archive.recover(where, force=True)
        busy.close()
    assert Archive.recover(where, force=True).captures == 1
