"""The latent fair price F(t) of one symbol: what informed traders know and liquidity providers chase.

    F(t) = F_grid(t) + I(t) + C(t)

* ``F_grid`` is a jump-diffusion sampled on a fixed grid of ``grid_s`` seconds from its own random stream:
  F_{k+1} = F_k + drift*dt + sigma*sqrt(dt)*Z_k + J_k, with J_k a normal jump with probability
  jump_rate*dt. Because the grid and its stream do not depend on who trades, the same seed gives the same
  information path whatever strategy runs against it (fair comparisons between strategies).
* ``I`` is the permanent impact of market orders (added by the flow: square-root law, DESIGN section 2).
* ``C`` is the flash-crash overlay: a linear fall of ``depth`` ticks over ``fall_s``, then a linear recovery of
  ``recovery_fraction * depth`` over ``recovery_s``.

F is kept at least 1 tick. Values are floats in ticks: F is a model quantity, never a price that is traded or
booked (orders are placed at integer ticks derived from it).
"""

from __future__ import annotations

import math
import random

from exchange_sim.market.regimes import RegimeParams

_BLOCK = 600  # grid steps generated at a time


class LatentPrice:
    """Lazily generated fair-price path in ticks."""

    __slots__ = ("_base", "_block_start", "_crash", "_grid", "_grid_s", "_params", "_rng", "impact_ticks")

    def __init__(self, initial_ticks: float, params: RegimeParams, rng: random.Random, grid_s: float) -> None:
        self._rng = rng
        self._grid_s = grid_s
        self._params = params
        self._grid: list[float] = [float(initial_ticks)]
        self._block_start = 0  # grid index of _grid[0]
        self._base = float(initial_ticks)
        self._crash: tuple[float, float, float, float, float] | None = None
        self.impact_ticks = 0.0

    def set_regime(self, params: RegimeParams, now_s: float) -> None:
        """Switch the grid's dynamics from the next grid step; start a crash overlay if the regime has one."""
        self._params = params
        keep = int(now_s / self._grid_s) - self._block_start + 1
        if 0 < keep < len(self._grid):
            del self._grid[keep:]  # values drawn ahead under the old regime are discarded
        if params.crash_depth_ticks > 0:
            self._crash = (
                now_s, params.crash_depth_ticks, params.crash_fall_s,
                params.crash_recovery_fraction, params.crash_recovery_s,
            )

    def _extend_to(self, index: int) -> None:
        grid = self._grid
        p = self._params
        dt = self._grid_s
        drift = p.drift_ticks_per_s * dt
        vol = p.sigma_ticks_per_sqrt_s * math.sqrt(dt)
        jump_p = p.jump_rate_per_s * dt
        gauss = self._rng.gauss
        rand = self._rng.random
        while self._block_start + len(grid) - 1 < index:
            if len(grid) > _BLOCK:  # keep memory bounded: drop all but the last value
                self._block_start += len(grid) - 1
                del grid[:-1]
            x = grid[-1]
            for _ in range(_BLOCK):
                x += drift + vol * gauss(0.0, 1.0)
                if jump_p and rand() < jump_p:
                    x += gauss(0.0, p.jump_sigma_ticks)
                grid.append(x)

    def crash_offset(self, now_s: float) -> float:
        if self._crash is None:
            return 0.0
        start, depth, fall_s, recover_frac, recover_s = self._crash
        t = now_s - start
        if t <= 0:
            return 0.0
        if t < fall_s:
            return -depth * t / fall_s
        recovered = min(1.0, (t - fall_s) / recover_s) * recover_frac
        return -depth * (1.0 - recovered)

    def at(self, now_s: float) -> float:
        """F(now) in ticks (>= 1)."""
        index = int(now_s / self._grid_s)
        if index >= self._block_start + len(self._grid):
            self._extend_to(index)
        value = self._grid[index - self._block_start] + self.impact_ticks
        if self._crash is not None:
            value += self.crash_offset(now_s)
        return value if value > 1.0 else 1.0
