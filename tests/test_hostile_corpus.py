"""The hostile-input corpus of issue 14, generated here (tests/helpers/hostile.py; no stored binaries), ingested
in one batch with twenty good reports: each hostile file gets its expected outcome, in words, within bounded
time and memory, and the good ones are archived and parsed as if it were not there. The bombs are real-sized
where the limits stop them early (the lying DOCX, the deflate bomb) and scaled down with a lowered time limit
where only the limit stops them (the operator bomb). Damage to an archive is test_damaged_archive.py's."""

from __future__ import annotations

import json
import os
import re

import pytest
from click.testing import CliRunner

from archive import Archive
from crawler.cli import cli
from helpers.hostile import lying_docx, pdf_deflate_bomb, pdf_operator_bomb
from spiders.demo.generator import agency_name, generate, to_html

pytestmark = pytest.mark.slow  # one ingest of 26 files, three of them bombs

GBK_NAME = "年报2023.html".encode("gb18030")  # what a Windows zip of 年报 gives on Linux: not UTF-8


def good(seed: int) -> bytes:
    return to_html(generate(seed, year=2020 + seed % 4, agency=agency_name(seed)))


def deep_html(seed: int, depth: int = 3000) -> bytes:
    page = good(seed).decode("utf-8")
    at = page.index("<body>") + len("<body>")
    return (page[:at] + "<div>" * depth + page[at:]).encode("utf-8")


# name -> (bytes, role the blob gets, words its note must hold)
def corpus() -> dict[str, tuple[bytes, str, str]]:
    return {
        "operator-bomb.pdf": (pdf_operator_bomb(4), "failed", "parsing stopped after 3 s"),
        "deflate-bomb.pdf": (pdf_deflate_bomb(400), "failed", "compression bomb"),
        "lying-sizes.docx": (lying_docx(400), "failed", "zip bomb"),
        "deep.html": (deep_html(901), "report", "flat text"),
        "utf16.html": (good(902).decode("utf-8").encode("utf-16"), "report", ""),
    }


def test_the_hostile_corpus_each_gets_its_outcome_and_the_good_files_are_untouched(tmp_path, monkeypatch):
    monkeypatch.setenv("NIANBAO_PARSE_SECONDS", "3")
    monkeypatch.setenv("NIANBAO_PARSE_SECONDS_PER_MB", "0")
    src = tmp_path / "batch"
    src.mkdir()
    files = corpus()
    for name, (data, _, _) in files.items():
        (src / name).write_bytes(data)
    assert sum(len(d) for d, _, _ in files.values()) < 8 * 2**20  # small on disk, costly to read
    with open(os.fsencode(src) + b"/" + GBK_NAME, "wb") as fh:
        fh.write(good(903))
    for seed in range(910, 930):
        (src / f"good{seed}.html").write_bytes(good(seed))
    where = tmp_path / "arch"
    res = CliRunner().invoke(cli, ["ingest", str(src), "--archive", str(where), "--json"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["files"] == 26 and out["errors"] == []
    assert out["new_reports"] == 23  # 20 good, the GBK-named, the deep and the UTF-16 ones
    with Archive.open(where, readonly=True) as a:
        c = a.catalog
        for name, (_, role, words) in files.items():
            row = c.one("SELECT b.role, b.examine_note, d.parsed FROM captures k JOIN blobs b ON b.sha256 = k.sha256 "
                        "LEFT JOIN documents d ON d.sha256 = k.sha256 WHERE k.filename = ?", (name,))
            assert row["role"] == role, (name, row)
            said = (row["examine_note"] or "") + " " + (row["parsed"] or "")
            assert words in said, (name, said[:300])
        assert c.scalar("SELECT count(*) FROM captures WHERE filename = '年报2023.html'") == 1
        assert a.verify().ok
    notes = " ".join(str(n) for n in out["notes"])
    assert all(re.search(re.escape(n), notes) for n in ("operator-bomb.pdf", "deflate-bomb.pdf", "lying-sizes.docx"))
