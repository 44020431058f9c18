"""The demo job end to end: a loopback portal harvested twice into a fresh archive."""

from __future__ import annotations

from crawler.demo import run_demo


def test_demo_harvests_reports_and_recrawls_for_almost_nothing(tmp_path):
    result = run_demo(tmp_path / "demo", host="127.0.0.2", port=0)
    assert result["reports"] == 5 and result["verify_ok"]
    stats = result["stats"]
    assert stats["documents"] >= 15 and stats["unassigned_documents"] == 0
    assert stats["runs"] == 2
    # The conditional second pass stores nothing new and moves a sliver of the bytes.
    assert result["new_blobs_second"] == 0
    assert result["bytes_second"] < 0.1 * result["bytes_first"]
