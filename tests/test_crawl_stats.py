"""A crawl's numbers live in Scrapy's stats collector: the archive extension puts the writer's totals
there, and the live display reads them from there alone."""

from __future__ import annotations

from types import SimpleNamespace

from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from crawler.archiving import RESUMED, ArchiveExtension
from crawler.live import LiveProgress


def test_the_writers_totals_go_to_the_stats_and_the_display_reads_them_there(tmp_path):
    crawler = SimpleNamespace(settings=Settings({"NIANBAO_PROGRESS": True, "NIANBAO_ARCHIVE": str(tmp_path)}))
    crawler.stats = MemoryStatsCollector(crawler)
    ext = ArchiveExtension(crawler)
    ext.worker = SimpleNamespace(per_host={"127.0.0.9": 3, "127.0.0.10": 1},
                                 progress=lambda: {"captures": 4, "new_blobs": 2, "not_modified": 1, "reports": 5})
    ext.pull()
    crawler.stats.inc_value(RESUMED, 2)
    crawler.stats.set_value("downloader/response_count", 6)
    live = LiveProgress(crawler)
    live.spider = object()
    n = live.numbers()
    assert (n["responses"], n["archived"], n["new originals"], n["not modified"], n["reports"]) == (6, 4, 2, 1, 5)
    assert n["per_host"] == {"127.0.0.9": 3, "127.0.0.10": 1}
    assert crawler.stats.get_value(RESUMED) == 2
