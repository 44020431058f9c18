"""Thousands of small county-agency portals for the national-scale benchmark: a front page, the
disclosure column, a list of the agency's reports with the dates beside them, and a page per report,
each agency named like a real one (region, county, office) so the parser reads it from the page.
Served many to a thread by :class:`spiders.demo.server.ManyPortalServers`, each on its own loopback host.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from spiders.demo.generator import generate, to_html
from spiders.demo.server import Page, Site


@dataclass
class SmallPortal:
    """A county agency's site: a front page, a disclosure column listing its reports, a page per report."""

    agency: str
    region: str
    years: list[int]
    pages: dict[str, bytes] = field(default_factory=dict)

    @property
    def site(self) -> Site:
        return Site({path: Page(body, content_type="text/plain" if path.endswith(".txt") else
                                "text/html; charset=utf-8") for path, body in self.pages.items()}, name=self.agency)

    @property
    def reports(self) -> set[tuple[str, int]]:
        return {(self.agency, y) for y in self.years}


def small_portal(i: int, years: list[int]) -> SmallPortal:
    """Portal ``i``: its agency named for a district of a region (the demo generator's tables)."""
    regions = ("安康市", "汉中市", "宝鸡市", "咸阳市", "渭南市", "延安市", "榆林市", "商洛市", "铜川市", "西安市")
    offices = ("财政局", "民政局", "教育局", "司法局", "审计局", "统计局", "商务局", "信访局", "水利局", "林业局",
               "农业农村局", "自然资源局", "生态环境局", "应急管理局", "交通运输局", "文化和旅游局", "卫生健康局",
               "市场监督管理局", "人力资源和社会保障局", "住房和城乡建设局")
    first, second = "东西南北中新平安宁长永清", "阳川山城河原丰德兴远"
    region = regions[i % len(regions)]
    n = i // len(regions) // len(offices)  # the county: 12 × 10 names per region
    county = f"{first[n // len(second) % len(first)]}{second[n % len(second)]}县"
    agency = f"{region}{county}{offices[i // len(regions) % len(offices)]}"
    p = SmallPortal(agency, region, list(years))
    links = []
    for y in years:
        rep = generate(50_000 + i * 10 + y % 10, year=y, agency=agency)
        path = f"/zwgk/ndbg/{y}.html"
        page = to_html(rep).decode().replace("</h1>", f"</h1><div>发布时间：{y + 1}-01-{10 + i % 15}</div>", 1)
        p.pages[path] = page.encode()
        links.append(f'<li><a href="{path}">{html.escape(rep.title)}</a><span>{y + 1}-01-{10 + i % 15}</span></li>')
    e = html.escape(agency)
    p.pages["/zwgk/ndbg/"] = (f"<html><head><meta charset='utf-8'><title>政府信息公开年度报告-{e}</title></head>"
                              f"<body><h1>政府信息公开年度报告</h1><ul>{''.join(links)}</ul></body></html>").encode()
    p.pages["/"] = (f"<html><head><meta charset='utf-8'><title>{e}</title><meta name='SiteName' content='{e}'>"
                    f"</head><body><a href='/zwgk/'>政府信息公开</a></body></html>").encode()
    p.pages["/zwgk/"] = (f"<html><head><meta charset='utf-8'><title>政府信息公开-{e}</title></head><body>"
                         f"<a href='/zwgk/ndbg/'>政府信息公开年度报告</a></body></html>").encode()
    p.pages["/robots.txt"] = b"User-agent: *\nAllow: /\n"
    return p
