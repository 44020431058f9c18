"""Thousands of small simulated portals from one process: one event loop, one listening socket per host
(127.0.x.y, so per-host politeness is real), for the national-scale benchmark.

:class:`~spiders.demo.server.PortalServer` gives each portal a thread-per-request server of its own,
right for a few dozen portals with dynamic pages; two thousand of them would be two thousand accept
threads on two cores. Here every portal is a dict of static pages answered by asyncio streams with
keep-alive, ETag and 304, and every request is counted per host with the time it arrived.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import threading
import time
from dataclasses import dataclass, field

from spiders.demo.generator import generate, to_html


@dataclass
class SmallPortal:
    """A county agency's site: a front page, a disclosure column listing its reports, a page per report."""

    host: str
    agency: str
    region: str
    years: list[int]
    pages: dict[str, bytes] = field(default_factory=dict)
    hits: list[float] = field(default_factory=list)  # time.monotonic() of each request

    @property
    def reports(self) -> set[tuple[str, int]]:
        return {(self.agency, y) for y in self.years}


def small_portal(i: int, host: str, years: list[int]) -> SmallPortal:
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
    p = SmallPortal(host, agency, region, list(years))
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


class ManyPortals:
    """Serve the portals on one port of their own hosts until stopped; ``start`` returns once listening."""

    def __init__(self, portals: list[SmallPortal], port: int = 0) -> None:
        self.portals = {p.host: p for p in portals}
        self.port = port
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="many-portals", daemon=True)
        self.servers: list[asyncio.AbstractServer] = []
        self.requests = 0

    def url(self, host: str) -> str:
        return f"http://{host}:{self.port}/"

    def start(self) -> ManyPortals:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self.loop).result(120)
        return self

    async def _listen(self) -> None:
        first = next(iter(self.portals))
        server = await asyncio.start_server(self._serve, first, self.port, backlog=256)
        self.port = server.sockets[0].getsockname()[1]  # every host on the port the first one was given
        self.servers = [server] + [await asyncio.start_server(self._serve, h, self.port, backlog=256)
                                   for h in list(self.portals)[1:]]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        portal = self.portals[host]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target = lines[0].split(" ")[:2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                if n := int(headers.get("content-length") or 0):
                    await reader.readexactly(n)
                portal.hits.append(time.monotonic())
                self.requests += 1
                body = portal.pages.get(target.split("?")[0])
                if body is None:
                    status, body, extra = "404 Not Found", b"not found", ""
                else:
                    tag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                    status, extra = "200 OK", f"ETag: {tag}\r\n"
                    if headers.get("if-none-match") == tag:
                        status, body = "304 Not Modified", b""
                ctype = "text/plain" if target.endswith(".txt") else "text/html; charset=utf-8"
                writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n{extra}"
                             f"\r\n".encode() + (body if method != "HEAD" else b""))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        async def close() -> None:
            for s in self.servers:
                s.close()

        asyncio.run_coroutine_threadsafe(close(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def __enter__(self) -> ManyPortals:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def hosts(n: int, first: tuple[int, int] = (40, 2)) -> list[str]:
    """``n`` loopback addresses 127.0.x.y from 127.0.40.2 on (the tests use 127.0.0.x and 127.0.1.x)."""
    out, (x, y) = [], first
    while len(out) < n:
        out.append(f"127.0.{x}.{y}")
        y += 1
        if y > 254:
            x, y = x + 1, 2
    return out
