"""The latent price of one symbol: the fundamental value V that informed traders know and the price F that
liquidity providers chase.

    V(t) = V_grid(t) + P + C(t)          F(t) = V(t) + I(t)

* ``V_grid`` is a jump-diffusion with stochastic volatility, sampled on a fixed grid of ``grid_s`` seconds
  from its own random stream:
      V_{k+1} = V_k + drift*dt + sigma_t*sqrt(dt)*Z_k + J_k,   sigma_t = sigma * exp(h_t - s^2)
  with J_k a normal jump with probability jump_rate*dt (its size scaled by sigma_t/sigma too). The log
  volatility h_t = sum_j h_j is a sum of Ornstein-Uhlenbeck components with time scales T_j spread over
  decades (1 min to 6 h by default), updated once per second, each of stationary variance s^2/n:
      h_j <- h_j * exp(-1/T_j) + sqrt(1 - exp(-2/T_j)) * (s / sqrt(n)) * Z
  A superposition of time scales gives an autocorrelation of |returns| that decays slowly, close to a power
  law over the range of T_j (volatility clustering, as in multifractal models: Calvet & Fisher 2004;
  Bacry, Delour & Muzy 2001); E[sigma_t^2] = sigma^2 because Var(h) = s^2. Because the grid and its stream do
  not depend on who trades, the same seed gives the same information path whatever strategy runs.
* ``P`` (``impact_ticks``) is a permanent offset: a market shock injected by a fault.
* ``C`` is the flash-crash overlay: a linear fall of ``depth`` ticks over ``fall_s``, starting ``delay_s``
  after the regime starts (the first regime included), then a linear recovery of ``recovery_fraction *
  depth`` over ``recovery_s``. Its intensity k(t) (1 during the fall, falling linearly to 0 over the
  recovery) drives the crash's selling pressure and liquidity withdrawal in the flow.
* ``I`` is the decaying impact of takers (impact.py): uninformed flow moves F, not V, and only for a while.

F is kept at least 1 tick. Values are floats in ticks: model quantities, never prices that are traded or
booked (orders are placed at integer ticks derived from them).
"""

from __future__ import annotations

import functools
import math
import random

from exchange_sim.market.impact import TransientImpact
from exchange_sim.market.regimes import RegimeParams

_BLOCK_S = 60  # seconds of grid generated at a time


@functools.lru_cache(maxsize=64)
def _ou_steps(timescales_s: tuple[float, ...], s: float) -> tuple[tuple[float, float], ...]:
    """(phi_j, sqrt(1 - phi_j^2) * s) of each log-volatility component for a one-second step."""
    out = []
    for scale in timescales_s:
        phi = math.exp(-1.0 / scale)
        out.append((phi, math.sqrt(1.0 - phi * phi) * s))
    return tuple(out)


def _meta_scale(params: RegimeParams) -> float:
    """Y * sigma_day / sqrt(V_day): the square-root law's coefficient (impact.py)."""
    return params.metaorder_impact_y * params.daily_sigma_ticks / math.sqrt(params.daily_volume_quote)


