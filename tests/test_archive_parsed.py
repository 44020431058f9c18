"""Parsed data in the archive: cells and checks as rows, the cross-year check, the CLI's parse."""

from __future__ import annotations

import json

from click.testing import CliRunner

from archive.parser import layout as L
from crawler.cli import cli
from spiders.demo.generator import generate, to_docx, to_html


def consecutive_years(break_column: str | None):
    """The same agency's 2020 and 2021 reports, 2021's carry-in equal to 2020's carry-out except in
    ``break_column``."""
    prev, cur = generate(61, "2019"), generate(62, "2021")
    cur.agency = prev.agency
    for col in L.APPLICANT_COLUMNS:
        carried = prev.applications[("4", col)] + (1 if col == break_column else 0)
        cur.applications[("2", col)] = carried
        cur.applications[("1", col)] = cur.applications[("3.7", col)] + cur.applications[("4", col)] - carried
    if min(cur.applications[("1", c)] for c in L.APPLICANT_COLUMNS) < 0:
        for col in L.APPLICANT_COLUMNS:
            cur.applications[("3.7", col)] += 5
            cur.applications[("3.1", col)] += 5
            cur.applications[("1", col)] += 5
    for row in ("1", "2", "3.1", "3.7"):
        cur.applications[(row, "total")] = sum(cur.applications[(row, c)] for c in L.APPLICANT_COLUMNS)
    cur.prose_received = cur.applications[("1", "total")]
    return prev, cur


def test_cells_and_checks_are_rows_and_cross_year_is_checked(archive, tmp_path):
    prev, cur = consecutive_years("research")
    (tmp_path / "2020.docx").write_bytes(to_docx(prev))
    (tmp_path / "2021.html").write_bytes(to_html(cur))
    archive.ingest([tmp_path / "2020.docx", tmp_path / "2021.html"])
    rows = archive.reports()
    assert len(rows) == 2 and all(r["cells"] > 190 for r in rows)
    value = archive.catalog.scalar(
        """SELECT value FROM report_cells WHERE year = 2021 AND "table" = 'applications' AND "row" = '1' """
        """AND "column" = 'total'""")
    assert value == cur.applications[("1", "total")]
    shown = archive.show(f"{cur.agency}/2021")
    # the cross-year checks are listed apart (they need the other report, and are not stored with this one)
    cross = {c["rule"]: c["ok"] for c in shown["cross_year_checks"]}
    assert cross == {f"cross_year.carried_over.{c}": c != "research" for c in L.APPLICATION_COLUMNS
                     if c != "total"} | {"cross_year.carried_over.total": False}
    assert not [c for c in shown["checks"] if c["rule"].startswith("cross_year") or not c["ok"]]
    bad = next(c for c in shown["cross_year_checks"] if not c["ok"])
    assert bad["explanation"].startswith("跨年度：本年度 上年结转（第二行） 应等于 上一年度报告")
    assert "（报告 " in bad["explanation"] and "第二行" in bad["explanation"] and "row" not in bad["explanation"]


def test_parse_command_prints_one_json_per_file_and_uses_hints(tmp_path, docs):
    rep = generate(71, "2021")
    page = to_html(rep).replace(rep.title.encode(), "政府信息公开年度报告".encode())  # the page names no agency
    (tmp_path / "a.html").write_bytes(page)
    (tmp_path / "b.pdf").write_bytes((docs / "report0.pdf").read_bytes())
    runner = CliRunner()
    res = runner.invoke(cli, ["parse", str(tmp_path / "a.html"), str(tmp_path / "b.pdf"), "--json",
                              "--title", rep.title], catch_exceptions=False)
    assert res.exit_code == 0
    first, second = (json.loads(line) for line in res.stdout.strip().splitlines())
    assert (first["agency"], first["year"]) == (rep.agency, rep.year)  # from the --title hint
    assert second["agency"] == "安康市信访局"
    human = runner.invoke(cli, ["parse", str(tmp_path / "b.pdf")], catch_exceptions=False).stdout
    assert "三、收到和处理政府信息公开申请情况" in human and "checks:" in human
