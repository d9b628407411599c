"""Offline tools over simulated sessions: regression matrix, calibration, soak analysis, profiling, edge drift.

Every tool is pure over data (summaries, event logs) or takes the session runner as a callable
(``SessionRunner``, e.g. ``harness.lab.run_point``): tools never import the composition roots.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["SessionRunner"]

SessionRunner = Callable[[Mapping[str, Any], int, str, float], dict[str, Any]]
"""``(raw_config, seed, regime, hours) -> SessionSummary.as_dict()``; must be picklable for worker processes."""
