"""Build a whole report from one case of the identity corpus (tests/fixtures/identity/corpus.jsonl).

A case gives the lines that come before the body (``head``: a title, an agency line, a saved page's header
block, an opening paragraph, a cover letter) and after it (``tail``: a signature, a date). Between them goes
:func:`body`, a neutral report body written for these tests: sections 一…六 in the national template of the
year (the 2021 tables for 2021 and later, the 2019 tables for 2019 and 2020, a free-form statistics table
before 2019). The body names no agency (it says 本机关) and no year except in its statistics period, which
a case may leave out (``"period": false``) so that the year has to come from somewhere else.

An HTML case (``page``) is rendered as a portal's detail page: ``<title>``, CMS meta tags, crumbs, an
信息公开 index table (索引号 / 发布机构 / 发文机关 / 公开日期 …), the article container with the head, body and
tail, and a footer ``主办单位：…``. Everything is deterministic: the same case gives the same bytes.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

from archive.parser.context import ParseContext

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "identity" / "corpus.jsonl"

# ParseContext fields a case may set.
CONTEXT_FIELDS = ("kind", "content_type", "filename", "url", "title", "link_text", "referrer", "referrer_title",
                  "referrer_meta", "link_date", "link_date_source")


def load_corpus(path: Path = CORPUS) -> list[dict]:
    """One case per non-blank line; lines starting with ``//`` are comments."""
    cases = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("//"):
            try:
                cases.append(json.loads(line))
            except json.JSONDecodeError as e:  # pragma: no cover - a broken fixture line
                raise ValueError(f"{path.name}:{n}: {e}") from e
    return cases


# --- the body -------------------------------------------------------------------------------------------

_OVERVIEW = [
    "一、总体情况",
    "本年度，本机关坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》"
    "和上级关于政务公开工作的部署要求，坚持“以公开为常态、不公开为例外”，持续加大主动公开力度，规范办理依申请公开，"
    "加强政府信息管理和平台建设，切实保障人民群众的知情权、参与权、表达权和监督权。",
    "（一）主动公开",
    "本机关通过门户网站、政务新媒体等渠道主动公开政府信息326条，其中政策文件12条、政策解读9条、工作动态184条、"
    "财政预决算信息6条、人事信息8条、其他信息107条。对涉及群众切身利益的重要政策，做到文件与解读同步起草、同步审签、同步发布。",
    "（二）依申请公开",
    "本机关共收到政府信息公开申请5件，均在法定期限内答复，其中予以公开3件，无法提供1件，结转下年度继续办理1件。"
    "未发生因依申请公开被追究责任的情况。",
    "（三）政府信息管理",
    "严格落实“先审查、后公开”和“一事一审”制度，对拟公开信息进行保密审查和合法性审查；定期清理已公开信息，"
    "对失效、废止的文件及时标注，确保公开信息准确、规范。",
    "（四）政府信息公开平台建设",
    "完善政府信息公开专栏，优化栏目设置，及时更新法定主动公开内容；加强政务新媒体管理，全年发布信息215条，"
    "做到内容规范、更新及时。",
    "（五）监督保障",
    "将政务公开工作纳入年度工作要点，明确分管领导和工作人员，组织业务培训2次；本年度未发生政府信息公开工作责任追究情况。",
]

_ACTIVE_2021 = [
    "二、主动公开政府信息情况",
    "第二十条第（一）项",
    "信息内容\t本年制发件数\t本年废止件数\t现行有效件数",
    "规章\t0\t0\t0",
    "行政规范性文件\t2\t1\t15",
    "第二十条第（五）项",
    "信息内容\t本年处理决定数量",
    "行政许可\t36",
    "第二十条第（六）项",
    "信息内容\t本年处理决定数量",
    "行政处罚\t12",
    "行政强制\t0",
    "第二十条第（八）项",
    "信息内容\t本年收费金额（单位：万元）",
    "行政事业性收费\t0",
]

_ACTIVE_2019 = [
    "二、主动公开政府信息情况",
    "第二十条第（一）项",
    "信息内容\t本年新制作数量\t本年新公开数量\t对外公开总数量",
    "规章\t0\t0\t0",
    "规范性文件\t2\t2\t15",
    "第二十条第（五）项",
    "信息内容\t上一年项目数量\t本年增/减\t处理决定数量",
    "行政许可\t20\t1\t36",
    "其他对外管理服务事项\t0\t0\t0",
    "第二十条第（六）项",
    "信息内容\t上一年项目数量\t本年增/减\t处理决定数量",
    "行政处罚\t45\t0\t12",
    "行政强制\t3\t0\t0",
    "第二十条第（八）项",
    "信息内容\t上一年项目数量\t本年增/减",
    "行政事业性收费\t0\t0",
    "第二十条第（九）项",
    "信息内容\t采购项目数量\t采购总金额",
    "政府集中采购\t2\t18.5",
]

