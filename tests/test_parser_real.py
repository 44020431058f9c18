"""The real PDFs agencies published (../shared/real/, never copied here) keep the facts their README lists:
agency as printed, year, template, the table 三 and 四 figures, and exactly the checks the reports break."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.parser import parse

REAL = Path(__file__).resolve().parents[2] / "shared" / "real"
ROWS = ("1", "2", "3.1", "3.2", "3.7", "4")
REVIEW = ("review", "litigation_direct", "litigation_after_review")

# file: agency, year, table 三 总计 for ROWS, table 四 总计 by row, review row as printed, failed checks
FACTS = {
    "hongze-2023.pdf": ("洪泽区人民政府", 2023, (21, 0, 0, 4, 21, 0), (0, 0, 0), (10, 1, 0, 0, 0),
                        {"review_litigation.total.review", "review_litigation.total.litigation_after_review"}),
    "hongze-2024.pdf": ("淮安市洪泽区人民政府", 2024, (95, 0, 50, 9, 95, 0), (2, 1, 3), (1, 1, 0, 0, 2),
                        {"text.applications_received"}),
    "huaian-2024.pdf": ("淮安市人民政府", 2024, (3119, 34, 1362, 454, 3050, 103), (351, 26, 20), (72, 64, 178, 37, 351),
                        set()),
}


@pytest.mark.parametrize("name", sorted(FACTS))
def test_real_report_keeps_its_facts(name):
    assert REAL.is_dir(), f"the shared real documents are expected at {REAL}"
    agency, year, rows, review_totals, review_row, failing = FACTS[name]
    res = parse((REAL / name).read_bytes(), filename=name)
    rep = res.report
    assert res.is_report and (rep["agency"], rep["year"], rep["template"]) == (agency, year, "2021")
    assert rep["provenance"]["agency"] == "title" and rep["provenance"]["year"] == "title"
    cells = {(c["table"], c["row"], c["column"]): c["value"] for c in rep["cells"]}
    assert tuple(cells.get(("applications", r, "total")) for r in ROWS) == rows
    assert tuple(cells.get(("review_litigation", r, "total")) for r in REVIEW) == review_totals
    assert tuple(cells.get(("review_litigation", "review", c)) for c in ("upheld", "corrected", "other", "pending",
                                                                          "total")) == review_row
    assert {c["rule"] for c in rep["checks"] if not c["ok"]} == failing
    assert not any(c.get("recovered") for c in rep["cells"])  # a text layer: nothing had to be guessed
