"""Run the side-by-side sides interleaved and repeated, each in its own child process, and summarise them.

One job: start ``python -m bench.side_by_side <side> <config>`` once per side per round, interleaved (ours,
nautilus, hftbacktest, ours, nautilus, ... for ``repeat`` rounds, one at a time so no two share the cores), and
turn the ``SideResult``s into per-side medians (``Summary``), count checks against the plain-Python maker
(``reference_run``), flat figures for ``bench/results/nautilus.json``, a rich table and a Markdown table.

The headline is the MEDIAN CPU seconds of a side's timed replay (the machine is shared; CPU seconds move less
with other load than wall seconds, which are shown beside them). Ratios are ``ours / other`` of events per CPU
second: above 1 means ours is faster.

Errors: a child that exits non-zero raises ``RuntimeError`` with the tail of its stderr; a child that runs past
``timeout_s`` is killed and raises ``subprocess.TimeoutExpired``. ``available(side)`` tells beforehand whether a
side's optional extra is installed.
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from bench.side_by_side.result import SideResult
from bench.side_by_side.workload import Counts, WorkloadConfig

EXTRAS = {"nautilus": ("nautilus_trader", "pip install -e '.[bench-nautilus]'"),
          "hftbacktest": ("hftbacktest", "pip install -e '.[bench-hftbacktest]'")}
CHILD_TIMEOUT_S = 4 * 3600.0  # a bound, not a target
RunSide = Callable[[str, WorkloadConfig], SideResult]


@dataclass(frozen=True, slots=True)
class Summary:
    """One side over its repeated runs: medians of the times, the largest peak RSS, the (identical) counts."""

    side: str
    engine: str
    runs: int
    updates: int
    cpu_s: float  # median
    cpu_s_min: float
    cpu_s_max: float
    wall_s: float  # median
    setup_s: float  # median
    peak_rss_mb: float  # the largest over the runs
    counts: Counts
    counts_stable: bool  # every run reported the same counts

    @property
    def events_per_cpu_s(self) -> float:
        return self.updates / self.cpu_s if self.cpu_s > 0 else 0.0

    @property
    def events_per_wall_s(self) -> float:
        return self.updates / self.wall_s if self.wall_s > 0 else 0.0


def available(side: str) -> bool:
    """Whether ``side`` can run here (ours always; the others need their optional extra)."""
    if side not in EXTRAS:
        return True
    return importlib.util.find_spec(EXTRAS[side][0]) is not None


def nautilus_available() -> bool:
    return available("nautilus")


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


def run_interleaved(config: WorkloadConfig, sides: Sequence[str], repeat: int, run: RunSide | None = None,
                    progress: Callable[[str], None] | None = None) -> dict[str, list[SideResult]]:
    """``repeat`` rounds, each running every side once in the order given (never two at the same time);
    ``run`` defaults to ``run_side`` (a child process per run)."""
    run = run if run is not None else run_side
    results: dict[str, list[SideResult]] = {side: [] for side in sides}
    for round_no in range(1, repeat + 1):
        for side in sides:
            result = run(side, config)
            results[side].append(result)
            if progress is not None:
                progress(f"round {round_no}/{repeat} {side}: {result.cpu_s:,.1f} CPU s, {result.wall_s:,.1f} wall s, "
                         f"{result.fills:,} fills")
    return results


def counts_of(result: SideResult) -> Counts:
    position = result.checks.get("position_quotes")
    return Counts(result.orders, result.cancels, result.fills, result.open_at_end,
                  int(position) if position is not None else 0)


def summarize(runs: Sequence[SideResult]) -> Summary:
    """The median of a side's runs (``ValueError`` on no runs)."""
    if not runs:
        raise ValueError("no runs to summarise")
    cpu = [r.cpu_s for r in runs]
    counts = [counts_of(r) for r in runs]
    first = runs[0]
    return Summary(side=first.side, engine=first.engine, runs=len(runs), updates=first.updates,
                   cpu_s=statistics.median(cpu), cpu_s_min=min(cpu), cpu_s_max=max(cpu),
                   wall_s=statistics.median(r.wall_s for r in runs), setup_s=statistics.median(r.setup_s for r in runs),
                   peak_rss_mb=max(r.peak_rss_mb for r in runs), counts=counts[0],
                   counts_stable=all(c == counts[0] for c in counts))


def mismatches(summaries: Sequence[Summary], reference: Counts) -> list[str]:
    """One line per side whose counts differ from the reference maker's, or differ between its own runs."""
    out = []
    for s in summaries:
        if not s.counts_stable:
            out.append(f"{s.side}: its counts differ between its own runs")
        if s.counts[:4] != reference[:4]:
            got = ", ".join(f"{name} {getattr(s.counts, name):,}" for name in ("orders", "cancels", "fills",
                                                                                "open_at_end"))
            want = ", ".join(f"{name} {getattr(reference, name):,}" for name in ("orders", "cancels", "fills",
                                                                                 "open_at_end"))
            out.append(f"{s.side}: {got}; the maker rule gives {want}")
    return out