_APP_HEAD = [
    "三、收到和处理政府信息公开申请情况",
    "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）\t申请人情况",
    "\t自然人\t法人或其他组织\t\t\t\t\t总计",
    "\t\t商业企业\t科研机构\t社会公益组织\t法律服务机构\t其他",
]
_Z = "\t0\t0\t0\t0\t0\t0\t0"
_APP_ROWS_A = [
    "一、本年新收政府信息公开申请数量\t4\t1\t0\t0\t0\t0\t5",
    "二、上年结转政府信息公开申请数量" + _Z,
    "三、本年度办理结果\t（一）予以公开\t2\t1\t0\t0\t0\t0\t3",
    "\t（二）部分公开（区分处理的，只计这一情形，不计其他情形）" + _Z,
    "\t（三）不予公开\t1.属于国家秘密" + _Z,
    "\t\t2.其他法律行政法规禁止公开" + _Z,
    "\t\t3.危及“三安全一稳定”" + _Z,
    "\t\t4.保护第三方合法权益" + _Z,
    "\t\t5.属于三类内部事务信息" + _Z,
    "\t\t6.属于四类过程性信息" + _Z,
    "\t\t7.属于行政执法案卷" + _Z,
    "\t\t8.属于行政查询事项" + _Z,
    "\t（四）无法提供\t1.本机关不掌握相关政府信息\t1\t0\t0\t0\t0\t0\t1",
    "\t\t2.没有现成信息需要另行制作" + _Z,
    "\t\t3.补正后申请内容仍不明确" + _Z,
    "\t（五）不予处理\t1.信访举报投诉类申请" + _Z,
    "\t\t2.重复申请" + _Z,
    "\t\t3.要求提供公开出版物" + _Z,
    "\t\t4.无正当理由大量反复申请" + _Z,
    "\t\t5.要求行政机关确认或重新出具已获取信息" + _Z,
]
_APP_OTHER_2021 = [
    "\t（六）其他处理\t1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请" + _Z,
    "\t\t2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请" + _Z,
    "\t\t3.其他" + _Z,
]
_APP_OTHER_2019 = ["\t（六）其他处理" + _Z]
_APP_END = [
    "\t（七）总计\t3\t1\t0\t0\t0\t0\t4",
    "四、结转下年度继续办理\t1\t0\t0\t0\t0\t0\t1",
]

_REVIEW = [
    "四、政府信息公开行政复议、行政诉讼情况",
    "行政复议\t\t\t\t\t行政诉讼",
    "\t\t\t\t\t未经复议直接起诉\t\t\t\t\t复议后起诉",
    "结果维持\t结果纠正\t其他结果\t尚未审结\t总计\t结果维持\t结果纠正\t其他结果\t尚未审结\t总计"
    "\t结果维持\t结果纠正\t其他结果\t尚未审结\t总计",
    "1\t0\t0\t0\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0",
]

_CLOSING = [
    "五、存在的主要问题及改进情况",
    "本机关政府信息公开工作仍存在一些不足：一是政策解读形式较为单一，图解、视频等解读方式运用不多；"
    "二是部分栏目更新不够及时。下一步，本机关将丰富解读形式，建立栏目更新台账，定期开展自查，推动政务公开工作提质增效。",
    "六、其他需要报告的事项",
    "本机关未收取信息处理费。本机关认真办理人大代表建议和政协委员提案，办理结果均按规定公开。",
]

