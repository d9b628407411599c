"""Chaos swarm results as report rows: read the JSON that ``mmbot chaos`` writes, whatever its version.

The shape read (until the ``chaos`` package publishes its own, this is the documented contract)::

    {
      "command": "mmbot chaos --seeds 200 ...",            optional
      "sessions": 200, "passed": 198,                      optional totals ("seeds" accepted for "sessions")
      "violations": [                                      one entry per violated invariant of a failing seed
        {"seed": 1234, "invariant": "6 inventory-limit", "t_s": 812.4, "detail": "...",
         "schedule": [{"fault": "partition", "start": 10.0, "duration": 30.0, ...}] | "text",
         "replay": "mmbot chaos --replay 1234"}
      ]
    }

``failures`` or ``results`` (entries with ``ok: false`` and a ``violations`` list of their own) are accepted
instead of ``violations``. A missing ``replay`` is built as ``mmbot chaos --replay SEED``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ChaosRow", "ChaosTable", "chaos_table"]


@dataclass(frozen=True, slots=True)
class ChaosRow:
    seed: str
    invariant: str
    when: str
    schedule: str
    detail: str
    replay: str


@dataclass(frozen=True, slots=True)
class ChaosTable:
    command: str
    sessions: int | None
    passed: int | None
    rows: tuple[ChaosRow, ...]


def _schedule_text(schedule: Any) -> str:
    if isinstance(schedule, str):
        return schedule
    if isinstance(schedule, list):
        parts = []
        for item in schedule:
            if isinstance(item, dict):
                name = item.get("fault") or item.get("kind") or item.get("f") or "?"
                start = item.get("start", item.get("start_s"))
                duration = item.get("duration", item.get("duration_s"))
                where = f"@{start}s" if start is not None else ""
                span = f"+{duration}s" if duration is not None else ""
                parts.append(f"{name}{where}{span}")
            else:
                parts.append(str(item))
        return ", ".join(parts)
    return "" if schedule is None else str(schedule)


def _row(entry: dict[str, Any], parent: dict[str, Any] | None = None) -> ChaosRow:
    merged = {**(parent or {}), **entry}
    seed = merged.get("seed", "?")
    t_s = merged.get("t_s")
    return ChaosRow(
        seed=str(seed), invariant=str(merged.get("invariant", "?")),
        when=f"{float(t_s):.1f} s" if isinstance(t_s, int | float) else "",
        schedule=_schedule_text(merged.get("schedule")), detail=str(merged.get("detail", "")),
        replay=str(merged.get("replay") or f"mmbot chaos --replay {seed}"),
    )


def chaos_table(data: dict[str, Any]) -> ChaosTable:
    """Flatten ``data`` (the shape above) into one row per violation."""
    rows: list[ChaosRow] = []
    for entry in data.get("violations") or data.get("failures") or []:
        if isinstance(entry, dict):
            rows.append(_row(entry))
    for result in data.get("results") or []:
        if isinstance(result, dict) and not result.get("ok", True):
            parent = {k: v for k, v in result.items() if k != "violations"}
            inner = result.get("violations") or [{}]
            rows.extend(_row(v if isinstance(v, dict) else {"detail": str(v)}, parent) for v in inner)
    sessions = data.get("sessions", data.get("seeds"))
    results = data.get("results")
    if sessions is None and isinstance(results, list):
        sessions = len(results)
    passed = data.get("passed")
    if passed is None and isinstance(results, list):
        passed = sum(1 for r in results if isinstance(r, dict) and r.get("ok", True))
    return ChaosTable(
        command=str(data.get("command", "")), sessions=sessions if isinstance(sessions, int) else None,
        passed=passed if isinstance(passed, int) else None, rows=tuple(rows),
    )
