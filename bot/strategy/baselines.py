"""Baseline strategies to compare the reference pipeline with: fixed spread, Avellaneda-Stoikov and GLFT.

Each is a ``QuoteStrategy``: it first applies the ``GuardStage`` (HARD halts, SOFT per ``guard.soft_reduce_only``),
then computes a reservation price and a total spread in ticks, and hands them to a one-level ``LadderStage``,
which puts them on the tick grid with the same guarantees as the reference pipeline (bid < mid < ask, never
crossing the touch, min size and notional). No queue nudges, no band, no refresh tolerance.

Units: prices in ticks; ``sigma`` is the context's ``volatility_bps`` in ticks per sqrt(second)::

    sigma = volatility_bps * mid / 1e4 / sqrt(sigma_interval_s)

and ``q = (inventory_lots - target_lots) / (q_unit_orders * order_lots)``: inventory counted in quote sizes (the
symbol's order size, ``bot.strategy.sizes``; each baseline quotes one level of it). A non-finite result (e.g. an
infinite volatility) halts with ``<name>:bad_input`` rather than quoting from it.

**Avellaneda-Stoikov (2008)**, rolling horizon ``T - t = horizon_s`` every cycle::

    r      = s - q * gamma * sigma^2 * (T - t)
    spread = gamma * sigma^2 * (T - t) + (2 / gamma) * ln(1 + gamma / k)      (total, bid to ask)

**GLFT** (Gueant, Lehalle, Fernandez-Tapia 2013; the closed form used in hftbacktest's examples, order size
``Delta = 1`` unit of q)::

    c1 = (1 / gamma) * ln(1 + gamma / k)
    c2 = sqrt(gamma / (2 * A * k) * (1 + gamma / k) ** (k / gamma + 1))
    half_spread = c1 + sigma * c2 / 2,   skew = sigma * c2,   r = s - skew * q

with ``A`` (fills per second) and ``k`` (1/tick) from the fill intensity ``lambda(delta) = A * exp(-k * delta)``.
"""

from __future__ import annotations

import math

from bot.core.types import SymbolInfo
from bot.strategy.config import (
    AvellanedaStoikovConfig,
    FixedSpreadConfig,
    GLFTConfig,
    GuardConfig,
    LadderConfig,
)
from bot.strategy.context import QuoteContext
from bot.strategy.gates import GuardStage
from bot.strategy.ladder import LadderStage

__all__ = ["AvellanedaStoikovStrategy", "FixedSpreadStrategy", "GLFTStrategy"]

_INF = math.inf


class _Baseline:
    """Guard, then ``_price`` (reservation and total spread in ticks), then a one-level ladder."""

    name = "baseline"

    def __init__(self, info: SymbolInfo, guard: GuardConfig, size_lots: int, target_inventory_lots: int) -> None:
        self.info = info
        self._guard = GuardStage(guard, target_inventory_lots=target_inventory_lots, base_size_lots=size_lots)
        # pinned, not the reference's ladder defaults: a change to the reference never moves a baseline (order age:
        # Hummingbot's pure market making default, 1800 s)
        ladder = LadderConfig(levels=1, refresh_tolerance_ticks=0, max_order_age_s=1800.0)
        self._ladder = LadderStage(ladder, info, fallback_spread_bps=1.0, size_lots=size_lots)
        self._target = target_inventory_lots

    def _q_lots(self, ctx: QuoteContext) -> int:
        target = self._target if ctx.target_inventory_lots is None else ctx.target_inventory_lots
        return ctx.inventory_lots - target

    def _price(self, ctx: QuoteContext) -> tuple[float, float]:
        raise NotImplementedError

    def decide(self, ctx: QuoteContext) -> QuoteContext:
        ctx = self._guard.process(ctx)
        if ctx.halted:
            return ctx
        mid = ctx.mid_ticks
        if not 0 < mid < _INF:
            return ctx.halt(f"{self.name}:bad_input")
        reservation, spread_ticks = self._price(ctx)
        if not (-_INF < reservation < _INF and 0 < spread_ticks < _INF):
            return ctx.halt(f"{self.name}:bad_input")
        ctx.reservation_ticks = reservation
        ctx.spread_bps = spread_ticks / mid * 1e4
        ctx.bid_nudge_ticks = ctx.ask_nudge_ticks = 0
        return self._ladder.process(ctx)

    def _sigma_ticks(self, ctx: QuoteContext, per_sqrt_s: float) -> float:
        """Volatility in ticks per sqrt(second); ``per_sqrt_s`` is ``1 / sqrt(sigma_interval_s)``."""
        return abs(ctx.volatility_bps) * ctx.mid_ticks / 1e4 * per_sqrt_s


