"""What one side reports, and how a child process measures its own memory.

A ``SideResult`` crosses the process boundary as one JSON object (``to_json`` / ``from_json``); unknown or
missing fields raise ``TypeError`` there, so the parent never reads a half-filled record.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class SideResult:
    """One side's run of the workload. Counts are the maker's; times are wall seconds of that side's process."""

    side: str  # "ours" or "nautilus"
    engine: str  # what ran, with its version
    updates: int
    wall_s: float  # the timed replay only (ours: the update loop; Nautilus: ``engine.run()``)
    cpu_s: float  # CPU seconds of this process over the same replay (less sensitive to other load)
    setup_s: float  # building the venue / engine and the data before the timed replay
    orders: int  # quotes submitted (and accepted)
    cancels: int  # cancels confirmed by the venue
    fills: int  # fill events the maker received
    open_at_end: int  # quotes still resting after the last update
    rss_before_run_mb: float  # resident memory just before the timed replay
    peak_rss_mb: float  # the process's peak resident memory (ru_maxrss)
    checks: dict[str, Any] = field(default_factory=dict)  # side-specific cross-checks

    @property
    def events_per_s(self) -> float:
        return self.updates / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def events_per_cpu_s(self) -> float:
        return self.updates / self.cpu_s if self.cpu_s > 0 else 0.0

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SideResult:
        return cls(**json.loads(text))
