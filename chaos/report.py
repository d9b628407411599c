"""Swarm results as a per-fault-kind table, coverage figures, violation rows with replay commands, and JSON.

The table has one row per fault kind: sessions that drew it, sessions where it hit the bot (``chaos.coverage``:
for an order-level kind, a ``fault_hit`` on the bot's account), sessions that broke an invariant, and the bot's
reactions summed. Under it, the coverage line: the median session's quoting fraction of non-fault time and the
order-level kinds below the hit target (issue 16's targets, ``chaos.coverage.QUOTING_TARGET`` / ``HIT_TARGET``).

JSON shape (``reports.chaos`` reads it): ``{"command", "fingerprint", "sessions", "passed", "minutes", "wall_s",
"coverage": {"median_quoting_fraction", "quoting_target", "hit_target", "below_hit_target": [kind, ...]},
"by_fault": {kind: {"sessions", "hit", "failed", reactions...}}, "violations": [{"seed", "invariant", "t_s",
"detail", "schedule", "replay", "scenario"}], "results": [{"seed", "ok", "kinds", "invariants", "digest",
"reactions", "wall_s", "coverage", "fingerprint"}]}``.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

from chaos.coverage import HIT_TARGET, ORDER_LEVEL, QUOTING_TARGET, median_quoting_fraction
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


def corpus_text(result: SessionResult, fingerprint: str) -> str:
    """A corpus file: the schedule as scenario YAML, headed by comments naming the code and seed it failed on."""
    return (f"# seed {result.spec.seed}, {result.spec.minutes:g} simulated minutes: {', '.join(result.invariants)}\n"
            f"# code fingerprint {fingerprint} (chaos.fingerprint: replays match only on the same code)\n"
            + result.scenario_yaml)


def by_fault(results: Sequence[SessionResult]) -> dict[str, dict[str, int]]:
    """Per fault kind: sessions that drew it, that it hit, that broke an invariant, and the reactions summed."""
    table: dict[str, dict[str, int]] = {}
    for result in results:
        hit = set(result.coverage.hit) if result.coverage is not None else set()
        for kind in result.kinds:
            row = table.setdefault(kind, {"sessions": 0, "hit": 0, "failed": 0, **dict.fromkeys(REACTIONS, 0)})
            row["sessions"] += 1
            row["hit"] += kind in hit
            row["failed"] += not result.ok
            for name in REACTIONS:
                row[name] += result.reactions.get(name, 0)
    return dict(sorted(table.items()))


def below_hit_target(rows: dict[str, dict[str, int]]) -> list[str]:
    """Order-level kinds that hit the bot in fewer than ``HIT_TARGET`` of the sessions that drew them."""
    return [kind for kind, row in rows.items() if kind in ORDER_LEVEL and row["hit"] < HIT_TARGET * row["sessions"]]


def coverage_summary(results: Sequence[SessionResult]) -> dict[str, Any]:
    """The swarm's coverage against issue 16's targets (module docstring)."""
    return {"median_quoting_fraction": median_quoting_fraction(r.coverage for r in results),
            "quoting_target": QUOTING_TARGET, "hit_target": HIT_TARGET,
            "below_hit_target": below_hit_target(by_fault(results))}


def coverage_line(results: Sequence[SessionResult]) -> str:
    """``quoting: median session 83.0% of non-fault time (target 70%); hit target 50%: met`` or what misses it."""
    summary = coverage_summary(results)
    median = summary["median_quoting_fraction"]
    quoting = "no non-fault time" if median is None else f"{100 * median:.1f}%"
    low = summary["below_hit_target"]
    hits = f"below it: {', '.join(low)}" if low else "met by every order-level kind drawn"
    return (f"quoting: median session {quoting} of non-fault time (target {100 * QUOTING_TARGET:.0f}%); "
            f"order-level hit target {100 * HIT_TARGET:.0f}% of drawing sessions: {hits}")


def fault_table(results: Sequence[SessionResult]) -> Table:
    """Per fault kind: sessions that drew it, that it hit (``!``: an order-level kind below the hit target) and
    that broke an invariant; the coverage line as caption."""
    table = Table(title=f"chaos swarm: {len(results)} sessions, {sum(r.ok for r in results)} passed",
                  caption=coverage_line(results))
    for column in ("fault", "drawn", "hit", "broke"):
        table.add_column(column, justify="right")
    for kind, row in by_fault(results).items():
        hit = str(row["hit"]) + ("" if kind not in ORDER_LEVEL or row["hit"] >= HIT_TARGET * row["sessions"] else " !")
        table.add_row(kind, str(row["sessions"]), hit, str(row["failed"]))
    return table


def reaction_table(results: Sequence[SessionResult]) -> Table:
    """Per fault kind: the bot's reactions summed over the sessions that drew it."""
    table = Table(title="reactions in the sessions that drew each fault")
    for column in ("fault", *REACTIONS):
        table.add_column(column, justify="right")
    for kind, row in by_fault(results).items():
        table.add_row(kind, *(str(row[n]) for n in REACTIONS))
    return table


def violation_rows(result: SessionResult, replay: str) -> list[dict[str, Any]]:
    return [{"seed": result.spec.seed, "invariant": v["invariant"], "t_s": v["t_s"], "detail": v["detail"],
             "orders": v["orders"], "schedule": list(result.schedule), "scenario": result.scenario_yaml,
             "replay": replay} for v in result.violations]


def as_json(results: Sequence[SessionResult], failures: Sequence[tuple[SessionResult, str]], *, command: str,
            minutes: float, wall_s: float, fingerprint: str) -> dict[str, Any]:
    return {
        "command": command, "fingerprint": fingerprint, "sessions": len(results), "passed": sum(r.ok for r in results),
        "minutes": minutes, "wall_s": wall_s, "coverage": coverage_summary(results), "by_fault": by_fault(results),
        "violations": [row for result, replay in failures for row in violation_rows(result, replay)],
        "results": [{"seed": r.spec.seed, "ok": r.ok, "kinds": list(r.kinds), "invariants": list(r.invariants),
                     "digest": r.digest, "reactions": r.reactions, "wall_s": r.wall_s,
                     "coverage": r.coverage.as_dict() if r.coverage is not None else None,
                     "fingerprint": r.fingerprint} for r in results],
    }