def load_average() -> tuple[float, float, float]:
    """1, 5 and 15 minute load averages (what ``uptime`` shows)."""
    try:
        return os.getloadavg()
    except OSError:
        return (0.0, 0.0, 0.0)


_ROWS: tuple[tuple[str, Callable[[Summary], Any], str], ...] = (  # (label, value, format)
    ("events per CPU s (median)", lambda s: s.events_per_cpu_s, ",.0f"),
    ("CPU s, median (min-max)", lambda s: s.cpu_s, ",.2f"),
    ("wall s, median", lambda s: s.wall_s, ",.2f"),
    ("events per wall s", lambda s: s.events_per_wall_s, ",.0f"),
    ("setup s (venue, data), median", lambda s: s.setup_s, ",.2f"),
    ("orders submitted", lambda s: s.counts.orders, ",d"),
    ("cancels", lambda s: s.counts.cancels, ",d"),
    ("fills", lambda s: s.counts.fills, ",d"),
    ("open at end", lambda s: s.counts.open_at_end, ",d"),
    ("peak RSS MB (largest run)", lambda s: s.peak_rss_mb, ",.0f"),
)


def _cell(label: str, summary: Summary, fmt: str, value: Any) -> str:
    text = format(value, fmt)
    if label.startswith("CPU s"):
        text += f" ({summary.cpu_s_min:,.2f}-{summary.cpu_s_max:,.2f})"
    return text


def _ratio_text(ratio: float) -> str:
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{ratio:.2g}x"  # 0.0073x, not 0.01x


def _ratio_row(summaries: Sequence[Summary], base: Summary) -> list[str]:
    return ["-" if s is base or not s.events_per_cpu_s else _ratio_text(base.events_per_cpu_s / s.events_per_cpu_s)
            for s in summaries]


def rows(summaries: Sequence[Summary]) -> list[list[str]]:
    """Table rows: one per figure, one column per side, then ours' events per CPU s over each side's."""
    out = [[label, *(_cell(label, s, fmt, value(s)) for s in summaries)] for label, value, fmt in _ROWS]
    for base in summaries:
        if base.side.startswith("ours"):
            out.append([f"{base.side} events per CPU s / this side's", *_ratio_row(summaries, base)])
    return out


def _header(s: Summary) -> str:
    return f"{s.side} ({s.engine}, {s.runs} runs)"


def rich_table(summaries: Sequence[Summary], title: str) -> Table:
    table = Table(title=title)
    table.add_column("figure")
    for s in summaries:
        table.add_column(_header(s), justify="right")
    for row in rows(summaries):
        table.add_row(*row)
    return table


def markdown_table(summaries: Sequence[Summary]) -> str:
    lines = ["| figure | " + " | ".join(_header(s) for s in summaries) + " |",
             "| --- |" + " ---: |" * len(summaries)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(summaries)]
    return "\n".join(lines)


def figures(config: WorkloadConfig, summaries: Sequence[Summary], reference: Counts,
            load_before: tuple[float, float, float], load_after: tuple[float, float, float]) -> dict[str, Any]:
    """Flat figures for the result JSON: ``<side>_*`` per side and ``ratio_<ours>_vs_<side>`` (events per CPU s)."""
    out: dict[str, Any] = {**config.model_dump(), "reference_fills": reference.fills,
                           "reference_orders": reference.orders, "reference_cancels": reference.cancels,
                           "load_1m_before": load_before[0], "load_5m_before": load_before[1],
                           "load_1m_after": load_after[0], "load_5m_after": load_after[1]}
    for s in summaries:
        key = s.side.replace("-", "_")
        out.update({f"{key}_engine": s.engine, f"{key}_runs": s.runs, f"{key}_cpu_s": s.cpu_s,
                    f"{key}_cpu_s_min": s.cpu_s_min, f"{key}_cpu_s_max": s.cpu_s_max, f"{key}_wall_s": s.wall_s,
                    f"{key}_events_per_cpu_s": s.events_per_cpu_s, f"{key}_events_per_s": s.events_per_wall_s,
                    f"{key}_peak_rss_mb": s.peak_rss_mb, f"{key}_orders": s.counts.orders,
                    f"{key}_cancels": s.counts.cancels, f"{key}_fills": s.counts.fills})
    for base in summaries:
        if not base.side.startswith("ours"):
            continue
        for other in summaries:
            if other is not base and not other.side.startswith("ours") and other.events_per_cpu_s:
                out[f"ratio_{base.side.replace('-', '_')}_vs_{other.side}"] = (
                    base.events_per_cpu_s / other.events_per_cpu_s)
    return out
