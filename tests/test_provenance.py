"""Agency and year from where a report says them when its title does not (issue 12): the signature
block, the opening, a saved page's header, the page around it; and where each came from."""

from __future__ import annotations

import pytest

from archive.parser import parse
from archive.parser.context import ParseContext
from helpers.paths import SEEDS

BODY = """一、总体情况
本年度，严格落实《中华人民共和国政府信息公开条例》，扎实推进政府信息公开工作。
二、主动公开政府信息情况
三、收到和处理政府信息公开申请情况
四、政府信息公开行政复议、行政诉讼情况
五、存在的主要问题及改进情况
六、其他需要报告的事项
本报告中所列数据的统计期限自{y}年1月1日起至{y}年12月31日止。
"""


def _text(head: str, tail: str = "", year: int = 2023) -> bytes:
    return f"{head}\n{BODY.format(y=year)}\n{tail}\n".encode()


def test_signature_block_names_the_agency():
    rep = parse(_text("2023年政府信息公开工作年度报告", "泗阳县发展和改革局\n2024年1月15日")).report
    assert (rep["agency"], rep["year"]) == ("泗阳县发展和改革局", 2023)
    assert rep["provenance"] == {"title": "title", "year": "title", "agency": "signature"}
    assert any("泗阳县发展和改革局 is read from the signature block" in w for w in rep["warnings"])


def test_signature_with_a_chinese_date_and_a_one_line_signature():
    rep = parse(_text("2023年政府信息公开工作年度报告", "灌南县自然资源局\n二〇二四年一月二十日")).report
    assert rep["agency"] == "灌南县自然资源局"
    rep = parse(_text("2023年政府信息公开工作年度报告", "灌南县自然资源局  2024年1月20日")).report
    assert rep["agency"] == "灌南县自然资源局"


def test_footer_lines_at_the_end_are_no_signature():
    tail = "主办单位：灌南县人民政府办公室\n2024年1月20日"
    rep = parse(_text("2023年政府信息公开工作年度报告", tail)).report
    assert rep["agency"] is None and "agency" not in rep["provenance"]


def test_the_opening_names_the_agency():
    head = "2023年政府信息公开工作年度报告\n本报告由宿迁市宿城区商务局根据《中华人民共和国政府信息公开条例》要求编制。"
    rep = parse(_text(head)).report
    assert (rep["agency"], rep["provenance"]["agency"]) == ("宿迁市宿城区商务局", "opening")
    head = "2023年政府信息公开工作年度报告\n2023年，泗洪县水利局认真贯彻落实政府信息公开工作要求。"
    assert parse(_text(head)).report["agency"] == "泗洪县水利局"


def test_a_saved_page_header_names_the_publisher():
    head = "发布机构：宿迁市统计局\n发布日期：2024-01-18\n2023年政府信息公开工作年度报告"
    rep = parse(_text(head)).report
    assert (rep["agency"], rep["provenance"]["agency"]) == ("宿迁市统计局", "header")


def test_the_title_wins_over_a_signature_and_the_page():
    rep = parse(_text("宿迁市财政局2023年政府信息公开工作年度报告", "宿迁市人民政府办公室\n2024年1月15日"),
                context=ParseContext(link_text="2023年年报_宿迁市人民政府")).report
    assert (rep["agency"], rep["provenance"]["agency"]) == ("宿迁市财政局", "title")


def test_link_text_gives_title_agency_and_year_when_the_document_has_no_title():
    data = BODY.format(y=2022).encode()
    rep = parse(data, context=ParseContext(link_text="沭阳县教育局2022年度政府信息公开工作年度报告")).report
    assert (rep["agency"], rep["year"]) == ("沭阳县教育局", 2022)
    assert rep["provenance"] == {"title": "link_text", "year": "link_text", "agency": "link_text"}


def _page(*, title: str, meta: str = "", fields: str = "", footer: str = "", body_head: str = "") -> bytes:
    body = "".join(f"<p>{line}</p>" for line in BODY.format(y=2023).splitlines()) * 2  # an article, not a stub
    return f"""<html><head><title>{title}</title>{meta}</head><body>
<div class="crumb">首页 &gt; 政务公开 &gt; 政府信息公开年报</div>{fields}
<div class="TRS_Editor"><p>2023年政府信息公开工作年度报告</p>{body_head}{body}</div>
<div class="footer">{footer}</div></body></html>""".encode()


