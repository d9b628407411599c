"""Where a simulated session's CPU goes: Python function calls per simulated second and own time by package.

The session benchmark's target (DESIGN section 6: 24 simulated hours in under 60 s) is a budget of 694 us of CPU
per simulated second. On CPython a session's cost is close to proportional to the number of Python-level calls it
makes, and that number is deterministic for a seed (unlike seconds, it does not depend on the machine or its
load), so it is the figure to track: ``calls_per_sim_s``. ``cProfile`` counts every call; its own overhead
inflates the seconds (``cpu_s_profiled``), so the shares are of profiled own time, grouped by where the function
lives (``exchange_sim`` by subpackage, ``bot`` by subpackage, asyncio, simpy, the rest).
"""

from __future__ import annotations

import cProfile
import pstats
from pathlib import PurePath

from bench.session import bench_session

_STDLIB_GROUPS = {"asyncio": "asyncio (event loop, tasks, futures)", "simpy": "simpy (world scheduling)"}


def _group(filename: str) -> str:
    parts = PurePath(filename).parts
    for root in ("exchange_sim", "bot"):
        if root in parts:
            index = len(parts) - 1 - parts[::-1].index(root)  # the last one: a checkout may sit under a "bot" dir
            rest = parts[index + 1:]
            return f"{root}/{rest[0].removesuffix('.py')}" if len(rest) > 1 else f"{root}/{rest[0]}"
    for name, label in _STDLIB_GROUPS.items():
        if name in parts:
            return label
    if filename == "<string>":
        return "generated __init__ (dataclasses)"
    if filename == "~":
        return "builtins (C functions: dict, heapq, orjson, ...)"
    return "other (stdlib, imports)"


def profile_session(hours: float = 1.0, seed: int = 7) -> dict[str, object]:
    """Run the session benchmark under cProfile; calls per simulated second and own-time shares by group."""
    profiler = cProfile.Profile()
    result = profiler.runcall(bench_session, hours, seed)
    stats = pstats.Stats(profiler)
    own: dict[str, float] = {}
    calls: dict[str, int] = {}
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, object]] = stats.stats  # type: ignore[attr-defined]
    for (filename, _line, _name), (_primitive, total_calls, own_s, _cum_s, _callers) in raw.items():
        group = _group(filename)
        own[group] = own.get(group, 0.0) + own_s
        calls[group] = calls.get(group, 0) + total_calls
    total_own = sum(own.values()) or 1.0
    sim_s = hours * 3600
    total_calls = sum(calls.values())
    return {
        "simulated_hours": hours,
        "seed": seed,
        "python_calls": total_calls,
        "calls_per_sim_s": round(total_calls / sim_s, 1),
        "cpu_s_profiled": round(total_own, 2),
        "order_changes": result["replaces"],
        "shares": {g: round(100 * s / total_own, 1) for g, s in sorted(own.items(), key=lambda kv: -kv[1])},
        "calls_per_sim_s_by_group": {g: round(c / sim_s, 1) for g, c in sorted(calls.items(), key=lambda kv: -kv[1])},
    }
