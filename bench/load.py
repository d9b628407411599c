"""Bounded CPU load: ``workers`` busy processes that stop by themselves after ``seconds`` (the "green at load 8"
measurement of CI, on a machine without ``stress-ng``).

Each worker spins until its own deadline (``spin``), so the load ends even if the parent dies; the parent joins
every worker within ``seconds + GRACE_S`` and terminates any straggler, so ``run_load`` always returns. With a
``command``, the command runs under the load and the load stops when the command ends (or at the deadline,
whichever is first); the command's exit code is returned. ``seconds`` is capped at ``MAX_SECONDS``. Only
benchmarks read the wall clock (``time.monotonic`` here); nothing measured reads it.

Errors: ``ValueError`` for ``workers < 1`` or ``seconds <= 0``.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["GRACE_S", "MAX_SECONDS", "LoadResult", "run_load", "spin"]

MAX_SECONDS = 4 * 3600.0  # a load longer than this is a mistake, not a measurement
GRACE_S = 5.0  # how long past the deadline the parent waits for a worker before terminating it


def spin(seconds: float, now: Callable[[], float] = time.monotonic) -> int:
    """Burn CPU until ``now()`` passes ``now() + seconds``; returns the iterations done."""
    deadline = now() + seconds
    n, x = 0, 1
    while now() < deadline:
        for _ in range(1000):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        n += 1
    return n


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load run did: the load averages around it, the command's exit code, workers that had to be killed."""

    workers: int
    seconds: float
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    command: list[str] | None
    command_rc: int | None
    terminated: int  # workers still running at the end (the command finished first, or a straggler)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_load(workers: int, seconds: float, command: Sequence[str] | None = None) -> LoadResult:
    """Run ``workers`` spinning processes for at most ``seconds`` (capped at ``MAX_SECONDS``), optionally
    running ``command`` under them; always returns with every worker stopped."""
    if workers < 1 or seconds <= 0:
        raise ValueError(f"need workers >= 1 and seconds > 0, got workers={workers}, seconds={seconds}")
    seconds = min(seconds, MAX_SECONDS)
    before = os.getloadavg()
    procs = [multiprocessing.Process(target=spin, args=(seconds,), name=f"load-{i}", daemon=True)
             for i in range(workers)]
    for proc in procs:
        proc.start()
    rc: int | None = None
    try:
        if command:
            try:
                rc = subprocess.run(list(command), check=False, timeout=None).returncode
            except FileNotFoundError:
                rc = 127
        deadline = time.monotonic() + (0.0 if command else seconds + GRACE_S)
        for proc in procs:
            proc.join(timeout=max(0.0, deadline - time.monotonic()))
    finally:
        terminated = 0
        for proc in procs:
            if proc.is_alive():
                terminated += 1
                proc.terminate()
            proc.join(timeout=GRACE_S)
            if proc.is_alive():
                proc.kill()
                proc.join()
    return LoadResult(workers=workers, seconds=seconds, load_before=before, load_after=os.getloadavg(),
                      command=list(command) if command else None, command_rc=rc, terminated=terminated)
