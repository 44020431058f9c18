"""The national templates as data: each table's rows and columns, their ids (the spec's) and the words
that identify them in a document's labels.

Keys are matched against normalised labels (see :mod:`archive.parser.labels`), most specific first,
because agencies reword, abbreviate and break labels over lines.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowSpec:
    id: str
    label: str  # the template's own wording, for output when a document's label is unreadable
    keys: tuple[str, ...]
    columns: tuple[str, ...] = ()  # table 二: the columns this row has; others use the table's columns


# -- table 三 (applications) ---------------------------------------------------------------------

APPLICANT_COLUMNS = ("natural_person", "business", "research", "public_interest", "legal_service", "other_org")
APPLICATION_COLUMNS = (*APPLICANT_COLUMNS, "total")
# Header words per column; "其他" alone is checked last, since 法人或其他组织 contains it.
APPLICATION_HEADERS = (
    ("natural_person", ("自然人",)),
    ("business", ("商业企业",)),
    ("research", ("科研机构",)),
    ("public_interest", ("社会公益组织", "社会公益", "公益组织")),
    ("legal_service", ("法律服务机构", "法律服务")),
    ("total", ("总计", "合计")),
    ("other_org", ("其他",)),
)

APPLICATION_ROWS_HEAD = (
    RowSpec("1", "一、本年新收政府信息公开申请数量", ("本年新收",)),
    RowSpec("2", "二、上年结转政府信息公开申请数量", ("上年结转",)),
    RowSpec("3.1", "（一）予以公开", ("予以公开",)),
    RowSpec("3.2", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", ("部分公开",)),
    RowSpec("3.3.1", "1.属于国家秘密", ("国家秘密",)),
    RowSpec("3.3.2", "2.其他法律行政法规禁止公开", ("法律行政法规禁止", "禁止公开")),
    RowSpec("3.3.3", "3.危及“三安全一稳定”", ("三安全一稳定", "三安全", "一稳定")),
    RowSpec("3.3.4", "4.保护第三方合法权益", ("第三方合法权益", "第三方")),
    RowSpec("3.3.5", "5.属于三类内部事务信息", ("内部事务",)),
    RowSpec("3.3.6", "6.属于四类过程性信息", ("过程性",)),
    RowSpec("3.3.7", "7.属于行政执法案卷", ("执法案卷",)),
    RowSpec("3.3.8", "8.属于行政查询事项", ("查询事项", "行政查询")),
    RowSpec("3.4.1", "1.本机关不掌握相关政府信息", ("不掌握",)),
    RowSpec("3.4.2", "2.没有现成信息需要另行制作", ("没有现成", "另行制作")),
    RowSpec("3.4.3", "3.补正后申请内容仍不明确", ("补正后", "仍不明确")),
    RowSpec("3.5.1", "1.信访举报投诉类申请", ("信访举报投诉", "举报投诉")),
    RowSpec("3.5.2", "2.重复申请", ("重复申请",)),
    RowSpec("3.5.3", "3.要求提供公开出版物", ("公开出版物", "出版物")),
    RowSpec("3.5.4", "4.无正当理由大量反复申请", ("大量反复",)),
    RowSpec("3.5.5", "5.要求行政机关确认或重新出具已获取信息", ("重新出具", "确认或重新")),
)
APPLICATION_ROWS_2021_OTHER = (
    RowSpec("3.6.1", "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请", ("不补正", "逾期不补")),
    RowSpec("3.6.2", "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
            ("收费通知", "缴纳费用")),
    RowSpec("3.6.3", "3.其他", ("其他",)),
)
APPLICATION_ROW_2019_OTHER = RowSpec("3.6", "（六）其他处理", ("其他处理",))
APPLICATION_ROWS_TAIL = (
    RowSpec("3.7", "（七）总计", ("总计", "合计")),
    RowSpec("4", "四、结转下年度继续办理", ("结转下年", "继续办理")),
)
OUTCOME_ROWS_2021 = tuple(r.id for r in APPLICATION_ROWS_HEAD[2:] + APPLICATION_ROWS_2021_OTHER)
OUTCOME_ROWS_2019 = (*(r.id for r in APPLICATION_ROWS_HEAD[2:]), "3.6")

# -- table 四 (review_litigation) ----------------------------------------------------------------

REVIEW_ROWS = ("review", "litigation_direct", "litigation_after_review")
REVIEW_COLUMNS = ("upheld", "corrected", "other", "pending", "total")
REVIEW_LABELS = {"review": "行政复议", "litigation_direct": "行政诉讼·未经复议直接起诉",
                 "litigation_after_review": "行政诉讼·复议后起诉"}
# Group words, most specific first: 行政诉讼 spans both litigation groups.
REVIEW_GROUPS = (("litigation_after_review", ("复议后起诉",)), ("litigation_direct", ("直接起诉", "未经复议")),
                 ("review", ("行政复议",)))
REVIEW_HEADERS = (("upheld", ("结果维持", "维持")), ("corrected", ("结果纠正", "纠正")),
                  ("other", ("其他结果",)), ("pending", ("尚未审结", "未审结")), ("total", ("总计", "合计")))

# -- table 二 (active) ---------------------------------------------------------------------------

ACTIVE_HEADERS = (
    ("issued", ("本年制发件数", "制发件数")), ("repealed", ("本年废止件数", "废止件数")),
    ("in_force", ("现行有效件数", "有效件数")), ("fee_amount", ("收费金额",)),
    ("new_made", ("本年新制作数量", "新制作")), ("new_published", ("本年新公开数量", "新公开数量")),
    ("total_published", ("对外公开总数量", "公开总数量")), ("prev_year_items", ("上一年项目数量", "上一年")),
    ("change", ("本年增减", "增减")), ("procurement_items", ("采购项目数量",)),
    ("procurement_amount", ("采购总金额",)), ("decisions", ("处理决定数量", "决定数量")),
)
ACTIVE_ROWS = {
    "2021": (
        RowSpec("rules", "规章", ("规章",), ("issued", "repealed", "in_force")),
        RowSpec("normative_docs", "行政规范性文件", ("规范性文件",), ("issued", "repealed", "in_force")),
        RowSpec("licensing", "行政许可", ("行政许可",), ("decisions",)),
        RowSpec("penalty", "行政处罚", ("行政处罚",), ("decisions",)),
        RowSpec("enforcement", "行政强制", ("行政强制",), ("decisions",)),
        RowSpec("fees", "行政事业性收费", ("事业性收费", "行政收费"), ("fee_amount",)),
    ),
    "2019": (
        RowSpec("rules", "规章", ("规章",), ("new_made", "new_published", "total_published")),
        RowSpec("normative_docs", "规范性文件", ("规范性文件",), ("new_made", "new_published", "total_published")),
        RowSpec("licensing", "行政许可", ("行政许可",), ("prev_year_items", "change", "decisions")),
        RowSpec("other_services", "其他对外管理服务事项", ("对外管理服务",),
                ("prev_year_items", "change", "decisions")),
        RowSpec("penalty", "行政处罚", ("行政处罚",), ("prev_year_items", "change", "decisions")),
        RowSpec("enforcement", "行政强制", ("行政强制",), ("prev_year_items", "change", "decisions")),
        RowSpec("fees", "行政事业性收费", ("事业性收费", "行政收费"), ("prev_year_items", "change")),
        RowSpec("procurement", "政府集中采购", ("集中采购",), ("procurement_items", "procurement_amount")),
    ),
}
MONEY_COLUMNS = frozenset({"fee_amount", "procurement_amount"})
SIGNED_COLUMNS = frozenset({"change"})

# The template's column headings, for showing cells (terminal, web).
COLUMN_NAMES = {
    "natural_person": "自然人", "business": "商业企业", "research": "科研机构", "public_interest": "社会公益组织",
    "legal_service": "法律服务机构", "other_org": "其他", "total": "总计", "upheld": "结果维持",
    "corrected": "结果纠正", "other": "其他结果", "pending": "尚未审结",
    "issued": "制发", "repealed": "废止", "in_force": "现行有效", "decisions": "处理决定", "fee_amount": "收费(万元)",
    "new_made": "新制作", "new_published": "新公开", "total_published": "公开总数", "prev_year_items": "上一年",
    "change": "增/减", "procurement_items": "采购项目", "procurement_amount": "采购金额",
}