class FixedSpreadStrategy(_Baseline):
    """Symmetric quotes at ``mid -+ half_spread_bps``, one level, no skew (module docstring)."""

    name = "fixed_spread"

    def __init__(self, config: FixedSpreadConfig, info: SymbolInfo, guard: GuardConfig | None = None, *,
                 size_lots: int, target_inventory_lots: int = 0) -> None:
        super().__init__(info, guard or GuardConfig(), size_lots, target_inventory_lots)
        self.config = config
        self._half_bps = config.half_spread_bps

    def _price(self, ctx: QuoteContext) -> tuple[float, float]:
        return ctx.mid_ticks, 2 * self._half_bps * ctx.mid_ticks / 1e4


class AvellanedaStoikovStrategy(_Baseline):
    """Avellaneda-Stoikov reservation price and spread with a rolling horizon (module docstring)."""

    name = "avellaneda_stoikov"

    def __init__(self, config: AvellanedaStoikovConfig, info: SymbolInfo, guard: GuardConfig | None = None, *,
                 size_lots: int, target_inventory_lots: int = 0) -> None:
        super().__init__(info, guard or GuardConfig(), size_lots, target_inventory_lots)
        self.config = config
        self._gamma = config.gamma
        self._horizon_s = config.horizon_s
        self._per_sqrt_s = 1 / math.sqrt(config.sigma_interval_s)
        self._q_unit = config.q_unit_orders * size_lots
        self._liquidity_ticks = (2 / config.gamma) * math.log1p(config.gamma / config.k)

    def _price(self, ctx: QuoteContext) -> tuple[float, float]:
        sigma = self._sigma_ticks(ctx, self._per_sqrt_s)
        risk = self._gamma * sigma * sigma * self._horizon_s  # gamma * sigma^2 * (T - t), ticks per unit of q
        q = self._q_lots(ctx) / self._q_unit
        return ctx.mid_ticks - q * risk, risk + self._liquidity_ticks


class GLFTStrategy(_Baseline):
    """GLFT closed-form half-spread and inventory skew (module docstring)."""

    name = "glft"

    def __init__(self, config: GLFTConfig, info: SymbolInfo, guard: GuardConfig | None = None, *,
                 size_lots: int, target_inventory_lots: int = 0) -> None:
        super().__init__(info, guard or GuardConfig(), size_lots, target_inventory_lots)
        self.config = config
        gamma, k = config.gamma, config.k
        self._c1 = math.log1p(gamma / k) / gamma
        self._c2 = math.sqrt(gamma / (2 * config.a_per_s * k) * (1 + gamma / k) ** (k / gamma + 1))
        self._per_sqrt_s = 1 / math.sqrt(config.sigma_interval_s)
        self._q_unit = config.q_unit_orders * size_lots

    def _price(self, ctx: QuoteContext) -> tuple[float, float]:
        sigma = self._sigma_ticks(ctx, self._per_sqrt_s)
        skew = sigma * self._c2
        q = self._q_lots(ctx) / self._q_unit
        return ctx.mid_ticks - skew * q, 2 * (self._c1 + skew / 2)