_LEGACY = [
    "一、概述",
    "本年度，本机关认真贯彻落实《中华人民共和国政府信息公开条例》，健全政府信息公开工作机构，明确分管领导和专职工作人员，"
    "及时更新政府信息公开指南和目录，政府信息公开工作运行正常。",
    "二、主动公开政府信息情况",
    "本机关主动公开政府信息218条，其中机构职能类12条、政策法规类25条、规划计划类8条、业务工作类173条。"
    "主动向档案馆、公共图书馆报送政府信息26件。",
    "三、依申请公开政府信息情况",
    "本机关共受理政府信息公开申请3件，其中当面申请1件、网上申请2件，均已按时答复，其中同意公开2件，不予公开1件。",
    "四、政府信息公开的收费及减免情况",
    "本机关在政府信息公开工作中未收取任何费用。",
    "五、因政府信息公开申请行政复议、提起行政诉讼的情况",
    "本机关未发生因政府信息公开申请行政复议、提起行政诉讼的情况。",
    "六、政府信息公开工作存在的主要问题和改进措施",
    "信息公开的深度和广度还需拓展。下一步，本机关将进一步规范公开内容，加强工作人员培训，提高公开质量。",
    "附：政府信息公开情况统计表",
    "指标名称\t计量单位\t本年度\t历年累计",
    "主动公开政府信息数\t条\t218\t1562",
    "受理政府信息公开申请总数\t件\t3\t21",
    "对申请的答复总数\t件\t3\t21",
    "行政复议数\t件\t0\t0",
    "行政诉讼数\t件\t0\t0",
]


def period(year: int) -> str:
    return f"本报告中所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。"


def body(year: int, *, with_period: bool = True) -> list[str]:
    """The body of a report on ``year`` in that year's template; its only year is in the statistics period."""
    if year <= 2018:
        lines = list(_LEGACY)
    else:
        active = _ACTIVE_2021 if year >= 2021 else _ACTIVE_2019
        other = _APP_OTHER_2021 if year >= 2021 else _APP_OTHER_2019
        lines = [*_OVERVIEW, *active, *_APP_HEAD, *_APP_ROWS_A, *other, *_APP_END, *_REVIEW, *_CLOSING]
    if with_period:
        lines.append(period(year))
    return lines


def template_for(year: int) -> str:
    """The template a report on ``year`` follows (its body is written in it)."""
    return "legacy" if year <= 2018 else "2019" if year <= 2020 else "2021"


def text_lines(case: dict) -> list[str]:
    """head + body + tail. A case without a report body (a letter, a notice) has ``"body": false``."""
    lines = list(case.get("head") or [])
    if case.get("body", True):
        lines += body(case["body_year"] if "body_year" in case else case["year"],
                      with_period=case.get("period", True))
    return lines + list(case.get("tail") or [])


# --- HTML detail page -----------------------------------------------------------------------------------

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_APP_HEAD_HTML = (
    '<tr><td colspan="3" rowspan="3">（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）</td>'
    '<td colspan="7">申请人情况</td></tr><tr><td rowspan="2">自然人</td><td colspan="5">法人或其他组织</td>'
    '<td rowspan="2">总计</td></tr><tr><td>商业企业</td><td>科研机构</td><td>社会公益组织</td><td>法律服务机构</td>'
    "<td>其他</td></tr>")
_RESULTS = "".join(f"<td>{w}</td>" for w in ("结果维持", "结果纠正", "其他结果", "尚未审结", "总计"))
_REVIEW_HEAD_HTML = (
    '<tr><td colspan="5">行政复议</td><td colspan="10">行政诉讼</td></tr>'
    f'<tr>{_RESULTS}<td colspan="5">未经复议直接起诉</td><td colspan="5">复议后起诉</td></tr>'
    f"<tr><td></td><td></td><td></td><td></td><td></td>{_RESULTS}{_RESULTS}</tr>")

def _table(rows: list[str]) -> str:
    """A run of tab-separated lines as a ``<table>`` with merged cells, as Word pastes the template's tables
    into a CMS: a row's leading empty cells belong to the label cell above them (``rowspan``), and a short
    row's last label cell spans the columns it lacks (``colspan``)."""
    head = ""
    if rows[0].startswith("（本列数据"):  # the applicant header: three rows of merged cells
        head, rows = _APP_HEAD_HTML, rows[len(_APP_HEAD) - 1:]
    elif rows[0].startswith("行政复议"):
        head, rows = _REVIEW_HEAD_HTML, rows[len(_REVIEW) - 2:]
    grid = [row.split("\t") for row in rows]
    width = max(len(r) for r in grid)
    out: list[list[dict]] = []
    owner: dict[int, dict] = {}  # column -> the cell covering it in the row above
    for cells in grid:
        lead = next((i for i, c in enumerate(cells) if c), len(cells))
        labels = [i for i, c in enumerate(cells) if c and not _NUMBER.fullmatch(c)]
        span_at = labels[-1] if labels and len(cells) < width else -1
        row, col, covered = [], 0, {}
        for i, c in enumerate(cells):
            if i < lead and out and i in owner:
                if all(owner[i] is not v for v in covered.values()):
                    owner[i]["rowspan"] += 1
                covered[col] = owner[i]
                col += 1
                continue
            td = {"text": c, "rowspan": 1, "colspan": width - len(cells) + 1 if i == span_at else 1}
            row.append(td)
            for k in range(td["colspan"]):
                covered[col + k] = td
            col += td["colspan"]
        owner = covered
        out.append(row)
    trs = []
    for row in out:
        tds = []
        for td in row:
            attrs = "".join(f' {a}="{td[a]}"' for a in ("rowspan", "colspan") if td[a] > 1)
            tds.append(f"<td{attrs}>{html.escape(td['text'])}</td>")
        trs.append("<tr>" + "".join(tds) + "</tr>")
    return f'<table border="1" cellspacing="0" cellpadding="0" class="MsoNormalTable">{head}{"".join(trs)}</table>'


