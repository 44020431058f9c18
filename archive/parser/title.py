"""Find the report's title line, and the agency and year it names.

Titles vary: ``安康市信访局2021年度政府信息公开工作年度报告``; agency on its own line above
``2019 年政府信息公开工作年度报告``; a title broken over two lines; ``…年度报告（2021年度）``; the year
first (``2019年上海市人民政府办公厅政府信息公开…``); the agency in brackets after it
(``…工作报告（湖北省统计局）``); a saved page's ``标题:`` line; 我局/本机关 in place of a name. A
cover letter (``关于报送2021年政府信息公开年度报告的函``) or a notice (``关于做好…年度报告…的通知``)
names a report but is not one, so lines that read as letters are skipped.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_SP = r"[\s\u3000]*"
_SUFFIXES = (r"(?:政府|办公室|办公厅|局|委员会|委|厅|部|署|院|会|中心|所|站|处|办|队|馆|社|街道|镇|乡|区|县|市|集团"
             r"|公司|总队|支队|机关)")
AGENCY_SUFFIX = re.compile(_SUFFIXES + "$")
_REPORT = (rf"(?:政{_SP}[府务]{_SP})?(?:信{_SP}息{_SP}公{_SP}开|政{_SP}务{_SP}公{_SP}开){_SP}(?:工{_SP}作{_SP})?"
           rf"(?:年{_SP}度{_SP}报{_SP}告|年{_SP}报|报{_SP}告)")
YEAR_FIRST = re.compile(
    rf"(?P<agency>[^\n\d。；;：:，,《》“”\"]{{0,60}}?){_SP}(?P<year>(?:19|20)\d{{2}}){_SP}年{_SP}(?:度{_SP})?(?:的{_SP})?"
    + _REPORT)
# Year first, agency after it: ``2019年上海市人民政府办公厅政府信息公开工作年度报告`` (the agency must end
# like one, so ``2021年度我局政府信息…`` is not read as an agency named 我局).
YEAR_LEAD = re.compile(
    rf"(?P<year>(?:19|20)\d{{2}}){_SP}年{_SP}(?:度{_SP})?"
    rf"(?P<agency>[^\n\d。；;：:，,《》“”\"（(]{{1,58}}?{_SUFFIXES}){_SP}" + _REPORT)
YEAR_AFTER = re.compile(
    rf"(?P<agency>[^\n\d。；;：:，,《》“”\"]{{0,60}}?){_SP}" + _REPORT
    + rf"{_SP}[（(【\[]{_SP}(?P<year>(?:19|20)\d{{2}}){_SP}年?{_SP}度?{_SP}[)）】\]]")
# No year at all: ``泗阳县审计局政府信息公开工作年度报告`` (the year is in the statistics period or the page).
NO_YEAR = re.compile(rf"(?P<agency>[^\n\d。；;：:，,《》“”\"（(]{{2,60}}?){_SP}" + _REPORT)
BARE_REPORT = re.compile(_REPORT)
LETTER = re.compile(r"关于|通知|的函|报送|印发|转发|做好|请示|批复|一图|图解|读懂|解读|指南")
# A report's words followed by these make the line the title of something else (``…年度报告编制指南``).
NOT_TITLE_TAIL = re.compile(r"^\s*(?:编制|制度|指南|格式|模板|解读|说明|的通知|的函|工作的)")

# a saved page's 标题: (or a 名称 | cell) too
JUNK_PREFIX = re.compile(r"^(?:[#＃\s.、:：\-—*|｜]|(?:标\s*题|题\s*目|信息名称|名\s*称)\s*(?:[:：|｜]|\s+(?=\S)))+")
# A title line that runs straight into the first paragraph (``…工作年度报告根据《条例》…``).
RUN_ON = re.compile(r"^\s*(?:根据|按照|依据|依照|本报告|本年度报告|现将|现予|为全面|为进一步|(?:19|20)\d{2}\s*年[，,])")
BRACKETED = re.compile(r"^\s*[（(【\[]\s*(?P<agency>[^（()）【】\[\]\d]{2,40}?)\s*[)）】\]]\s*$")
PRONOUN = re.compile(r"^(?:我|本)(?:局|委|办|厅|部|院|会|中心|机关|单位|政府|街道|镇|乡|区|县|市)$")
GENERIC = re.compile(r"^(?:各级|有关|相关|上级|人民)?(?:政府|机关|单位|部门)+$|^(?:政府|机关|单位|部门)")
# A sentence, not a name: a verb or a quantifier before it (现将我局, 全县各级行政机关), a pronoun in it (…我局).
# (本溪市, 全椒县, 将乐县 are places: only the leads below, which no place name starts with)
NOT_A_NAME = re.compile(r"^(?:现将|现予|特此|根据|按照|依据|由|请|各|全(?:县|市|区|省|镇|乡|州|国)|该)"
                        r"|(?:我|本)(?:局|委|办|厅|单位|机关|部门)")
# A name without its place (市人民政府办公室, 县统计局, 信访局): no place after its first character (镇江市…
# has one); a national body's name (国家…, 国务院…) is whole.
PLACELESS = re.compile(r"^(?!国家|国务院|中国|中华|中央|全国).[^省市县区州旗盟镇乡]*$")
NAME_LINE_BAD = re.compile(r"[：:，,。；;！!？?\d]")
TAIL_BAD = re.compile(r"[。，,；;]")
MAX_TITLE_LINES = 60
MAX_TITLE_CHARS = 120
LATER_TITLES = 4


@dataclass(frozen=True)
class TitleLine:
    title: str
    agency: str | None
    year: int | None


def clean_agency(text: str) -> str | None:
    text = JUNK_PREFIX.sub("", text).strip(" \t\u3000“”\"'《》[]【】-—–_|｜")
    text = re.sub(r"\s+", "", text)
    return text or None


def agency_key(agency: str | None) -> str | None:
    """The agency name compared across documents: width-folded, without spaces and punctuation."""
    if not agency:
        return None
    s = unicodedata.normalize("NFKC", agency)
    s = "".join(ch for ch in s if ch.isalnum())
    return s or None


def names_agency(text: str) -> bool:
    """Ends like an agency's name and is not a pronoun for one (我局, 本机关)."""
    name = re.sub(r"\s+", "", text)
    return (len(name) >= 3 and bool(AGENCY_SUFFIX.search(name)) and not PRONOUN.match(name)
            and not GENERIC.match(name) and not NOT_A_NAME.search(name))