def test_page_context_in_order_publisher_page_title_site_name_footer():
    fields = ("<table><tr><td>索 引 号：</td><td>K12-2024-01</td><td>发布机构：</td><td>宿豫区卫生健康委员会</td></tr>"
              "<tr><td>生成日期：</td><td>2024-01-20</td></tr></table>")
    page = _page(title="2023年政府信息公开工作年度报告_宿迁市宿豫区人民政府", fields=fields,
                 meta='<meta name="SiteName" content="宿迁市宿豫区人民政府">',
                 footer="主办单位：宿迁市宿豫区人民政府办公室 网站标识码：3213110001")
    rep = parse(page).report
    assert (rep["agency"], rep["provenance"]["agency"]) == ("宿豫区卫生健康委员会", "publisher")
    page = _page(title="2023年政府信息公开工作年度报告 - 宿迁市宿豫区民政局",
                 meta='<meta name="SiteName" content="宿迁市宿豫区人民政府门户网站">')
    rep = parse(page).report
    assert (rep["agency"], rep["provenance"]["agency"]) == ("宿迁市宿豫区民政局", "page_title")
    page = _page(title="2023年政府信息公开工作年度报告", meta='<meta name="SiteName" content="宿迁市宿豫区人民政府网">')
    rep = parse(page).report
    assert (rep["agency"], rep["provenance"]["agency"]) == ("宿迁市宿豫区人民政府", "site_name")
    page = _page(title="2023年政府信息公开工作年度报告",
                 footer="主办单位：宿迁市宿豫区交通运输局 &nbsp; 技术支持：某公司",
                 meta='<meta name="PubDate" content="2024-01-20 09:30">')
    res = parse(page)
    assert (res.report["agency"], res.report["provenance"]["agency"]) == ("宿迁市宿豫区交通运输局", "site_owner")
    assert (res.published, res.report["provenance"]["published"]) == ("2024-01-20", "page")


def test_an_attachment_takes_the_agency_of_the_page_that_links_it():
    ctx = ParseContext(link_text="2023年年报.pdf", referrer_title="2023年政府信息公开工作年度报告_泗阳县司法局",
                       referrer_meta={"SiteName": "泗阳县人民政府"})
    rep = parse(_text("2023年政府信息公开工作年度报告"), context=ctx).report
    assert (rep["agency"], rep["provenance"]["agency"]) == ("泗阳县司法局", "referrer")
    ctx = ParseContext(referrer_meta={"publisher": "泗阳县审计局", "SiteName": "泗阳县人民政府"})
    assert parse(_text("2023年政府信息公开工作年度报告"), context=ctx).report["agency"] == "泗阳县审计局"


def test_year_from_the_statistics_period_when_nothing_else_says_it():
    rep = parse(("泗阳县审计局政府信息公开工作年度报告\n" + BODY.format(y=2021)).encode()).report
    assert (rep["agency"], rep["year"]) == ("泗阳县审计局", 2021)
    assert rep["provenance"]["year"] == "statistics_period"


def test_the_template_follows_the_year():
    prose = ("一、总体情况\n本机关认真做好政府集中采购信息公开，办理行政复议案件相关信息公开。\n"
             "二、主动公开政府信息情况\n三、收到和处理政府信息公开申请情况\n四、行政复议和行政诉讼情况\n")
    assert parse(f"泗阳县财政局2017年政府信息公开工作年度报告\n{prose}".encode()).report["template"] == "legacy"
    assert parse(f"泗阳县财政局2020年政府信息公开工作年度报告\n{prose}".encode()).report["template"] == "2019"
    assert parse(f"泗阳县财政局2022年政府信息公开工作年度报告\n{prose}".encode()).report["template"] == "2021"


def test_tables_that_clearly_say_the_other_template_win_over_the_year():
    seed = (SEEDS / "001_48a57cdf3499fdc3.txt").read_text()  # a 2019-template report on 2019
    rep = parse(seed.replace("2019", "2021", 1).encode()).report
    assert rep["year"] == 2021 and rep["template"] == "2019"
    assert len(rep["cells"]) == len(parse(seed.encode()).report["cells"])


def test_a_letter_filed_in_the_report_column_is_not_a_report():
    text = ("关于报送2021年政府信息公开工作年度报告的函\n市政府办公室：\n现将我局2021年政府信息公开工作年度报告报送，"
            "请查收。\n某某县财政局\n2022年1月20日\n")
    res = parse(text.encode())
    assert not res.is_report and res.report["template"] == "unknown"
    assert any(w.startswith("not a report: a letter") for w in res.report["warnings"])
    notice = "关于做好2023年政府信息公开工作年度报告编制发布工作的通知\n各单位：\n请按时发布年度报告。\n"
    res = parse(notice.encode())
    assert not res.is_report and any(w.startswith("not a report: a notice") for w in res.report["warnings"])


def test_nianbao_parse_prints_agency_year_template_and_where_they_came_from(tmp_path):
    from click.testing import CliRunner

    from crawler.cli import cli

    (tmp_path / "report.txt").write_bytes(_text("2023年政府信息公开工作年度报告", "泗阳县发展和改革局\n2024年1月15日"))
    letter = "关于报送2023年政府信息公开工作年度报告的函\n市政府办公室：\n请查收。\n"
    (tmp_path / "letter.txt").write_bytes(letter.encode())
    res = CliRunner().invoke(cli, ["parse", str(tmp_path / "report.txt"), str(tmp_path / "letter.txt")],
                             catch_exceptions=False)
    assert res.exit_code == 0
    out = " ".join(res.output.split())
    assert "泗阳县发展和改革局 · 2023 · template 2021" in out
    assert "year from its title; agency from the signature block" in out
    assert "not a report: a letter (关于报送2023年政府信息公开工作年度报告的函)" in out


