"""Pages and text files as Windows tools and broken templates make them: UTF-16 and UTF-32 (with or without a
BOM) read like UTF-8, and a page nested deeper than the HTML parser builds a tree for is read as flat text with a
warning, never dropped as "not a report"."""

from __future__ import annotations

import re

import pytest

from archive.extract.charset import decode_html, decode_text, wide_encoding
from archive.extract.formats import sniff
from archive.parser import parse
from spiders.demo.generator import agency_name, generate, to_html


@pytest.fixture(scope="module")
def page() -> str:
    html = to_html(generate(7, year=2023, agency=agency_name(7)))
    return html.decode("utf-8") if isinstance(html, bytes) else html


@pytest.fixture(scope="module")
def expected(page):
    report = parse(page.encode("utf-8"), filename="a.html").report
    assert len(report["cells"]) > 100 and report["year"] == 2023
    return report


WIDE = ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"]  # "utf-16"/"utf-32" write a BOM


@pytest.mark.parametrize("encoding", WIDE)
def test_wide_html_and_text_read_like_utf8(page, expected, encoding):
    data = page.encode(encoding)
    assert sniff(data[:2048]) == "html" and sniff(data[:2048], filename="a.htm") == "html"
    assert decode_html(data)[0].lstrip("\ufeff") == page
    got = parse(data, filename="a.html").report
    assert (got["agency"], got["year"], got["cells"]) == (expected["agency"], expected["year"], expected["cells"])
    plain = re.sub(r"<[^>]+>", "\n", page)
    wide_text = plain.encode(encoding)
    assert sniff(wide_text[:2048]) == "text" and decode_text(wide_text)[0] == plain
    assert parse(wide_text, filename="a.txt").report["year"] == 2023


def test_narrow_encodings_are_not_taken_for_wide(page):
    for data in (page.encode("utf-8"), page.encode("gb18030"), "年报".encode("utf-16-le") * 3, b"%PDF-1.7\n" * 40,
                 bytes(range(256)) * 16):
        assert wide_encoding(data) is None
    assert wide_encoding(b"\xff\xfe\x00\x00" + "<html>".encode("utf-32-le")) == "utf-32"  # not UTF-16's BOM


@pytest.mark.parametrize("depth", [300, 5000])
def test_a_page_too_deep_for_a_tree_is_read_flat_with_a_warning(page, expected, depth):
    at = page.index("<body>") + len("<body>")
    deep = (page[:at] + "<div>" * depth + page[at:]).encode("utf-8")
    res = parse(deep, filename="a.html")
    def values(report):  # a label may read with half-width brackets from flat text; the figures are the same
        return [(c["table"], c["row"], c["column"], c["value"]) for c in report["cells"]]

    assert values(res.report) == values(expected) and res.report["agency"] == expected["agency"]
    assert any("deeper than the HTML parser's limit" in w and "flat text" in w for w in res.report["warnings"])
    assert not any("deeper" in w for w in parse(page.encode("utf-8"), filename="a.html").report["warnings"])
