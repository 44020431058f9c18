"""What each public table and view of ``catalog.db`` holds, column by column, in Chinese and English, and the
Datasette metadata built from it (``nianbao export --datasette``). Internal tables (the migrations, the search
index, FTS5's shadow tables, the identity rule's bands) are found in the live schema and hidden, so a table a
later migration adds is hidden or described, never shown bare: a test asks every public column for its words."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archive.catalog.migrations import LATEST
from archive.errors import CatalogError

if TYPE_CHECKING:
    from archive.archive import Archive

DATABASE = "catalog"  # Datasette names a database by its file's stem
INTERNAL = {"document_bands"}  # the identity rule's LSH bands: an index kept as a table
INTERNAL_PREFIXES = ("_", "sqlite_", "search_")  # _migrations; SQLite's own; the search index and its queue

_ID = "编号 — id"
_PV = "解析器版本 — the parser version that read it"
_RUN = "所属运行（runs）— the run (runs) that wrote it"

TABLES: dict[str, dict] = {
    "report_cells": {
        "title": "报告单元格 — report cells",
        "description": "每个报告当前版本主文档的表格数值，一格一行；列名与 CSV、JSON 导出相同 — "
                       "every table cell of each report's current primary document, one row per cell, named as in "
                       "the CSV and JSON exports",
        "columns": {
            "report_id": "报告编号（reports）— the report (reports)",
            "agency": "机关名称 — the agency",
            "year": "报告年度 — the year the report is on",
            "template": "模板：2021、2019、legacy 或 unknown — the template: 2021, 2019, legacy or unknown",
            "table": "表格：active 主动公开，applications 依申请公开，review_litigation 复议诉讼 — the table: active, "
                     "applications, review_litigation",
            "row": "行号，如 1、3.3.1 — the row id, e.g. 1, 3.3.1",
            "column": "列名，如 natural_person 自然人、total 总计 — the column id, e.g. natural_person, total",
            "value": "数值；空白或写作“/”“—”“无”时为空 — the number; empty when blank or written as /, —, 无",
            "raw": "原文所写 — the text as printed",
            "label": "文档自己的行标签 — the document's own row label",
            "recovered": "数字如何复原（粘连的数字、OCR），否则为空 — how the number was recovered (digits run "
                         "together, OCR), else empty",
            "sha256": "读出数值的原件的 SHA-256 — SHA-256 of the original the number was read from",
            "parser_version": _PV,
        },
    },
    "report_checks": {
        "title": "报告勾稽检查 — report checks",
        "description": "每个报告当前版本主文档的勾稽关系检查（规则见 docs/report-structure.md）— the template's "
                       "arithmetic checks of each report's current primary document (rules in "
                       "docs/report-structure.md)",
        "columns": {
            "report_id": "报告编号（reports）— the report (reports)",
            "agency": "机关名称 — the agency",
            "year": "报告年度 — the year the report is on",
            "template": "模板 — the template",
            "rule": "规则编号，如 applications.balance.total — the rule id, e.g. applications.balance.total",
            "ok": "1 通过，0 不通过 — 1 passed, 0 failed",
            "detail": "代入的算式 — the arithmetic as evaluated",
            "sha256": "原件的 SHA-256 — SHA-256 of the original",
            "parser_version": _PV,
        },
    },
    "reports": {
        "title": "报告 — reports",
        "description": "年度报告，每个机关每年一份 — the annual reports, one per agency and year",
        "sort_desc": "year",
        "facets": ["year", "template"],
        "label_column": "agency",
        "columns": {
            "id": _ID,
            "agency": "机关名称 — the agency",
            "agency_key": "归一化的机关名（用于匹配）— the agency's name normalised, for matching",
            "year": "报告年度 — the year the report is on",
            "title": "标题 — the title",
            "template": "模板：2021、2019、legacy 或 unknown — the template: 2021, 2019, legacy or unknown",
            "first_seen": "首次发现的时间（UTC）— when it was first found (UTC)",
            "updated_at": "最近更新的时间（UTC）— when it last changed (UTC)",
            "current_revision_id": "当前版本（revisions）— the current revision (revisions)",
        },
    },
    "revisions": {
        "title": "版本 — revisions",
        "description": "报告的各个版本（重新上传、更正）— each revision of a report (re-uploads, corrections)",
        "columns": {
            "id": _ID,
            "report_id": "所属报告（reports）— the report (reports)",
            "number": "版本号，从 1 起 — the revision's number, from 1",
            "first_seen": "首次发现的时间（UTC）— when it was first found (UTC)",
            "primary_document_id": "主文档，数值从它读出（documents）— the primary document, whose numbers count "
                                   "(documents)",
            "text_sha256": "文本的 SHA-256 — SHA-256 of its text",
        },
    },
    "documents": {
        "title": "文档 — documents",
        "description": "被认定为年报的文件（HTML 页面、PDF、DOCX……），一个一行 — the files found to be reports "
                       "(HTML page, PDF, DOCX …), one row each",
        "label_column": "title",
        "columns": {
            "id": _ID,
            "sha256": "原件的 SHA-256（blobs）— SHA-256 of the original (blobs)",
            "kind": "文件类型：html、pdf、docx、doc、wps…… — the kind of file: html, pdf, docx, doc, wps …",
            "report_id": "所属报告（reports）；空：未归入报告 — the report (reports); empty: in none",
            "revision_id": "所属版本（revisions）— the revision (revisions)",
            "first_seen": "首次存入的时间（UTC）— when it was first stored (UTC)",
            "agency": "文档所写的机关 — the agency the document names",
            "year": "报告年度 — the year it reports on",
            "title": "标题 — the title",
            "template": "模板 — the template",
            "text_sha256": "提取文本的 SHA-256 — SHA-256 of the extracted text",
            "numbers": "文本中依次出现的数字（JSON），用来认出同一报告的副本 — the text's digit runs in order "
                       "(JSON), which tell copies of one report",
            "cells_count": "读出的单元格数 — how many table cells were read",
            "failed_checks": "未通过的检查数 — how many checks failed",
            "parser_version": _PV,
            "parsed_at": "解析时间（UTC）— when it was parsed (UTC)",
            "parsed": "解析出的结构（JSON，见 docs/report-structure.md）— the parsed structure (JSON, see "
                      "docs/report-structure.md)",
            "text": "提取的全文 — the extracted text",
            "identity": "归入哪个报告、哪个版本及理由（JSON）— which report and revision it was placed in, and why "
                        "(JSON)",
            "context": "发现它的情境：网址、链接文字、链接它的页面（JSON）— how it was met: URL, link text, the "
                       "page linking it (JSON)",
            "published": "发布日期 — the publication date",
            "published_source": "发布日期从何而来 — where the publication date was read",
            "published_dates": "所有候选发布日期（JSON）— every candidate publication date (JSON)",
            "agency_from": "机关名从何处读出（正文、署名、站点……）— where the agency's name was read (text, "
                           "signature, site …)",
        },
    },
    "cells": {
        "title": "单元格（全部文档）— cells (every document)",
        "description": "每个文档（含旧版本）的表格数值；分析当前报告请用 report_cells，那里列名与导出相同 — the "
                       "table cells of every document, older revisions too; for the current reports use "
                       "report_cells, named as in the exports",
        "columns": {
            "id": _ID,
            "document_id": "所属文档（documents）— the document (documents)",
            "table_id": "表格（report_cells 中称 table）— the table (table in report_cells)",
            "row_id": "行号（report_cells 中称 row）— the row id (row in report_cells)",
            "column_id": "列名（report_cells 中称 column）— the column id (column in report_cells)",
            "value": "数值；空白或写作“/”“—”“无”时为空 — the number; empty when blank or written as /, —, 无",
            "raw": "原文所写 — the text as printed",
            "label": "文档自己的行标签 — the document's own row label",
            "recovered": "数字如何复原，否则为空 — how the number was recovered, else empty",
            "parser_version": _PV,
        },
    },
    "checks": {
        "title": "勾稽检查（全部文档）— checks (every document)",
        "description": "每个文档（含旧版本）的勾稽关系检查；当前报告的请用 report_checks — the arithmetic checks "
                       "of every document, older revisions too; for the current reports use report_checks",
        "columns": {
            "id": _ID,
            "document_id": "所属文档（documents）— the document (documents)",
            "rule": "规则编号 — the rule id",
            "ok": "1 通过，0 不通过 — 1 passed, 0 failed",
            "detail": "代入的算式 — the arithmetic as evaluated",
            "parser_version": _PV,
        },
    },
    "sections": {
        "title": "正文各部分 — sections",
        "description": "报告正文按“一、二、……”分出的部分 — the report's text in its numbered sections (一、二、…)",
        "columns": {
            "id": _ID,
            "document_id": "所属文档（documents）— the document (documents)",
            "position": "在文档中的次序，从 0 起 — its position in the document, from 0",
            "number": "序号，如 一 — its number, e.g. 一",
            "heading": "标题 — the heading",
            "text": "正文 — the text",
            "parser_version": _PV,
        },
    },
    "blobs": {
        "title": "原件 — originals",
        "description": "存档的每个不同文件，逐字节保存，按 SHA-256 存于 blobs/ — every distinct file archived, byte "
                       "for byte, under its SHA-256 in blobs/",
        "columns": {
            "sha256": "SHA-256，即 blobs/ 下的文件名 — the SHA-256, its file name under blobs/",
            "size": "字节数 — size in bytes",
            "stored_size": "磁盘上的字节数 — bytes on disk",
            "encoding": "存储方式：raw 原样，zstd 压缩 — how it is stored: raw, or zstd-compressed",
            "kind": "文件类型 — the kind of file",
            "first_seen": "首次存入的时间（UTC）— when it was first stored (UTC)",
            "examined_by": "检查它的解析器版本；空：尚未检查 — the parser version that examined it; empty: not yet",
            "role": "检查结果：report 年报，not_report 不是年报，failed 解析失败 — what examining found: report, "
                    "not_report, failed",
            "examine_note": "解析的错误或警告 — the parse's error or warnings",
            "page": "HTML 页面的事实：标题、站点元数据、印出的日期、链接旁的日期（JSON）— an HTML page's facts: title, "
                    "site meta, printed date, the dates beside its links (JSON)",
            "parse_failures": "解析失败的次数（有限次重试）— how many parses failed (retried a bounded number "
                              "of times)",
        },
    },
    "captures": {
        "title": "抓取记录 — captures",
        "description": "每次 HTTP 交换、存入的本地文件或导入的 WARC 记录，一行 — one row per HTTP exchange, "
                       "ingested file or imported WARC record",
        "sort_desc": "id",
        "columns": {
            "id": _ID,
            "run_id": _RUN,
            "source": "来源：crawl 抓取，ingest 本地文件…… — how it came: crawl, ingest (a local file) …",
            "url": "请求的网址 — the URL asked for",
            "final_url": "跳转后的网址 — the URL after redirects",
            "fetched_at": "抓取时间（UTC）— when it was fetched (UTC)",
            "status": "HTTP 状态码 — the HTTP status",
            "method": "HTTP 方法 — the HTTP method",
            "headers": "收到的响应头（JSON）— the response headers as received (JSON)",
            "content_type": "Content-Type 响应头 — the Content-Type header",
            "etag": "ETag 响应头（再次抓取时用于条件请求）— the ETag header (asked with on a recrawl)",
            "last_modified": "Last-Modified 响应头 — the Last-Modified header",
            "sha256": "响应体的 SHA-256（blobs）— SHA-256 of the body (blobs)",
            "size": "响应体字节数 — the body's size in bytes",
            "kind": "文件类型 — the kind of file",
            "filename": "文件名（Content-Disposition 或本地文件名）— the file name (Content-Disposition, or the "
                        "local file's)",
            "referrer": "链接它的页面 — the page that linked it",
            "link_text": "链接文字 — the link's text",
            "redirects": "经过的跳转（JSON）— the redirects followed (JSON)",
            "ip_address": "服务器的 IP 地址 — the server's IP address",
            "warc_file": "所在的 WARC 文件（warc_files）— the WARC file holding it (warc_files)",
            "warc_offset": "记录在 WARC 文件中的偏移 — the record's offset in that file",
            "warc_length": "记录的字节数 — the record's length in bytes",
            "warc_record_id": "WARC-Record-ID",
            "warc_type": "WARC 记录类型：response、revisit、resource…… — the WARC record type: response, revisit, "
                         "resource …",
            "payload_digest": "WARC-Payload-Digest（sha256:…）",
            "host": "来源主机 — the host it came from",
            "site_id": "网站标识码（SiteIDCode 元数据）— the site's SiteIDCode meta",
            "source_record_id": "导入时来源记录的 WARC-Record-ID — the WARC-Record-ID it was imported from",
            "portal_agency": "门户配置所写的机关（最后才用的机关名）— the agency the portal profile names (a "
                             "last-resort hint)",
            "user_agency": "用户导入文件时给出的机关（nianbao ingest --agency）— the agency the user gave with an "
                           "ingested file (ingest --agency)",
            "user_year": "用户导入文件时给出的年度（nianbao ingest --year）— the year the user gave with an ingested "
                         "file (ingest --year)",
        },
    },
    "warc_files": {
        "title": "WARC 文件 — WARC files",
        "description": "warc/ 下的 WARC 文件 — the WARC files under warc/",
        "columns": {
            "name": "文件名 — the file name",
            "created_at": "创建时间（UTC）— when it was created (UTC)",
            "size": "已提交的字节数 — its committed size in bytes",
            "records": "记录数 — how many records",
            "closed": "1：已写满关闭 — 1: full and closed",
        },
    },
    "runs": {
        "title": "运行 — runs",
        "description": "每次写入存档的运行：抓取、存入、导入、恢复…… — every run that wrote to the archive: crawl, "
                       "ingest, import, recover …",
        "sort_desc": "id",
        "columns": {
            "id": _ID,
            "kind": "运行类型 — the kind of run",
            "started_at": "开始时间（UTC）— when it started (UTC)",
            "ended_at": "结束时间（UTC）— when it ended (UTC)",
            "status": "状态：running、ok、interrupted…… — its status: running, ok, interrupted …",
            "pid": "进程号 — the process id",
            "host": "运行的机器 — the machine it ran on",
            "portals": "抓取的门户（JSON）— the portals crawled (JSON)",
            "pages": "页面数 — pages",
            "bytes": "字节数 — bytes",
            "new_blobs": "新原件数 — new originals",
            "new_documents": "新文档数 — new documents",
            "new_reports": "新报告数 — new reports",
            "not_modified": "未变化（304 或相同内容）的页面数 — pages unchanged (304, or the same body)",
            "blocked": "被拦截的页面数 — pages blocked",
            "errors": "出错的页面数 — pages that failed",
            "error": "运行的错误 — the run's error",
            "stats": "统计明细（JSON）— detailed statistics (JSON)",
        },
    },
    "harvests": {
        "title": "定时采集 — harvests",
        "description": "调度器的每次采集（一个门户一次）及其结果 — each harvest of one portal by the scheduler, and "
                       "its outcome",
        "sort_desc": "id",
        "facets": ["outcome"],
        "columns": {
            "id": _ID,
            "portal": "门户配置名 — the portal profile",
            "trigger": "起因：schedule、catch-up、resume、run-now — why it ran: schedule, catch-up, resume, run-now",
            "scheduled_for": "计划时间（UTC）— when it was due (UTC)",
            "started_at": "开始时间（UTC）— when it started (UTC)",
            "ended_at": "结束时间（UTC）— when it ended (UTC)",
            "outcome": "结果：ok、failed、crashed、timeout、stopped、interrupted、skipped — the outcome",
            "reason": "结果的原因 — the reason for the outcome",
            "run_id": "抓取的运行（runs）— the crawl's run (runs)",
            "pid": "进程号 — the process id",
            "host": "运行的机器 — the machine it ran on",
            "pages": "页面数 — pages",
            "new_documents": "新文档数 — new documents",
            "new_reports": "新报告数 — new reports",
            "blocked": "被拦截的页面数 — pages blocked",
            "errors": "出错的页面数 — pages that failed",
            "seconds": "用时（秒）— how long it took (seconds)",
        },
    },
    "portals": {
        "title": "门户登记 — the portal registry",
        "description": "由 nianbao portals import 从 CSV 或 JSONL 文件成批登记的门户，一个门户一行；"
                       "同名的 TOML 配置优先 — portals registered in bulk by nianbao portals import from a CSV or "
                       "JSONL file, one row each; a TOML profile of the same name wins",
        "facets": ["level", "region"],
        "columns": {
            "name": "门户配置名 — the portal's name",
            "agency": "机关名称 — the agency",
            "url": "起始网址（多个时为 JSON 列表）— the start URL (a JSON list when there are several)",
            "region": "所在地区 — the region",
            "level": "层级：国、省、市、县、乡 — the level: central, province, city, county, township",
            "parent": "上级机关 — the agency it answers to",
            "site_id": "网站标识码（SiteIDCode）— the portal's SiteIDCode",
            "profile": "其他采集设置（JSON：delay、render、hints 等）— the other profile keys (JSON: delay, render, "
                       "hints …)",
            "imported_at": "登记或最后一次更改的时间（UTC）— when it was registered or last changed (UTC)",
            "source": "登记所用的文件 — the file it was registered from",
        },
    },
    "frontier": {
        "title": "采集计划 — the scheduler's frontier",
        "description": "每个定时采集的门户一行：下次到期时间、上次成功、连续失败与退避 — one row per scheduled portal: "
                       "when it is next due, its last success, consecutive failures and back-off",
        "sort": "next_due",
        "facets": ["last_outcome", "failures"],
        "columns": {
            "portal": "门户配置名 — the portal profile",
            "signature": "计算到期时间所依据的计划（crontab 行与时区）— the schedule next_due was computed from "
                         "(crontab lines and zone)",
            "next_due": "下次到期时间（UTC）— when it is next due (UTC)",
            "last_ok": "上次成功采集的时间（UTC）— when its last harvest succeeded (UTC)",
            "last_attempt": "上次采集结束的时间（UTC）— when its last harvest ended (UTC)",
            "failures": "连续失败次数 — consecutive failed harvests",
            "backoff_until": "退避到此时间（UTC），之前不再采集 — backing off: not harvested before this (UTC)",
            "last_outcome": "上次采集的结果 — the last harvest's outcome",
        },
    },
    "imports": {
        "title": "导入的 WARC 文件 — WARC imports",
        "description": "完整导入的每个 WARC 文件（重复导入不会重复添加）— each WARC file imported whole (importing it "
                       "again adds nothing)",
        "columns": {
            "id": _ID,
            "source": "导入的文件 — the file imported",
            "first_record_id": "第一条记录的 WARC-Record-ID — the first record's WARC-Record-ID",
            "size": "文件字节数 — the file's size in bytes",
            "records": "记录数 — how many records",
            "captures": "加入的抓取记录数 — captures added",
            "run_id": _RUN,
            "started_at": "开始时间（UTC）— when it started (UTC)",
            "completed_at": "完成时间（UTC）— when it completed (UTC)",
        },
    },
    "handovers": {
        "title": "工作机交回 — worker hand-overs",
        "description": "分布式采集中工作机交回并已导入的结果 — the results workers handed over in a distributed "
                       "harvest, once imported",
        "columns": {
            "task_id": "任务编号 — the task id",
            "portal": "门户配置名 — the portal profile",
            "worker": "工作机 — the worker",
            "manifest": "交回清单（JSON）— the hand-over's manifest (JSON)",
            "status": "状态 — its status",
            "run_id": "导入的运行（runs）— the import's run (runs)",
            "imported_at": "导入时间（UTC）— when it was imported (UTC)",
        },
    },
    "agency_aliases": {
        "title": "机关别名 — agency aliases",
        "description": "同一机关的不同名称（nianbao agencies merge）：别名的报告归入该机关 — one agency under several "
                       "names (nianbao agencies merge): the alias's reports are filed under the agency",
        "columns": {
            "alias_key": "别名（归一化）— the alias, normalised",
            "canonical_key": "所指机关（归一化，可能本身也是别名，沿链找到根）— the agency it names, normalised "
                             "(may be an alias itself: chains resolve to their root)",
            "alias_name": "别名（原文）— the alias as written",
            "canonical_name": "所指机关名称（原文）— the agency's name as written",
            "merged_at": "合并时间（UTC）— when they were merged (UTC)",
            "merged_by": "合并者 — who merged them",
            "reason": "合并理由 — why",
        },
    },
    "agency_apart": {
        "title": "分开的机关 — agencies kept apart",
        "description": "有人拆分过的两个名称（nianbao agencies unmerge）：门户登记表不再将其归为一个机关，"
                       "也不再建议合并 — two names a person unmerged: the portal registry does not file them as one "
                       "agency again, nor are they proposed",
        "columns": {
            "key_a": "所指机关（归一化）— the agency it had been merged into, normalised",
            "key_b": "拆出的名称（归一化）— the name unmerged, normalised",
            "name_a": "所指机关名称（原文）— that agency's name as written",
            "name_b": "拆出的名称（原文）— the name unmerged, as written",
            "at": "拆分时间（UTC）— when it was unmerged (UTC)",
            "by": "拆分者 — who unmerged it",
            "was": "原先的合并者 — who had merged them",
        },
    },
}

_RECEIVED = """"table" = 'applications' AND "row" = '1' AND "column" = 'total'"""
QUERIES: dict[str, dict] = {
    "applications_by_agency_and_year": {
        "title": "各机关各年度新收申请数 — applications received, by agency and year",
        "description": "依申请公开表第一行“本年新收政府信息公开申请数量”的总计；年度、机关可留空 — row 1 (本年新收"
                       "政府信息公开申请数量) of the applications table, total; year and agency may be left empty",
        "sql": f"""SELECT agency, year, value AS received, report_id FROM report_cells