# Shapes met in real published reports (lines quoted from them; names are the agencies'): what the report's
# first lines say, and the agency, year and where the agency is read.
REAL_SHAPES = [
    ("根据《条例》要求,现发布《临洮县新添镇2022年政府信息公开工作年度报告》。本报告由总体情况等六部分组成。",
     "临洮县新添镇", 2022, "opening"),
    ("安镇街道2024年政府信息公开工作年度报告根据《中华人民共和国政府信息公开条例》编制。", "安镇街道", 2024, "title"),
    ("正文\n宿迁市 2025 年政府信息公开工作年度报告", "宿迁市", 2025, "title"),
    ("登录 | 注册\n白城市人民政府2025年政府信息公开工作年度报告", "白城市人民政府", 2025, "title"),
    ("政府信息公开\n福州市晋安区2016年政府信息公开工作年度报告", "福州市晋安区", 2016, "title"),
    ("名称 宿迁市2017年政府信息公开年度报告", "宿迁市", 2017, "title"),
    ("舒兰市市场监督管理局2016年政务信息公开年度报告", "舒兰市市场监督管理局", 2016, "title"),
    ("市人民政府办公室2025年政府信息公开工作年度报告\n根据《条例》要求,现公开天门市人民政府办公室2025年政府信息公开工作年度报告。",
     "天门市人民政府办公室", 2025, "opening"),
    ("浑南区国资局\n根据《条例》相关要求,现公布区政府国资局2022年政府信息公开工作年度报告。",
     "浑南区国资局", 2022, "header"),
]


@pytest.mark.parametrize(("head", "agency", "year", "source"), REAL_SHAPES, ids=[s[1] for s in REAL_SHAPES])
def test_real_shapes(head, agency, year, source):
    rep = parse(_text(head, year=year)).report
    assert (rep["agency"], rep["year"], rep["provenance"]["agency"]) == (agency, year, source)


def test_a_report_that_mentions_policy_explanations_is_still_a_report():
    head = "泗阳县商务局2023年政府信息公开工作年度报告\n三是加强政策解读与专题引导"
    res = parse(_text(head))
    assert res.is_report and not any("not a report" in w for w in res.report["warnings"])
    res = parse(_text("文字解读:济南市历下区大明湖街道办事处2022年政府信息公开工作年度报告", year=2022))
    assert not res.is_report and any("not a report: an explanation" in w for w in res.report["warnings"])


@pytest.mark.parametrize("line", [
    "本报告由本局办公室编制。", "本报告由我局办公室负责编制。", "如有疑问，请与局办公室联系。",
    "2023年，全县各级行政机关在县委的领导下认真落实条例。", "2023年，区政府办公室坚持公开为常态。",
    "本报告由县政府办公室会同各部门编制。", "2023年，各乡镇人民政府认真贯彻条例。",
    "如有疑问，请与泗阳县人民政府办公室联系。"])
def test_sentences_that_name_no_whole_agency_give_none(line):
    """A wrong name is worse than none: it files a report under another agency's name."""
    rep = parse(_text(f"2023年政府信息公开工作年度报告\n{line}")).report
    assert rep["agency"] is None and "agency" not in rep["provenance"]


@pytest.mark.parametrize(("head", "agency"), [
    ("某某市人力资源和社会保障\n局2023年度政府信息公开工作年度报告", "某某市人力资源和社会保障局"),
    ("某某市某某区\n人民政府2023年政府信息公开工作年度报告", "某某市某某区人民政府"),
    ("2023年政府信息公开工作年度报告\n现将我局2023年政府信息公开工作年度报告公布如下", None),
    ("某某县制度改革办公室2023年政府信息公开工作年度报告", "某某县制度改革办公室"),
])
def test_names_cut_by_a_line_break_and_sentences_shaped_like_titles(head, agency):
    assert parse(_text(head)).report["agency"] == agency


@pytest.mark.parametrize("line", ["规章制度", "（一）健全工作制度",
                                  "本报告根据《中华人民共和国政府信息公开条例》和国务院办公厅有关规定"])
def test_a_report_whose_first_lines_end_like_a_rule_is_still_a_report(line):
    """Only a title line about a report says what else a document is (a nav line or a heading does not)."""
    res = parse(f"{line}\n{BODY.format(y=2023)}".encode(),
                context=ParseContext(link_text="泗阳县商务局2023年政府信息公开工作年度报告"))
    assert res.is_report and res.report["agency"] == "泗阳县商务局"
