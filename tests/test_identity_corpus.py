"""Agency and year from every place real reports put them (issue 12): the corpus of title, header, signature,
opening and page forms in tests/fixtures/identity/corpus.jsonl, each built into a whole report (or a whole
detail page) by tests/helpers/report_forms.py and parsed as the archive parses it.

What each case holds the parser to: the agency (compared exactly, as printed), the year reported on, where
each was found (``report["provenance"]``: "title", "header", "signature", "opening", "statistics_period",
"link_text", "page_title", "site_name", "publisher", "site_owner", "referrer", "url"; no key when nothing was
found), whether it is a report at all, and for a report the template its year implies (the body is written
in it). A document's own title wins over everything; then its own text; then the page and the link around it.
"""

from __future__ import annotations

from collections import Counter

import pytest

from archive.parser import parse
from helpers.report_forms import context, document, load_corpus, template_for

CASES = load_corpus()
AGENCY_SOURCES = {"title", "header", "signature", "opening", "link_text", "page_title", "site_name", "publisher",
                  "site_owner", "referrer", "referrer_site"}
YEAR_SOURCES = {"title", "statistics_period", "opening", "link_text", "page_title", "url"}


def _parse(case: dict):
    data, kind = document(case)
    return parse(data, kind=kind, context=context(case, kind))


@pytest.mark.parametrize("case", [c for c in CASES if c.get("is_report", True)], ids=lambda c: c["id"])
def test_report_identity(case):
    res = _parse(case)
    report = res.report
    provenance = report.get("provenance") or {}
    got = {"is_report": res.is_report, "agency": report["agency"], "year": report["year"],
           "agency_from": provenance.get("agency"), "year_from": provenance.get("year"),
           "template": report["template"]}
    want = {"is_report": True, "agency": case["agency"], "year": case["year"],
            "agency_from": case["agency_from"], "year_from": case["year_from"],
            "template": template_for(case["year"])}
    assert got == want, f"{case['form']}: {case['head'][:2]}"


@pytest.mark.parametrize("case", [c for c in CASES if not c.get("is_report", True)], ids=lambda c: c["id"])
def test_not_a_report(case):
    res = _parse(case)
    warnings = res.report["warnings"]
    assert not res.is_report, f"{case['head'][0]} read as a report"
    assert any("not a report" in w for w in warnings), warnings
    assert res.report["template"] != "legacy"


def test_the_corpus_covers_every_form_and_source():
    assert len(CASES) >= 60
    assert len({c["id"] for c in CASES}) == len(CASES)
    found = Counter(c["agency_from"] for c in CASES if c.get("is_report", True))
    years = {c["year_from"] for c in CASES}
    assert not AGENCY_SOURCES - set(found), AGENCY_SOURCES - set(found)
    assert not YEAR_SOURCES - years, YEAR_SOURCES - years
    forms = Counter(c["form"] for c in CASES)
    assert sum(n for f, n in forms.items() if f.startswith("title_")) >= 15
    assert forms["agency_above"] >= 10 and forms["signature"] >= 10 and forms["opening"] >= 8
    assert forms["header"] >= 6
    assert sum(1 for c in CASES if c.get("page") is not None or c.get("context")) >= 10
    assert sum(1 for c in CASES if not c.get("is_report", True)) >= 6
    for c in CASES:  # an agency is expected exactly when a source for it is named, and so is a year
        assert (c["agency"] is None) == (c["agency_from"] is None), c["id"]
        assert (c["year"] is None) == (c["year_from"] is None), c["id"]
        assert c["source"] == "constructed" or c["source"].startswith("real: "), c["id"]


def test_the_body_names_no_agency_and_one_year():
    """The neutral body must not be where an agency or year is found: only the case's head and tail may."""
    from helpers.report_forms import body, period

    for year in (2017, 2020, 2023):
        text = "\n".join(body(year))
        assert [line for line in body(year) if str(year) in line] == [period(year)] and "本机关" in text
        assert not any(w in text for w in ("我局", "人民政府办公室", "县", "区人民政府"))
        assert str(year) not in "\n".join(body(year, with_period=False))
