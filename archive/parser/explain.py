"""Each check in Chinese, for the people who read the tables: what the template asks (the 勾稽关系) and
the numbers that agreed or did not, e.g. ``三、（七）总计 应等于 （一）至（六）之和（总计）：1751 ≠ 1753``.

Pure functions of a check as the parser or the archive lists it; the stored ``detail`` (English, kept as
it was for parsed data already archived) gives the numbers.
"""

from __future__ import annotations

import re

from archive.parser import names

# what each rule asks, by its first two parts; {col} the column's name, {row} the row's label (in the table the
# rule's first part names), {table} the table's title
RULES = {
    "applications.balance": "三、本年新收 + 上年结转 应等于 （七）总计 + 结转下年度继续办理（{col}）",
    "applications.outcomes": "三、（七）总计 应等于 （一）至（六）之和（{col}）",
    "applications.row_total": "三、“{row}”：总计 应等于 各类申请人之和",
    "review_litigation.total": "四、{row}：总计 应等于 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
    "text.applications_received": "正文所述本年收到的申请数 应等于 表三 第一行（本年新收）总计",
    "text.carried_over": "正文所述上年结转的申请数 应等于 表三 第二行（上年结转）总计",
    "cross_year.carried_over": ("跨年度：本年度 上年结转（第二行） 应等于 上一年度报告 结转下年度继续办理（第四行）"
                                "（{col}）"),
    "structure.table": "报告应包含表格 {table}",
    "structure.blank_cells": "表格 {table} 不应有空白或以 /、—、无 填写的单元格",
    "content.section_5": "五、存在的主要问题及改进情况 应有实质内容（不只写“无”）",
}
# the stored details' words, in Chinese (longest first)
WORDS = (("not found in the document", "文中未找到"), ("section 五 is missing", "缺少第五部分"),
         ("says only 无", "只写了“无”"), ("sum of outcomes", "（一）至（六）之和"), ("prose says", "正文为"),
         ("table 三 row 1 total", "表三第一行总计"), ("table 三 row 2 total", "表三第二行总计"),
         ("row 2", "第二行"), ("row 4", "第四行"),
         ("cells blank or written as /, —, 无", "个单元格空白或填写为 /、—、无"),
         (" of ", " / "), ("present", "已包含"))


def rule_text(rule: str) -> str:
    """What ``rule`` asks, in Chinese; an unknown rule is given as it is."""
    parts = rule.split(".")
    template = RULES.get(".".join(parts[:2]))
    if template is None:
        return rule
    arg = ".".join(parts[2:])
    return template.format(col=names.column_label(arg), row=names.row_label(parts[0], arg),
                           table=names.table_label(arg))


def detail_text(detail: str) -> str:
    """The stored detail with its English words in Chinese (numbers and signs as they are)."""
    out = re.sub(r"\(report (\d+)\)", r"（报告 \1）", detail or "")
    for en, zh in WORDS:
        out = out.replace(en, zh)
    return out


def explain(check: dict) -> str:
    """One line: the rule in Chinese, then its numbers (``…：1751 ≠ 1753``)."""
    detail = detail_text(check.get("detail") or "")
    return f"{rule_text(check['rule'])}：{detail}" if detail else rule_text(check["rule"])
