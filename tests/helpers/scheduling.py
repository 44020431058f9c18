"""What the scheduler tests share: a stand-in for the harvest, and waiting for a condition."""

from __future__ import annotations

import time


class Recorder:
    """Stands in for the harvest: records what the scheduler asked for; raises ``failure`` while ``fail``."""

    def __init__(self, fail: bool = False, failure: str = "disk full") -> None:
        self.calls: list[tuple[str, str, str | None]] = []
        self.fail = fail
        self.failure = failure
        self.remote = None

    def __call__(self, archive_dir, portals, **kw) -> list[dict]:
        self.calls.append((portals[0].name, kw["trigger"], kw["scheduled_for"]))
        self.remote = kw.get("remote")
        if self.fail:
            raise OSError(self.failure)
        return []


def wait_for(cond, seconds: float = 10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.05)
    return cond()
