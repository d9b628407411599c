"""CheckConfig: the bounds the invariants are checked against (frozen; every default documented).

The limits come from the session's configuration (``harness.check_config.check_config_for`` derives them from the
bot's config), never from the bot's own records: those are claims the checker verifies against these values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckConfig:
    account: str = "bot"  # the bot's venue account
    terminal_bound_s: float = 120.0  # inv. 5: the bot books a terminal status at most this long after the venue's
    hard_cancel_bound_s: float = 10.0  # inv. 8: all orders cancelled this long after a HARD guard (the bot's bound)
    liveness_bound_s: float = 60.0  # inv. 10: quoting resumes this long after the last fault heals
    hard_limit_lots: Mapping[str, int] = field(default_factory=dict)  # inv. 6: |inventory| limit per symbol (lots)
    taker_cap_per_hour: int | None = None  # inv. 9: the most taker fills any sliding hour may hold (any regime)
    taker_caps: frozenset[int] = frozenset()  # inv. 9: the per-regime caps a bot.taker_cap claim may name
    initial_position_lots: Mapping[str, int] = field(default_factory=dict)  # inventory at session start
    soft_limit_lots: Mapping[str, int] = field(default_factory=dict)  # inv. 19: SOFT |inventory| bound (lots)
    guard_lag_s: float = 2.0  # inv. 19: running time a reconciled position needs to become a guard level (0.5 s loop)
    maker_only: bool = True  # inv. 20: the bot's resting limit orders are post-only (its taker path is MARKET/IOC)
    soft_reduce_bound_s: float = 30.0  # inv. 22: past SOFT, a reducing order rests within this (the reconcile interval)
    allowed_skips: frozenset[str] = frozenset()  # invariants the scenario declares uncheckable (no gate failure)
