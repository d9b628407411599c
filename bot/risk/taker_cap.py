"""Dynamic taker cap: at most ``cap_per_hour(volatility)`` taker fills in any sliding one-hour window.

Regimes (seed audit, "Dynamic Taker Cap")::

    calm      vol <  calm_below_vol_bps                          -> calm_per_hour      (default 50)
    moderate  calm_below_vol_bps <= vol < volatile_above_vol_bps -> moderate_per_hour  (default 75)
    volatile  vol >= volatile_above_vol_bps                      -> volatile_per_hour  (default 30)

A fill recorded at ``t`` counts for every ``now`` with ``now - 3600 < t <= now``; a taker order is allowed
when ``count < cap``. Memory is bounded: the deque keeps the newest ``max(caps) + 1`` fill times, which is
enough for the check to stay exact (once ``max(caps)`` fills are in the window every regime refuses).
``record`` raises ``ValueError`` if time goes backwards. Times are the caller's monotonic seconds.
"""

from __future__ import annotations

import math
from collections import deque

from bot.risk.config import TakerCapConfig

__all__ = ["WINDOW_S", "TakerCap"]

WINDOW_S = 3600.0


class TakerCap:
    """Counts taker fills over a sliding hour and decides whether another taker order is allowed."""

    def __init__(self, config: TakerCapConfig) -> None:
        self._config = config
        bound = max(config.calm_per_hour, config.moderate_per_hour, config.volatile_per_hour) + 1
        self._fills_s: deque[float] = deque(maxlen=bound)
        self._last_s = -math.inf

    def regime(self, volatility_bps: float) -> str:
        """"calm", "moderate" or "volatile" (see the module docstring for the bounds)."""
        if volatility_bps < self._config.calm_below_vol_bps:
            return "calm"
        if volatility_bps < self._config.volatile_above_vol_bps:
            return "moderate"
        return "volatile"  # includes NaN volatility: the strictest-by-default regime

    def cap_per_hour(self, volatility_bps: float) -> int:
        """The number of taker fills allowed per sliding hour at this volatility."""
        regime, config = self.regime(volatility_bps), self._config
        if regime == "calm":
            return config.calm_per_hour
        return config.moderate_per_hour if regime == "moderate" else config.volatile_per_hour

    def count(self, now_s: float) -> int:
        """Taker fills recorded in ``(now_s - 3600, now_s]``."""
        fills = self._fills_s
        horizon = now_s - WINDOW_S
        while fills and fills[0] <= horizon:
            fills.popleft()
        if not fills or fills[-1] <= now_s:
            return len(fills)  # the times are non-decreasing: all of them are at or before now_s
        return sum(1 for t in fills if t <= now_s)

    def remaining(self, now_s: float, volatility_bps: float) -> int:
        """Taker fills still allowed in the current window (never negative)."""
        return max(0, self.cap_per_hour(volatility_bps) - self.count(now_s))

    def allowed(self, now_s: float, volatility_bps: float) -> bool:
        """May one more taker order be sent now? ``count(now_s) < cap_per_hour(volatility_bps)``."""
        return self.count(now_s) < self.cap_per_hour(volatility_bps)

    def record(self, now_s: float) -> None:
        """Record one taker fill at ``now_s`` (non-decreasing)."""
        if now_s < self._last_s:
            raise ValueError(f"taker fill time went backwards: {now_s} < {self._last_s}")
        self._last_s = now_s
        self._fills_s.append(now_s)
