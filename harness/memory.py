"""The process's resident memory: what a container's memory limit (and the chaos harness's) holds it to."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

__all__ = ["MemoryWatch", "peak_rss_mb", "rss_mb"]


def rss_mb() -> float:
    """Resident set size of this process now, in MB (Linux ``/proc``); elsewhere the peak so far
    (``getrusage``), which never understates the current size."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (``getrusage``: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class MemoryWatch:
    """How much the process grew while a memory limit applied: ``sample()`` during the window, ``growth_mb()``
    after. The baseline is the size when the watch was made, so what a session had allocated before does not
    count against a limit that starts later."""

    __slots__ = ("active", "baseline_mb", "limit_mb", "peak_mb")

    def __init__(self, limit_mb: float) -> None:
        if limit_mb <= 0:
            raise ValueError(f"limit_mb must be positive, got {limit_mb!r}")
        self.limit_mb = limit_mb
        self.baseline_mb = self.peak_mb = rss_mb()
        self.active = True  # until the window ends (``close``)

    def sample(self) -> None:
        self.peak_mb = max(self.peak_mb, rss_mb())

    def growth_mb(self) -> float:
        self.sample()
        return self.peak_mb - self.baseline_mb

    def close(self) -> bool:
        """End the window; whether the process grew past the limit."""
        self.active = False
        return self.growth_mb() > self.limit_mb
