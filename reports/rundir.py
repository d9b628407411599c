"""The run directory: one simulated (or local/live) session's artefacts in one folder, the unit reports read.

Layout (every name fixed; only ``summary.json`` is required to render a report)::

    RUN_DIR/
      summary.json    SessionSummary.as_dict() (harness.session), written by ``mmbot sim --run-dir``
      events.jsonl    the session's event log (exchange_sim.eventlog JSON lines, venue + bot records)
      config.yaml     the effective bot config (bot.config.dump_config), loadable by ``load_config``
      chaos.json      optional: chaos swarm results (shape in ``reports.chaos``)
      metrics.jsonl   optional: metrics sampled on the session clock, one JSON object a line:
                      {"t_s": 12.3, "symbol": "BTCUSDT", "spread_bps": 1.2,
                       "scores": {"vol": 0.1, "liq": 0.0, "lat": 0.0, "pnl": 0.3}, ...any other gauges}
      replay_fills.json  optional, replayed runs: our fills against the recording
                      (``exchange_sim.replay.fills.payload``: horizons_s, summary, fills)
      report.html     the rendered report (``mmbot report RUN_DIR``)

``summary.json`` may also carry ``command`` (the command line that produced the run) and ``mode`` (sim, local,
live; default sim). Errors: ``FileNotFoundError`` naming the directory when ``summary.json`` is missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CHAOS", "CONFIG", "EVENTS", "METRICS", "REPLAY_FILLS", "REPORT", "SUMMARY", "RunDir", "write_summary"]

SUMMARY = "summary.json"
EVENTS = "events.jsonl"
CONFIG = "config.yaml"
CHAOS = "chaos.json"
METRICS = "metrics.jsonl"
REPORT = "report.html"
REPLAY_FILLS = "replay_fills.json"


@dataclass(frozen=True, slots=True)
class RunDir:
    """A run directory on disk; each ``load_*`` reads one artefact (``None`` when an optional one is absent)."""

    path: Path

    @classmethod
    def open(cls, path: Path | str) -> RunDir:
        run = cls(Path(path))
        if not (run.path / SUMMARY).is_file():
            raise FileNotFoundError(f"{run.path}: not a run directory (no {SUMMARY}); create one with "
                                    f"`mmbot sim --run-dir {run.path}`")
        return run

    @property
    def events_path(self) -> Path | None:
        """``events.jsonl``, else ``events.jsonl.gz`` (a compressed log: ``mmbot sim --log <dir>/events.jsonl.gz``)."""
        for p in (self.path / EVENTS, self.path / f"{EVENTS}.gz"):
            if p.is_file():
                return p
        return None

    @property
    def report_path(self) -> Path:
        return self.path / REPORT

    def load_summary(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.path / SUMMARY).read_text(encoding="utf-8"))
        return data

    def load_config_text(self) -> str | None:
        p = self.path / CONFIG
        return p.read_text(encoding="utf-8") if p.is_file() else None

    def load_chaos(self) -> dict[str, Any] | None:
        p = self.path / CHAOS
        if not p.is_file():
            return None
        data: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
        return data

    def load_replay_fills(self) -> dict[str, Any] | None:
        p = self.path / REPLAY_FILLS
        if not p.is_file():
            return None
        data: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
        return data

    def load_metrics(self, limit: int = 200_000) -> list[dict[str, Any]]:
        """Up to ``limit`` metric samples (a bound: a long soak must not exhaust memory)."""
        p = self.path / METRICS
        if not p.is_file():
            return []
        rows: list[dict[str, Any]] = []
        with p.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rows.append(json.loads(line))
                    if len(rows) >= limit:
                        break
        return rows


def write_summary(run_dir: Path | str, summary: dict[str, Any]) -> Path:
    """Write ``summary.json`` (sorted keys, so two equal summaries are equal files)."""
    path = Path(run_dir) / SUMMARY
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
