"""Shared fixtures: a fresh archive per test, the sample documents (plain helpers are in tests/helpers/)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from archive import Archive
from spiders.demo import DOCUMENTS

# The machine is shared and noisy: no test depends on how long an example takes.
settings.register_profile("nianbao", deadline=None, print_blob=True)
settings.load_profile("nianbao")


@pytest.fixture
def archive(tmp_path: Path):
    a = Archive.open(tmp_path / "archive")
    yield a
    a.close()


@pytest.fixture
def docs() -> Path:
    return DOCUMENTS
