"""MemoryWatch: the chaos harness's memory limit (growth of the process during a memory_pressure window)."""

from __future__ import annotations

import sys

import pytest

from harness.memory import MemoryWatch, rss_mb


def test_rss_is_reported() -> None:
    assert rss_mb() > 1.0


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="current RSS needs /proc")
def test_growth_past_the_limit_is_a_breach_and_growth_under_it_is_not() -> None:
    watch = MemoryWatch(limit_mb=16.0)
    hog = bytearray(64 * 1024 * 1024)  # 64 MB, touched so it is resident
    hog[::4096] = b"x" * len(hog[::4096])
    watch.sample()
    del hog
    assert watch.close() is True  # the peak counts even after the memory is freed
    assert watch.growth_mb() >= 48.0
    assert MemoryWatch(limit_mb=1024.0).close() is False


def test_a_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="limit_mb"):
        MemoryWatch(limit_mb=0)
