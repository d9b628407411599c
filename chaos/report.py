"""Swarm results as a per-fault-kind table, violation rows with replay commands, and JSON (``reports.chaos`` reads it).

JSON shape: ``{"command", "sessions", "passed", "minutes", "wall_s", "by_fault": {kind: {...}},
"violations": [{"seed", "invariant", "t_s", "detail", "schedule", "replay", "scenario"}], "results": [...]}``.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from chaos.runner import SessionResult

REACTIONS = ("reconciles", "book_resyncs", "time_syncs", "retries", "unknown_outcomes", "held_back", "guard_soft",
             "guard_hard", "restarts", "task_restarts")


def replay_command(result: SessionResult, scenario_file: Path | None) -> str:
    spec = result.spec
    parts = ["mmbot", "chaos", "replay", "--seed", str(spec.seed), "--minutes", f"{spec.minutes:g}"]
    if scenario_file is not None:
        parts += ["--scenario", str(scenario_file)]
    elif spec.kinds:
        parts += ["--faults", ",".join(spec.kinds)]
    if spec.sabotage:
        parts += ["--sabotage", spec.sabotage]
    return " ".join(shlex.quote(p) for p in parts)


def by_fault(results: Sequence[SessionResult]) -> dict[str, dict[str, int]]:
    """Per fault kind: sessions that drew it, how many broke an invariant, and the bot's reactions summed."""
    table: dict[str, dict[str, int]] = {}
    for result in results:
        for kind in result.kinds:
            row = table.setdefault(kind, {"sessions": 0, "failed": 0, **dict.fromkeys(REACTIONS, 0)})
            row["sessions"] += 1
            row["failed"] += not result.ok
            for name in REACTIONS:
                row[name] += result.reactions.get(name, 0)
    return dict(sorted(table.items()))


def fault_table(results: Sequence[SessionResult]) -> Table:
    table = Table(title=f"chaos swarm: {len(results)} sessions, {sum(r.ok for r in results)} passed")
    for column in ("fault", "sessions", "violating", *REACTIONS):
        table.add_column(column, justify="right")
    for kind, row in by_fault(results).items():
        table.add_row(kind, str(row["sessions"]), str(row["failed"]), *(str(row[n]) for n in REACTIONS))
    return table


def violation_rows(result: SessionResult, replay: str) -> list[dict[str, Any]]:
    return [{"seed": result.spec.seed, "invariant": v["invariant"], "t_s": v["t_s"], "detail": v["detail"],
             "orders": v["orders"], "schedule": list(result.schedule), "scenario": result.scenario_yaml,
             "replay": replay} for v in result.violations]


def as_json(results: Sequence[SessionResult], failures: Sequence[tuple[SessionResult, str]], *, command: str,
            minutes: float, wall_s: float) -> dict[str, Any]:
    return {
        "command": command, "sessions": len(results), "passed": sum(r.ok for r in results), "minutes": minutes,
        "wall_s": wall_s, "by_fault": by_fault(results),
        "violations": [row for result, replay in failures for row in violation_rows(result, replay)],
        "results": [{"seed": r.spec.seed, "ok": r.ok, "kinds": list(r.kinds), "invariants": list(r.invariants),
                     "digest": r.digest, "reactions": r.reactions, "wall_s": r.wall_s} for r in results],
    }
