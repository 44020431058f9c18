"""Property tests for the label normaliser, the grid builder and the digit splitter; and a fuzz test
that no input makes ``parse`` raise."""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.extract.grid import from_spans
from archive.parser import layout as L
from archive.parser import parse
from archive.parser.labels import normalise
from archive.parser.rows import SourceRow
from archive.parser.tables import APPLICATION_SPECS, match
from archive.parser.values import splits
from helpers.paths import FIXTURES, SEEDS
from spiders.demo import DOCUMENTS

WIDE = str.maketrans("()1234567890.,", "（）１２３４５６７８９０．，")

# -- labels ---------------------------------------------------------------------------------------


@st.composite
def reworded(draw, text: str) -> str:
    """A label as agencies write it: spaces and line breaks anywhere, brackets either width."""
    out = []
    for ch in text:
        out.append(ch)
        if draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from([" ", "\n", "\u3000", "  "])))
    s = "".join(out)
    return s.translate(WIDE) if draw(st.booleans()) else s.replace("（", "(").replace("）", ")")


@given(st.text(max_size=60))
def test_normalise_is_idempotent(text):
    assert normalise(normalise(text)) == normalise(text)


@given(st.data())
def test_every_template_row_is_found_however_its_label_is_spaced(data):
    i = data.draw(st.integers(0, len(APPLICATION_SPECS) - 1))
    spec = APPLICATION_SPECS[i]
    label = data.draw(reworded(spec.label))
    assert normalise(label) == normalise(spec.label)
    assert match(APPLICATION_SPECS, SourceRow(segments=[label]), i) == i


# -- grids ----------------------------------------------------------------------------------------


@st.composite
def partitions(draw):
    """A table as merged rectangles covering an R x C grid exactly: {(r, c): (rowspan, colspan)}."""
    rows, cols = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    free = [[True] * cols for _ in range(rows)]
    out = {}
    for r in range(rows):
        for c in range(cols):
            if not free[r][c]:
                continue
            run = 0
            while c + run < cols and free[r][c + run]:
                run += 1
            cs = draw(st.integers(1, run))
            rs = draw(st.integers(1, rows - r))
            while any(not free[r + dr][c + dc] for dr in range(rs) for dc in range(cs)):
                rs -= 1
            for dr in range(rs):
                for dc in range(cs):
                    free[r + dr][c + dc] = False
            out[(r, c)] = (rs, cs)
    return rows, cols, out


@given(partitions())
def test_grid_builder_places_every_merged_cell_as_html_defines(part):
    rows, cols, cells = part
    html_rows = [[(f"{r},{c}", rs, cs) for (rr, c), (rs, cs) in sorted(cells.items()) if rr == r]
                 for r in range(rows)]
    grid = from_spans(html_rows)
    assert len(grid) == rows and all(len(row) == cols for row in grid)
    for r in range(rows):
        for c in range(cols):
            if (r, c) in cells:
                cell = grid[r][c]
                assert cell is not None and cell.text == f"{r},{c}" and (cell.rowspan, cell.colspan) == cells[(r, c)]
            else:
                assert grid[r][c] is None


# -- digit splitting ------------------------------------------------------------------------------


@pytest.mark.slow
@given(st.lists(st.integers(0, 300), min_size=6, max_size=6))
def test_glued_row_splits_include_the_true_reading_and_only_consistent_ones(parts):
    values = [*parts, sum(parts)]
    glued = "".join(map(str, values))
    readings = splits([glued], 7, lambda v: sum(v[:-1]) == v[-1])
    assert [str(v) for v in values] in readings
    assert all(sum(map(int, r[:-1])) == int(r[-1]) for r in readings)


# -- fuzz: nothing makes parse raise --------------------------------------------------------------

ORIGINALS = [(DOCUMENTS / n).read_bytes() for n in ("report0.pdf", "report0.docx", "report2.html",
                                                     "report1.gbk.html")] + \
            [next(SEEDS.glob("003_*.txt")).read_bytes(), (FIXTURES / "bad" / "encrypted.pdf").read_bytes()]


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_input_makes_parse_raise(data):
    kind = data.draw(st.sampled_from(["random", "truncated", "flipped", "magic"]))
    if kind == "random":
        blob = data.draw(st.binary(max_size=4096))
    else:
        original = data.draw(st.sampled_from(ORIGINALS))
        rng = random.Random(data.draw(st.integers(0, 2**32)))
        if kind == "truncated":
            blob = original[: rng.randint(0, len(original))]
        elif kind == "flipped":
            b = bytearray(original)
            for _ in range(rng.randint(1, 40)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            blob = bytes(b)
        else:
            magic = rng.choice([b"%PDF-1.7\n", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"<html>"])
            blob = magic + data.draw(st.binary(max_size=2048))
    res = parse(blob, filename=data.draw(st.sampled_from([None, "x.pdf", "x.docx", "x.doc", "x.html"])))
    assert isinstance(res.report["warnings"], list)
    assert {c["table"] for c in res.report["cells"]} <= {"active", "applications", "review_litigation"}
    assert all(set(c) >= {"table", "row", "column", "value", "raw", "label"} for c in res.report["cells"])
    assert all(c["row"] in {s.id for s in APPLICATION_SPECS} for c in res.report["cells"]
               if c["table"] == "applications")
    assert all(c["column"] in L.APPLICATION_COLUMNS for c in res.report["cells"] if c["table"] == "applications")