WHERE {_RECEIVED}
  AND (:year = '' OR year = CAST(:year AS INTEGER)) AND agency LIKE '%' || :agency || '%'
ORDER BY agency, year""",
    },
    "applications_by_year": {
        "title": "各年度新收申请总数 — applications received, all agencies, by year",
        "description": "每年有数的报告数与新收申请的合计 — per year, the reports that give the number and its sum",
        "sql": f"""SELECT year, count(*) AS reports, sum(value) AS received FROM report_cells
WHERE {_RECEIVED} GROUP BY year ORDER BY year DESC""",
    },
    "failed_checks_by_rule": {
        "title": "未通过的检查（按规则）— failed checks, by rule",
        "description": "当前报告中每条规则未通过的次数 — how often each rule fails in the current reports",
        "sql": """SELECT rule, count(*) AS failed FROM report_checks WHERE ok = 0
GROUP BY rule ORDER BY failed DESC, rule""",
    },
}


def _schema(archive: Archive) -> list[dict]:
    return list(archive.catalog.rows(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"))


def hidden_tables(archive: Archive) -> list[str]:
    """The catalog's internal tables, read from its live schema: by name, every virtual table, and every table
    named after one (FTS5's ``_data``, ``_idx``, ``_docsize``, ``_config``, ``_content`` shadows)."""
    schema = _schema(archive)
    virtual = [r["name"] for r in schema if (r["sql"] or "").lstrip().upper().startswith("CREATE VIRTUAL TABLE")]
    return sorted(r["name"] for r in schema if r["type"] == "table" and (
        r["name"] in INTERNAL or r["name"].startswith(INTERNAL_PREFIXES) or r["name"] in virtual
        or any(r["name"].startswith(v + "_") for v in virtual)))


def public_columns(archive: Archive) -> dict[str, list[str]]:
    """Every table and view Datasette shows, with its columns as the live schema has them."""
    hidden = set(hidden_tables(archive))
    return {r["name"]: [c["name"] for c in archive.catalog.rows(
        "SELECT name FROM pragma_table_info(?) ORDER BY cid", (r["name"],))]
        for r in _schema(archive) if r["name"] not in hidden}


def datasette_metadata(archive: Archive) -> dict:
    """Datasette's ``metadata.json`` for ``catalog.db``: titles and descriptions of every public table, view and
    column in Chinese and English, the internal tables hidden, and canned queries. Columns are described as
    the live schema has them; a public table nobody described is listed under its own name. A catalog not yet
    migrated (opened read-only) is refused: Datasette reads the file itself, and its views have older names."""
    version = archive.catalog.version()
    if version < LATEST:
        raise CatalogError(f"the catalog {archive.path / 'catalog.db'} has schema version {version}, older than this "
                           f"nianbao's ({LATEST}): bring it up to date first (any command that writes does, e.g. "
                           f"`nianbao reindex --pending`)")
    tables: dict[str, dict] = {name: {"hidden": True} for name in hidden_tables(archive)}
    for name, columns in public_columns(archive).items():
        known = TABLES.get(name, {})
        entry = {"title": known.get("title", name)}
        if "description" in known:
            entry["description"] = known["description"]
        entry.update({k: v for k, v in known.items() if k not in ("title", "description", "columns")})
        words = known.get("columns", {})
        entry["columns"] = {c: words[c] for c in columns if c in words}
        tables[name] = entry
    return {
        "title": "nianbao 年报：政府信息公开工作年度报告 — annual reports on government information disclosure",
        "description": "各级行政机关的政府信息公开工作年度报告：原件、解析出的表格数值与勾稽检查。分析请从 "
                       "report_cells 与 report_checks 开始。— The annual reports of Chinese government agencies "
                       "on information disclosure: the originals, the table cells parsed from them and the "
                       "template's checks. Start from report_cells and report_checks.",
        "source": "各机关公开发布的年度报告 — the reports as the agencies published them",
        "databases": {DATABASE: {
            "title": "存档目录 catalog.db — the archive's catalog",
            "description": "nianbao 存档的 SQLite 目录 — the SQLite catalog of a nianbao archive",
            "tables": tables,
            "queries": QUERIES,
        }},
    }
