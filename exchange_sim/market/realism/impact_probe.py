"""Metaorder experiments: how far an account's marketable orders move the mid, and how the move decays.

A tracked account buys (or sells) a notional Q in ``slices`` equal market orders spread over ``duration_s``,
starting at ``start_s``. The same seed is run without the metaorder: the fundamental value V is the same path
in both runs (latent.py), so the difference of the two mids is the metaorder's impact, free of the price's
own diffusion (the flows differ after the first child order, which adds noise but no bias). Signs alternate
between seeds (buy on even seeds, sell on odd) and impacts are signed in the metaorder's direction.

Reported per metaorder: the impact at the last child order (peak) and ``after_s`` later (decayed), in ticks,
beside the square-root law's prediction Y sigma_day sqrt(Q / V_day) of the regime.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId, EngineError, OrderType, PlaceRequest, Side
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.realism import stats
from exchange_sim.market.realism.record import Recording, record
from exchange_sim.world import SimWorld

TRADER = AccountId("probe.metaorder")


@dataclass(frozen=True, slots=True)
class MetaorderImpact:
    regime: str
    seed: int
    notional_quote: float
    peak_ticks: float
    decayed_ticks: float
    predicted_ticks: float


def _actor(q_quote: float, slices: int, start_s: float, duration_s: float, side: Side,
           symbol: str) -> Callable[[SimWorld], Coroutine[Any, Any, None]]:
    async def act(world: SimWorld) -> None:
        world.venue.open_account(TRADER, {"USDT": 10**9 * ATOMS_PER_UNIT, "BTC": 10**5 * ATOMS_PER_UNIT,
                                          "ETH": 10**6 * ATOMS_PER_UNIT, "SOL": 10**7 * ATOMS_PER_UNIT})
        await asyncio.sleep(start_s)
        gap = duration_s / slices
        for _ in range(slices):
            book = world.engine.book(symbol)
            touch = book.best_ask() if side is Side.BUY else book.best_bid()
            if touch is not None:
                spec = world.engine.spec(symbol)
                lots = max(1, int(q_quote / slices / (touch[0] * spec.quote_atoms_per_tick_lot / ATOMS_PER_UNIT)))
                with contextlib.suppress(EngineError):  # an empty side: this slice is skipped
                    world.engine.place(PlaceRequest(account=TRADER, symbol=symbol, side=side,
                                                    type=OrderType.MARKET, qty_lots=lots))
            await asyncio.sleep(gap)
    return act


def _window_mean(rec: Recording, t_s: float, half_s: float = 5.0) -> float:
    i0 = max(0, int((t_s - half_s) / rec.step_s))
    i1 = min(len(rec.mids), int((t_s + half_s) / rec.step_s) + 1)
    return stats.mean(rec.mids[i0:i1])


def metaorder_impact(regime: str, seed: int, notional_quote: float, *, slices: int = 20, start_s: float = 120.0,
                     duration_s: float = 120.0, after_s: float = 600.0, symbol: str = "BTCUSDT") -> MetaorderImpact:
    """One metaorder against the same seed without it (see module docstring)."""
    side = Side.BUY if seed % 2 == 0 else Side.SELL
    sign = 1.0 if side is Side.BUY else -1.0
    minutes = (start_s + duration_s + after_s) / 60.0 + 0.5
    market = MarketConfig(symbols=(symbol,), regime=regime)
    base = record(regime, seed=seed, minutes=minutes, market=market, symbol=symbol)
    probe = record(regime, seed=seed, minutes=minutes, market=market, symbol=symbol,
                   actor=_actor(notional_quote, slices, start_s, duration_s, side, symbol))
    end = start_s + duration_s

    def impact(t: float) -> float:
        return sign * ((_window_mean(probe, t) - _window_mean(probe, start_s - 5.0))
                       - (_window_mean(base, t) - _window_mean(base, start_s - 5.0)))

    p = market.params(regime)
    predicted = p.metaorder_impact_y * p.daily_sigma_ticks * math.sqrt(notional_quote / p.daily_volume_quote)
    return MetaorderImpact(regime, seed, notional_quote, impact(end), impact(end + after_s), predicted)
