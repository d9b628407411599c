"""CheckConfig: the bounds the invariants are checked against (frozen; every default documented)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckConfig:
    account: str = "bot"  # the bot's venue account
    terminal_bound_s: float = 120.0  # inv. 5: the bot books a terminal status at most this long after the venue's
    hard_cancel_bound_s: float = 10.0  # inv. 8: all orders cancelled this long after a HARD guard
    liveness_bound_s: float = 60.0  # inv. 10: quoting resumes this long after the last fault heals
    hard_limit_lots: Mapping[str, int] = field(default_factory=dict)  # inv. 6 (bot.hard_limit records override)
    taker_cap_per_hour: int | None = None  # inv. 9 (bot.taker_cap records override)
    initial_position_lots: Mapping[str, int] = field(default_factory=dict)  # inventory at session start
