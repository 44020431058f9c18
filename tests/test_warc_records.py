"""Reading a WARC's records back into exchanges (archive/warc/records.py), without an archive: requests
paired either way round, redirects folded, bodies decoded, revisits passed on, our metadata collected,
a record cut short refused."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from types import SimpleNamespace

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.errors import TornRecord
from archive.warc import records
from archive.warc.records import META_TYPE, Exchange, ExchangeReader, Spool

HOST = "http://127.0.0.41"


def response(w: WARCWriter, path: str, status: str, headers: list, payload: bytes):
    http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
    return w.create_warc_record(f"{HOST}{path}", "response", payload=io.BytesIO(payload), http_headers=http)


def request(w: WARCWriter, path: str, response_record):
    http = StatusAndHeaders(f"GET {path} HTTP/1.1", [("Host", "127.0.0.41"), ("Referer", f"{HOST}/list")],
                            is_http_request=True)
    rid = response_record.rec_headers.get_header("WARC-Record-ID")
    return w.create_warc_record(f"{HOST}{path}", "request", http_headers=http,
                                warc_headers_dict={"WARC-Concurrent-To": rid})


def rid(record) -> str:
    return record.rec_headers.get_header("WARC-Record-ID")


@pytest.fixture
def warc() -> tuple[bytes, dict]:
    """One small WARC with every kind of record the reader tells apart; the ids of the interesting ones."""
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True, warc_version="1.1")
    ids = {}
    w.write_record(w.create_warcinfo_record("t.warc.gz", {"software": "test"}))
    w.write_record(w.create_warc_record("dns:127.0.0.41", "response", payload=io.BytesIO(b"127.0.0.41\n"),
                                        warc_content_type="text/dns"))
    a = response(w, "/a.html", "200 OK", [("Content-Type", "text/html")], b"<p>a</p>")
    w.write_record(a)
    w.write_record(request(w, "/a.html", a))  # ours: the request after its response
    b = response(w, "/b.html", "200 OK", [("Content-Encoding", "gzip")], gzip.compress(b"<p>b</p>" * 50, mtime=0))
    w.write_record(request(w, "/b.html", b))  # warcio's and Heritrix's: the request first
    w.write_record(b)
    hop = response(w, "/old", "301 Moved Permanently", [("Location", "/c.html")], b"")
    w.write_record(hop)
    c = response(w, "/c.html", "200 OK", [], b"<p>c</p>")
    w.write_record(c)
    dead = response(w, "/gone", "302 Found", [("Location", "/nowhere")], b"")
    w.write_record(dead)
    rv = w.create_revisit_record(f"{HOST}/a2.html", digest=a.rec_headers.get_header("WARC-Payload-Digest"),
                                 refers_to_uri=f"{HOST}/a.html", refers_to_date=a.rec_headers.get_header("WARC-Date"))
    w.write_record(rv)
    nm = w.create_revisit_record(f"{HOST}/a.html", digest=a.rec_headers.get_header("WARC-Payload-Digest"),
                                 refers_to_uri=f"{HOST}/a.html", refers_to_date=a.rec_headers.get_header("WARC-Date"),
                                 http_headers=StatusAndHeaders("304 Not Modified", [], protocol="HTTP/1.1"))
    w.write_record(nm)
    w.write_record(w.create_warc_record(f"{HOST}/r.txt", "resource", payload=io.BytesIO(b"a resource"),
                                        warc_content_type="text/plain"))
    w.write_record(w.create_warc_record("urn:pageinfo:x", "resource", payload=io.BytesIO(b"{}"),
                                        warc_content_type="application/json"))
    w.write_record(w.create_warc_record(f"{HOST}/a.html", "metadata", payload=io.BytesIO(b'{"link_text": "A"}'),
                                        warc_content_type=META_TYPE, warc_headers_dict={"WARC-Refers-To": rid(a)}))
    w.write_record(w.create_warc_record(f"{HOST}/a.html", "metadata", payload=io.BytesIO(b"k: v"),
                                        warc_content_type="text/anvl"))
    d = response(w, "/d.html", "200 OK", [("Content-Encoding", "compress")], b"not compressed at all")
    w.write_record(d)
    ids.update(a=rid(a), b=rid(b), hop=rid(hop), c=rid(c), dead=rid(dead), rv=rid(rv), nm=rid(nm), d=rid(d))
    return buf.getvalue(), ids


def tally() -> SimpleNamespace:
    return SimpleNamespace(records=0, other=0, known=0, notes=[])


def read(data: bytes, tmp_path, known=lambda rid: False) -> tuple[list[Exchange], SimpleNamespace, dict]:
    t, meta = tally(), {}
    reader = ExchangeReader(Spool(tmp_path / "spool"), t, meta, source="test", known=known)
    return [e for e in reader.read(io.BytesIO(data)) if e is not None], t, meta


def test_records_become_exchanges_with_their_requests_redirects_and_decoded_bodies(warc, tmp_path):
    data, ids = warc
    exchanges, t, meta = read(data, tmp_path)
    by_id = {e.record_id: e for e in exchanges}
    assert [(e.cap.final_url or e.cap.url).removeprefix(HOST) for e in exchanges] == [
        "/a.html", "/b.html", "/c.html", "/a2.html", "/a.html", "/r.txt", "/d.html", "/gone"]  # in file order
    a, b, c = by_id[ids["a"]].cap, by_id[ids["b"]].cap, by_id[ids["c"]].cap
    assert a.method == "GET" and a.referrer == f"{HOST}/list" and a.body.read() == b"<p>a</p>" and a.source == "test"
    assert b.method == "GET" and b.body.read() == b"<p>b</p>" * 50 and b.raw_body is not None  # either order
    assert c.url == f"{HOST}/old" and c.final_url == f"{HOST}/c.html" and [h.status for h in c.redirects] == [301]
    assert by_id[ids["rv"]].revisit["uri"] == f"{HOST}/a.html" and by_id[ids["rv"]].revisit["refers_to"] is None
    assert by_id[ids["nm"]].cap.status == 304 and by_id[ids["nm"]].revisit is None
    assert by_id[ids["d"]].cap.body.read() == b"not compressed at all"
    assert t.notes == [(f"{HOST}/d.html", "content coding 'compress' is not supported: the body is kept as sent")]
    gone = exchanges[-1]
    assert gone.record_id == ids["dead"] and gone.cap.status == 302 and gone.cap.body.size == 0  # led nowhere
    assert meta == {ids["a"]: {"link_text": "A"}}
    # warcinfo, dns:, urn:pageinfo and the foreign metadata record; 16 records in all
    assert (t.records, t.other, t.known) == (16, 4, 0)


def test_records_the_caller_knows_are_counted_and_skipped(warc, tmp_path):
    data, ids = warc
    exchanges, t, _ = read(data, tmp_path, known=lambda r: r in (ids["a"], ids["c"], ids["dead"]))
    got = {e.record_id for e in exchanges}
    assert ids["a"] not in got and ids["c"] not in got and ids["dead"] not in got and ids["b"] in got
    assert t.known == 2  # a and c (a dead end known is only skipped)


def test_an_exchange_is_handed_over_before_the_next_record_is_asked_about(warc, tmp_path):
    """The importer adds each exchange as it comes: the next record's ``known`` must see it."""
    data, ids = warc
    log = []
    reader = ExchangeReader(Spool(tmp_path), tally(), {}, source="t", known=lambda r: log.append(("known", r)))
    for e in reader.read(io.BytesIO(data)):
        if e is not None:
            log.append(("got", e.record_id))
    assert log.index(("got", ids["a"])) < log.index(("known", ids["b"]))
    assert log.index(("got", ids["b"])) < log.index(("known", ids["c"]))


def test_a_record_cut_short_is_refused(tmp_path):
    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=False, warc_version="1.1")
    w.write_record(response(w, "/big.html", "200 OK", [], b"x" * 10_000))
    data = buf.getvalue()[:-5_000]
    with pytest.raises(TornRecord, match="cut short"):
        read(data, tmp_path)


def test_a_large_payload_is_spooled_to_a_file_that_clear_removes(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "SPOOL_OVER", 1000)
    spool = Spool(tmp_path / "spool")
    body, cut = spool.read(io.BytesIO(b"y" * 5000))
    assert not cut and body.path is not None and body.read() == b"y" * 5000
    spool.clear()
    assert not body.path.exists() and spool.paths == []
    assert spool.read(io.BytesIO(b"z" * 5000), limit=4000)[1]  # cut at the limit


def test_reading_records_needs_no_catalog():
    code = ("import sys, archive.warc.records; "
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('archive.catalog', 'archive.ingest')))))")
    out = subprocess.run([sys.executable, "-c", "import json; " + code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
