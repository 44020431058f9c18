"""Title lines as agencies write them (issue 12, first part): year first, broken over lines, the agency in
brackets after the title, a saved page's 标题: header, pronouns instead of a name, letters about a report."""

from __future__ import annotations

import pytest

from archive.parser import parse
from archive.parser.title import find_title
from helpers.paths import SEEDS

# (text, agency, year): the forms are those seen in published reports, the names those of real agencies.
FORMS = [
    # year first
    ("2019年上海市人民政府办公厅政府信息公开工作年度报告", "上海市人民政府办公厅", 2019),
    ("2022年度北京市密云区人民政府政府信息公开工作年度报告", "北京市密云区人民政府", 2022),
    ("2021 年度 国家统计局 政府信息公开工作年度报告", "国家统计局", 2021),
    ("2023年度广州市天河区人民政府政务公开工作年度报告", "广州市天河区人民政府", 2023),
    ("2020年杭州市生态环境局政府信息公开年报", "杭州市生态环境局", 2020),
    ("# 2024年度苏州工业园区管理委员会政府信息公开工作年度报告", "苏州工业园区管理委员会", 2024),
    # year first, broken over two lines
    ("2025 年上海市人民政府办公厅政府信息公开\n工作年度报告", "上海市人民政府办公厅", 2025),
    ("2021年度成都市武侯区\n人民政府政府信息公开工作年度报告", "成都市武侯区人民政府", 2021),
    # the agency in brackets after the title
    ("2020年度政府信息公开工作报告（湖北省统计局）", "湖北省统计局", 2020),
    ("2022年政府信息公开工作年度报告(南京市教育局)", "南京市教育局", 2022),
    ("2023年度政府信息公开工作年度报告【青岛市市场监督管理局】", "青岛市市场监督管理局", 2023),
    # a saved page's header block before the body
    ("标题: 平潭综合实验区2021年度政府信息公开工作年度报告\n发布机构: 平潭综合实验区管委会", "平潭综合实验区", 2021),
    ("标题：2022年度福州市鼓楼区人民政府政府信息公开工作年度报告\n来源：鼓楼区政府办", "福州市鼓楼区人民政府", 2022),
    # the forms read before (they must stay right)
    ("安康市信访局2021年度政府信息公开工作年度报告", "安康市信访局", 2021),
    ("安康市信访局\n2019 年政府信息公开工作年度报告", "安康市信访局", 2019),
    ("固原市信访局政府信息公开工作年度报告（2019年度）", "固原市信访局", 2019),
    # a title with its year whose agency is said elsewhere (a signature, the page around it)
    ("2023年政府信息公开工作年度报告", None, 2023),
    ("2021年度我局政府信息公开工作年度报告", None, 2021),
    ("2022年度本机关政府信息公开工作年度报告", None, 2022),
    ("本机关\n2022年政府信息公开工作年度报告", None, 2022),  # a pronoun above the title is no name either
]


@pytest.mark.parametrize(("text", "agency", "year"), FORMS, ids=[f[0][:14] for f in FORMS])
def test_title_forms_give_agency_and_year(text, agency, year):
    found = find_title(text + "\n一、总体情况\n2023年，本机关认真贯彻落实《中华人民共和国政府信息公开条例》。")
    assert found is not None and (found.agency, found.year) == (agency, year)


@pytest.mark.parametrize("text", [
    "关于报送2021年政府信息公开年度报告的函",
    "关于做好2022年度政府信息公开工作年度报告编制发布工作的通知",
    "2021年度政府信息公开工作年度报告的批复",
])
def test_letters_about_a_report_are_not_its_title(text):
    assert find_title(text) is None


def test_a_bracketed_agency_keeps_the_title_as_printed():
    found = find_title("2020年度政府信息公开工作报告（湖北省统计局）")
    assert found.title == "2020年度政府信息公开工作报告（湖北省统计局）"


@pytest.mark.parametrize("title", ["2021年安康市信访局政府信息公开工作年度报告",
                                   "2021年度政府信息公开工作年度报告（安康市信访局）",
                                   "标题: 安康市信访局2021年度政府信息公开工作年度报告"])
def test_a_real_report_retitled_keeps_its_identity_and_cells(title):
    seed = next(SEEDS.glob("000_*.txt")).read_text("utf-8")
    first, rest = seed.lstrip().split("\n", 1)
    assert first.startswith("安康市信访局2021")  # the seed's own title line, replaced below
    before = parse(seed.encode("utf-8"), filename="a.txt")
    after = parse(f"{title}\n{rest}".encode(), filename="a.txt")
    assert (after.agency, after.year) == ("安康市信访局", 2021)
    assert after.report["cells"] == before.report["cells"]
