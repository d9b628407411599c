"""Latency profiler: hot spots per component from a summary's latency, and from cProfile of a short session.

``hot_spots`` ranks the pipeline stages by their share of decision CPU (``mean * count``), flags heavy tails
(p99 over ``tail_factor`` x p50) and checks the I/O components against a budget (the 200 ms p95 gate).
``profile_session`` runs one session under ``cProfile`` (the runner is injected) and groups own time by
package (``bot.strategy``, ``bot.execution``, ``exchange_sim.engine``, ...): where the wall time really goes.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["HotSpot", "PackageTime", "hot_spots", "profile_session"]


@dataclass(frozen=True, slots=True)
class HotSpot:
    component: str
    unit: str
    count: int
    mean: float
    p50: float
    p95: float
    p99: float
    share: float | None  # of total stage CPU (stages only)
    flags: tuple[str, ...]


def hot_spots(latency: Mapping[str, Mapping[str, float]], *, tail_factor: float = 5.0,
              io_budget_ms: float = 200.0) -> list[HotSpot]:
    """Components, stages by CPU share (largest first), then I/O; ``decision_us`` is the total, not a stage."""
    stages = {n: q for n, q in latency.items() if n.endswith("_us") and n != "decision_us"}
    total = sum(q["mean"] * q["count"] for q in stages.values()) or 1.0
    out = []
    for name, q in sorted(latency.items(), key=lambda kv: -kv[1]["mean"] * kv[1]["count"]):
        flags = []
        if q["p50"] > 0 and q["p99"] > tail_factor * q["p50"]:
            flags.append(f"tail p99/p50 {q['p99'] / q['p50']:.1f}x")
        if name.endswith("_ms") and q["p95"] > io_budget_ms:
            flags.append(f"p95 over {io_budget_ms:g} ms")
        share = q["mean"] * q["count"] / total if name in stages else None
        out.append(HotSpot(name, name.rsplit("_", 1)[-1], int(q["count"]), q["mean"], q["p50"], q["p95"], q["p99"],
                           share, tuple(flags)))
    order = {"us": 0, "ms": 1}
    return sorted(out, key=lambda h: (order.get(h.unit, 2), h.component == "decision_us",
                                      -(h.share or 0.0)))


@dataclass(frozen=True, slots=True)
class PackageTime:
    package: str
    own_s: float
    share: float
    top: list[tuple[str, float]]  # (function, own seconds)


def _package(filename: str) -> str:
    path = filename.replace("\\", "/")
    for root in ("bot/", "exchange_sim/"):
        if f"/{root}" in path or path.startswith(root):
            tail = path.split(f"/{root}", 1)[-1] if f"/{root}" in path else path[len(root):]
            parts = tail.split("/")
            return root.rstrip("/") + ("." + parts[0].removesuffix(".py") if parts else "")
    if "asyncio" in path:
        return "asyncio"
    if "simpy" in path:
        return "simpy"
    return "other"


def profile_session(run: Callable[[], Any], *, top: int = 5) -> list[PackageTime]:
    """Run ``run()`` under cProfile; own time per package, largest first, with each package's top functions."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        run()
    finally:
        profiler.disable()
    stats = pstats.Stats(profiler)
    per: dict[str, list[tuple[str, float]]] = {}
    for (filename, line, func), row in stats.stats.items():  # type: ignore[attr-defined]
        own_s = float(row[2])
        per.setdefault(_package(filename), []).append((f"{filename.rsplit('/', 1)[-1]}:{line}:{func}", own_s))
    total = sum(s for rows in per.values() for _, s in rows) or 1.0
    out = [PackageTime(pkg, sum(s for _, s in rows), sum(s for _, s in rows) / total,
                       sorted(rows, key=lambda r: -r[1])[:top]) for pkg, rows in per.items()]
    return sorted(out, key=lambda p: -p.own_s)