def name_line(line: str | None) -> bool:
    """A line that is an agency's name and nothing else (not ``发布时间：… 来源：XX办公室``)."""
    return bool(line) and len(line) <= 40 and not LETTER.search(line) and not NAME_LINE_BAD.search(line) \
        and names_agency(line)


def _plausible_year(y: int, max_year: int | None) -> bool:
    return 1990 <= y <= (max_year or 2100)


def find_title(text: str, hint: str | None = None, max_year: int | None = None) -> TitleLine | None:
    """The first line (or pair of lines) that reads as a report title, not a letter about one."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:MAX_TITLE_LINES]
    return _dated_title(_candidates(lines, hint, max_year), max_year) \
        or _undated_title(([hint.strip()] if hint else []) + lines)


def _candidates(lines: list[str], hint: str | None, max_year: int | None) -> Iterator[tuple[str, str | None]]:
    """Title candidates in order, made as they are asked for (the first title usually comes early)."""
    if hint:
        yield hint.strip(), None
    for i, line in enumerate(lines):
        prev = lines[i - 1] if i else None
        yield line, prev
        # a title broken over two lines, unless the next line is a title by itself (then this line is a label,
        # a column name or the agency above it: ``正文`` / ``宿迁市 2025 年…报告``)
        # and the agency it names is whole (``…人力资源和社会保障`` / ``局2023年…`` is one name cut in two)
        if i + 1 < len(lines) and not _whole_title(lines[i + 1], max_year):
            yield line + lines[i + 1], prev


def _whole_title(line: str, max_year: int | None) -> bool:
    """A title by itself whose agency, if it names one, is a whole name with its place."""
    found = next(_dated_titles([(line, None)], max_year), None)
    if found is None:
        return False
    agency = found.agency
    return agency is None or (names_agency(agency) and not PLACELESS.match(agency))


def _undated_title(lines: list[str]) -> TitleLine | None:
    """A title line that names no year (the year is said elsewhere), its agency in it or on the line above."""
    for i, line in enumerate(lines[:12]):
        cand = JUNK_PREFIX.sub("", line).strip()
        if LETTER.search(cand):
            continue
        m = NO_YEAR.fullmatch(cand)
        if m and names_agency(m.group("agency")):
            return TitleLine(title=re.sub(r"\s+", " ", cand), agency=clean_agency(m.group("agency")), year=None)
        if BARE_REPORT.fullmatch(cand):
            prev = lines[i - 1] if i else ""
            agency = clean_agency(prev) if name_line(prev) else None
            return TitleLine(title=(agency or "") + re.sub(r"\s+", "", cand), agency=agency, year=None)
    return None


def _dated_title(candidates: Iterable[tuple[str, str | None]], max_year: int | None) -> TitleLine | None:
    """The first title with a year; if it names no agency, a later one of the same year that does (a page's
    headline without the agency, then the document's own title line with it)."""
    titles = _dated_titles(candidates, max_year)
    first = next(titles, None)
    if first is None or first.agency:
        return first
    later = itertools.islice(titles, LATER_TITLES)  # the next line or two, not a related link further down
    return next((t for t in later if t.agency and t.year == first.year and names_agency(t.agency)), first)


def _dated_titles(candidates: Iterable[tuple[str, str | None]], max_year: int | None) -> Iterator[TitleLine]:
    for cand, prev in candidates:
        cand_n = JUNK_PREFIX.sub("", cand[:MAX_TITLE_CHARS])  # a title run into its paragraph: read its start
        # YEAR_LEAD last: ``2021年度我局…`` gives its year, and its agency is said elsewhere
        m = YEAR_FIRST.match(cand_n) or YEAR_AFTER.match(cand_n) or YEAR_LEAD.match(cand_n)
        # A title is a line of its own: nothing but a short parenthetical may follow it, or the first
        # paragraph when the page ran them together.
        if not m or LETTER.search(cand_n[:m.end()]):
            continue
        tail = cand_n[m.end():]
        if NOT_TITLE_TAIL.match(tail) or (not RUN_ON.match(tail)
                                          and (TAIL_BAD.search(tail) or len(tail) > 16 or LETTER.search(tail))):
            continue
        year = int(m.group("year"))
        if not _plausible_year(year, max_year):
            continue
        agency = clean_agency(m.group("agency") or "")
        if agency and PRONOUN.match(agency):
            agency = None
        end = m.end()
        bracket = BRACKETED.match(cand_n[end:])
        if not agency and bracket and names_agency(bracket.group("agency")):
            agency = clean_agency(bracket.group("agency"))  # ``2020年度政府信息公开工作报告（湖北省统计局）``
            end = len(cand_n)  # the title as printed, its bracket included
        if not agency and name_line(prev):
            agency = clean_agency(prev)
        title = re.sub(r"\s+", " ", cand_n[:end].strip())
        if agency and agency not in title.replace(" ", ""):
            title = f"{agency}{title}"
        yield TitleLine(title=title, agency=agency, year=year)