def _article(lines: list[str]) -> str:
    """Paragraphs, and each run of tab-separated lines as one table (as Word pastes them into a CMS)."""
    out, run = [], []
    for line in [*lines, None]:
        if line is not None and "\t" in line:
            run.append(line)
            continue
        if run:
            out.append(_table(run))
            run = []
        if line is not None:
            out.append(f'<p style="text-indent:2em;">{html.escape(line)}</p>')
    return "\n".join(out)


def _index_table(fields: dict[str, str]) -> str:
    """The 信息公开 index block above the article: label/value pairs, two pairs a row."""
    items = list(fields.items())
    rows = []
    for i in range(0, len(items), 2):
        cells = "".join(f'<td class="t1">{html.escape(k)}：</td><td class="t2">{html.escape(v)}</td>'
                        for k, v in items[i:i + 2])
        rows.append(f"<tr>{cells}</tr>")
    return f'<div class="xxgk_info"><table class="xxgk_table">{"".join(rows)}</table></div>'


def render_html(case: dict) -> str:
    page = case.get("page") or {}
    meta = page.get("meta") or {}
    metas = "\n".join(f'<meta name="{html.escape(k)}" content="{html.escape(v)}">' for k, v in meta.items())
    crumbs = " &gt; ".join(f'<a href="#">{html.escape(c)}</a>' for c in page.get("crumbs", ["首页", "政务公开",
                                                                                              "政府信息公开年报"]))
    fields = page.get("fields") or {}
    h1 = f'<h1 class="article-title">{html.escape(page["h1"])}</h1>' if page.get("h1") else ""
    container = page.get("container", "TRS_Editor")
    attr = 'id="zoom"' if container == "zoom" else f'class="{html.escape(container)}"'
    footer = page.get("footer")
    footer_html = (f'<div class="footer"><p>{html.escape(footer)}</p>'
                   f'<p>网站标识码：3200000000 &nbsp; 联系电话：0000-00000000</p></div>') if footer else ""
    return f"""<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{html.escape(page.get("title", ""))}</title>
{metas}
</head>
<body>
<div class="header">
<div class="top-links"><a href="#">无障碍</a> | <a href="#">长者模式</a> | <a href="#">English</a></div>
<div class="nav"><a href="#">首页</a><a href="#">政务公开</a><a href="#">政务服务</a><a href="#">互动交流</a></div>
</div>
<div class="crumbs">当前位置：{crumbs}</div>
<div class="main">
{_index_table(fields) if fields else ""}
{h1}
<div class="article-info"><span>字号：[ 大 中 小 ]</span> <span>浏览次数：1024</span></div>
<div {attr}>
{_article(text_lines(case))}
</div>
<div class="share">分享到： 微信 微博 QQ空间
<a href="javascript:window.print()">打印本页</a> <a href="javascript:window.close()">关闭窗口</a></div>
</div>
{footer_html}
</body>
</html>
"""


# --- a case as the parser meets it ----------------------------------------------------------------------

def document(case: dict) -> tuple[bytes, str]:
    """The bytes and the kind ("html" when the case has a page, else "text", the kind name the archive uses)."""
    if case.get("page") is not None:
        return render_html(case).encode("utf-8"), "html"
    return ("\n".join(text_lines(case)) + "\n").encode("utf-8"), "text"


def context(case: dict, kind: str) -> ParseContext:
    given = {k: v for k, v in (case.get("context") or {}).items() if k in CONTEXT_FIELDS}
    given.setdefault("kind", kind)
    return ParseContext(**given)