class LatentPrice:
    """Lazily generated fundamental value V and traded-against price F, in ticks."""

    __slots__ = ("_block_start", "_crash", "_grid", "_grid_s", "_params", "_rng", "_steps_per_s", "_vol",
                 "_volume_scale", "impact", "impact_ticks")

    def __init__(self, initial_ticks: float, params: RegimeParams, rng: random.Random, grid_s: float,
                 *, volume_scale: float = 1.0) -> None:
        """``volume_scale``: the symbol's flow size scale (V_day of the square-root law scales with it)."""
        self._rng = rng
        self._grid_s = grid_s
        self._steps_per_s = max(1, round(1.0 / grid_s))
        self._params = params
        self._grid: list[float] = [float(initial_ticks)]
        self._block_start = 0  # grid index of _grid[0]
        self._crash: tuple[float, float, float, float, float] | None = None
        s = params.vol_of_vol / math.sqrt(len(params.vol_timescales_s))
        self._vol = [s * rng.gauss(0.0, 1.0) for _ in params.vol_timescales_s]  # stationary start
        self._volume_scale = volume_scale
        self.impact_ticks = 0.0
        self.impact = TransientImpact(params.kernel, params.metaorder_decay_s, self._meta_scale(params))
        self._start_crash(params, 0.0)

    def _meta_scale(self, params: RegimeParams) -> float:
        """Y * sigma_day / sqrt(V_day): the square-root law's coefficient (impact.py)."""
        volume = params.daily_volume_quote * self._volume_scale
        return params.metaorder_impact_y * params.daily_sigma_ticks / math.sqrt(volume)

    def _start_crash(self, params: RegimeParams, now_s: float) -> None:
        if params.crash_depth_ticks > 0:
            self.impact_ticks += self.crash_offset(now_s)  # what an earlier crash has not recovered stays
            self._crash = (
                now_s + params.crash_delay_s, params.crash_depth_ticks, params.crash_fall_s,
                params.crash_recovery_fraction, params.crash_recovery_s,
            )

    def set_regime(self, params: RegimeParams, now_s: float) -> None:
        """Switch the grid's dynamics from the next grid step; start a crash overlay if the regime has one."""
        self._params = params
        keep = int(now_s / self._grid_s) - self._block_start + 1
        if 0 < keep < len(self._grid):
            del self._grid[keep:]  # values drawn ahead under the old regime are discarded
        if len(self._vol) != len(params.vol_timescales_s):
            s = params.vol_of_vol / math.sqrt(len(params.vol_timescales_s))
            self._vol = [s * self._rng.gauss(0.0, 1.0) for _ in params.vol_timescales_s]
        self.impact.configure(params.kernel, params.metaorder_decay_s, self._meta_scale(params), now_s)
        self._start_crash(params, now_s)

    def _vol_factor(self) -> float:
        """One second of the log-volatility OU components; returns sigma_t / sigma = exp(h - s^2)."""
        p = self._params
        n = len(p.vol_timescales_s)
        s = p.vol_of_vol / math.sqrt(n)
        gauss = self._rng.gauss
        vol = self._vol
        h = 0.0
        for j, (phi, shock) in enumerate(_ou_steps(p.vol_timescales_s, s)):
            vol[j] = vol[j] * phi + shock * gauss(0.0, 1.0)
            h += vol[j]
        return math.exp(h - p.vol_of_vol**2)

    def _extend_to(self, index: int) -> None:
        grid = self._grid
        p = self._params
        dt = self._grid_s
        drift = p.drift_ticks_per_s * dt
        base_vol = p.sigma_ticks_per_sqrt_s * math.sqrt(dt)
        jump_p = p.jump_rate_per_s * dt
        gauss = self._rng.gauss
        rand = self._rng.random
        steps = self._steps_per_s
        while self._block_start + len(grid) - 1 < index:
            if len(grid) > _BLOCK_S * steps:  # keep memory bounded: drop all but the last value
                self._block_start += len(grid) - 1
                del grid[:-1]
            x = grid[-1]
            for _ in range(_BLOCK_S):
                factor = self._vol_factor()
                vol = base_vol * factor
                for _ in range(steps):
                    x += drift + vol * gauss(0.0, 1.0)
                    if jump_p and rand() < jump_p:
                        x += gauss(0.0, p.jump_sigma_ticks * factor)
                    grid.append(x)

    def crash_offset(self, now_s: float) -> float:
        """C(now): the flash-crash overlay in ticks (0 without a crash)."""
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

    def crash_intensity(self, now_s: float) -> float:
        """k(now) in [0, 1]: 1 during the fall, then linearly back to 0 over the recovery (0 without a crash)."""
        if self._crash is None:
            return 0.0
        start, _, fall_s, _, recover_s = self._crash
        t = now_s - start
        if t <= 0:
            return 0.0
        if t < fall_s:
            return 1.0
        return max(0.0, 1.0 - (t - fall_s) / recover_s)

    def value(self, now_s: float) -> float:
        """V(now) in ticks (>= 1): the fundamental value informed traders know."""
        index = int(now_s / self._grid_s)
        if index >= self._block_start + len(self._grid):
            self._extend_to(index)
        value = self._grid[index - self._block_start] + self.impact_ticks
        if self._crash is not None:
            value += self.crash_offset(now_s)
        return value if value > 1.0 else 1.0

    def at(self, now_s: float) -> float:
        """F(now) = V + I in ticks (>= 1): the price liquidity providers chase."""
        value = self.value(now_s) + self.impact.at(now_s)
        return value if value > 1.0 else 1.0
