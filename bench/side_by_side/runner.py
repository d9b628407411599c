"""Run both sides of the side-by-side benchmark, each in its own child process, and compare them.

One job: start ``python -m bench.side_by_side <side> <config>`` once per side (ours first, then NautilusTrader,
one after the other so they never share the 2 cores), collect their ``SideResult``s, and turn them into
figures (flat, for ``bench/results/nautilus.json``), a rich table for the terminal and a Markdown table for
docs/PERFORMANCE.md. Ratios are ours / Nautilus: above 1 means ours is faster (events/s) or larger (memory).

Errors: a child that exits non-zero raises ``RuntimeError`` with the tail of its stderr; a child that runs
past ``timeout_s`` is killed and raises ``subprocess.TimeoutExpired``. ``nautilus_available()`` tells the
caller beforehand whether the extra is installed.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from typing import Any

from rich.table import Table

from bench.side_by_side.result import SideResult
from bench.side_by_side.workload import WorkloadConfig

INSTALL_HINT = "pip install -e '.[bench-nautilus]'"
CHILD_TIMEOUT_S = 4 * 3600.0  # a bound, not a target: Nautilus's side of the 1M run is the long one (see PERFORMANCE)
_ROWS: tuple[tuple[str, str, str], ...] = (  # (label, SideResult attribute, format)
    ("events/s (updates / wall s)", "events_per_s", ",.0f"),
    ("events per CPU s", "events_per_cpu_s", ",.0f"),
    ("wall s (timed replay)", "wall_s", ",.1f"),
    ("CPU s (same replay)", "cpu_s", ",.1f"),
    ("setup s (venue, data)", "setup_s", ",.1f"),
    ("orders submitted", "orders", ",d"),
    ("cancels", "cancels", ",d"),
    ("fills", "fills", ",d"),
    ("open at end", "open_at_end", ",d"),
    ("RSS before replay MB", "rss_before_run_mb", ",.0f"),
    ("peak RSS MB", "peak_rss_mb", ",.0f"),
)


def nautilus_available() -> bool:
    return importlib.util.find_spec("nautilus_trader") is not None


def run_side(side: str, config: WorkloadConfig, *, timeout_s: float = CHILD_TIMEOUT_S) -> SideResult:
    """Run one side in a fresh interpreter and return what it reported."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.side_by_side", side, config.model_dump_json()],
        capture_output=True, text=True, timeout=timeout_s, check=False,
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-20:])
        raise RuntimeError(f"the {side} side failed (exit {done.returncode}):\n{tail}")
    return SideResult.from_json(done.stdout.strip().splitlines()[-1])


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages (what ``uptime`` shows)."""
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


def _ratio(ours: float, theirs: float) -> float | None:
    return ours / theirs if theirs else None


def figures(config: WorkloadConfig, ours: SideResult, theirs: SideResult | None,
            load_before: tuple[float, float, float], load_after: tuple[float, float, float]) -> dict[str, Any]:
    """Flat figures for the result JSON: ``ours_*``, ``nautilus_*`` and ``ratio_*`` (ours / Nautilus)."""
    out: dict[str, Any] = {"updates": config.updates, "requote_every": config.requote_every, "seed": config.seed,
                           "load_1m_before": load_before[0], "load_5m_before": load_before[1],
                           "load_1m_after": load_after[0], "load_5m_after": load_after[1]}
    for prefix, result in (("ours", ours), ("nautilus", theirs)):
        if result is None:
            continue
        out[f"{prefix}_engine"] = result.engine
        for _, attr, _ in _ROWS:
            out[f"{prefix}_{attr}"] = getattr(result, attr)
        out[f"{prefix}_checks"] = result.checks
    if theirs is not None:
        for attr in ("events_per_s", "events_per_cpu_s", "peak_rss_mb", "fills", "orders"):
            out[f"ratio_{attr}"] = _ratio(float(getattr(ours, attr)), float(getattr(theirs, attr)))
    return out


def _cells(ours: SideResult, theirs: SideResult | None) -> list[tuple[str, str, str, str]]:
    rows = []
    for label, attr, fmt in _ROWS:
        mine = getattr(ours, attr)
        other = getattr(theirs, attr) if theirs is not None else None
        ratio = _ratio(float(mine), float(other)) if other is not None else None
        rows.append((label, format(mine, fmt), "-" if other is None else format(other, fmt),
                     "-" if ratio is None else f"{ratio:.2f}"))
    return rows


def rich_table(ours: SideResult, theirs: SideResult | None, title: str) -> Table:
    table = Table(title=title)
    table.add_column("figure")
    table.add_column(ours.engine, justify="right")
    table.add_column(theirs.engine if theirs is not None else "NautilusTrader (not installed)", justify="right")
    table.add_column("ours / Nautilus", justify="right")
    for row in _cells(ours, theirs):
        table.add_row(*row)
    return table


def markdown_table(ours: SideResult, theirs: SideResult) -> str:
    lines = [f"| figure | ours ({ours.engine}) | {theirs.engine} | ours / Nautilus |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {label} | {mine} | {other} | {ratio} |" for label, mine, other, ratio in _cells(ours, theirs)]
    return "\n".join(lines)
