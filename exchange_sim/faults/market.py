"""Order-level faults: an injected counterparty (``AGENT``) that fills orders, and market shocks and STP expiries.

* ``partial_fill``: a Poisson process picks one tracked order resting within ``NEAR_LEVELS`` levels of its side's
  best price and sends an IOC from ``AGENT`` at its price for what trades before it (better levels, orders ahead)
  plus a drawn fraction of its remaining quantity (never all of it): the market moves to the order;
* ``cancel_fill_race``: ``fill_now`` fills an order (within ``NEAR_LEVELS``) completely just before its cancel
  executes;
* ``stp``: a Poisson process picks a tracked order within ``NEAR_LEVELS``, lets ``AGENT`` take what trades before
  it, then sends, in the tracked account's own name, a min-notional IOC against it with ``stpMode`` EXPIRE_BOTH
  (or EXPIRE_MAKER): the resting order expires (EXPIRED_IN_MATCH); injected orders' client ids start with
  ``INJECTED_PREFIX``;
* ``market_shock``: the latent price of the symbol jumps by ``size_bps`` and ``AGENT`` sweeps the book to the new
  level with one IOC; with ``regime`` (not ``none``) the symbol's background flow switches to that regime at the
  shock (a regime change with its gap; ``flash_crash`` makes scheduled crashes reachable from the swarm) and
  back to the regime it had when the fault's window ends. Each switch is a ``regime`` record
  ``{"regime", "s": symbol, "fault": id}`` (the world's own timeline records carry no ``s``).

Fills only ever take orders at or ahead of the chosen one (its level and the better ones, at most ``NEAR_LEVELS``
deep) except the shock's sweep, so the rest of the market is disturbed as little as possible. ``AGENT`` is an
untracked account opened with ample funds only when the scenario needs it (so a session without these faults
has the same engine state).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import simpy

from exchange_sim.engine.types import (
    ATOMS_PER_UNIT,
    AccountId,
    ClientOrderId,
    EngineError,
    Order,
    OrderType,
    PlaceRequest,
    Side,
    StpMode,
    TimeInForce,
)
from exchange_sim.faults.model import Fault, FaultKind

if TYPE_CHECKING:
    from exchange_sim.faults.injector import FaultInjector
    from exchange_sim.market.flow import MarketFlow

AGENT = AccountId("fault-agent")
INJECTED_PREFIX = "x-fault-"  # client ids of orders the injector places in a tracked account's name
AGENT_FUNDS_UNITS = 10**12
NEAR_LEVELS = 2  # partial_fill / stp / the race reach a tracked order at the touch or one level behind it


class MarketActions:
    """The order-level part of a ``FaultInjector``."""

    NEEDS_AGENT = frozenset({FaultKind.PARTIAL_FILL, FaultKind.CANCEL_FILL_RACE, FaultKind.MARKET_SHOCK})

    def __init__(self, injector: FaultInjector, market: MarketFlow | None) -> None:
        self._inj = injector
        self._market = market
        self._ids = itertools.count(1)

    @property
    def _engine(self) -> Any:
        return self._inj.venue.engine

    def open_agent(self) -> None:
        engine = self._engine
        assets = sorted({a for s in engine.symbols for a in (engine.spec(s).base_asset, engine.spec(s).quote_asset)})
        engine.open_account(AGENT, {a: AGENT_FUNDS_UNITS * ATOMS_PER_UNIT for a in assets}, tracked=False,
                            maker_fee_ppm=0, taker_fee_ppm=0)

    def _symbols(self, fault: Fault) -> list[str]:
        symbols: tuple[str, ...] = self._engine.symbols
        return list(symbols) if fault.target == "both" else [s for s in symbols if s == fault.target]

    def _near_touch(self, fault: Fault) -> list[tuple[Order, int]]:
        """Tracked orders resting within ``NEAR_LEVELS`` levels of their side's best price, each with the lots
        that trade before it (the better levels and the orders ahead at its own), sorted by side and priority."""
        engine = self._engine
        found: list[tuple[Order, int]] = []
        tracked = self._inj.venue.tracked_accounts
        for symbol in self._symbols(fault):
            book = engine.book(symbol)
            for side in (Side.BUY, Side.SELL):
                ahead = 0
                for level in itertools.islice(book.levels(side), NEAR_LEVELS):
                    for order in book.orders_at(side, level.price_ticks):
                        if order.account in tracked:
                            found.append((order, ahead))
                        ahead += order.remaining_lots
        return found

    # -- Poisson processes (partial_fill, stp) --
    def poisson(self, index: int, fault: Fault) -> Generator[simpy.Event, Any, None]:
        env = self._inj.venue.runtime.env
        rng = self._inj.rng(index)
        rate = fault.num("rate_per_s")
        while True:
            wait = rng.expovariate(rate)
            end_s = self._inj.end_s(index)  # a triggered fault's window starts at its trigger
            if env.now + wait >= end_s:
                yield env.timeout(max(end_s - env.now, 0.0))
                return
            yield env.timeout(wait)
            if fault.kind is FaultKind.PARTIAL_FILL:
                self._partial_fill(index, fault)
            else:
                self._stp_expire(index, fault)

    def _partial_fill(self, index: int, fault: Fault) -> None:
        rng = self._inj.rng(index)
        candidates = [(o, a) for o, a in self._near_touch(fault) if o.remaining_lots > 1]
        if not candidates or not self._inj.toxic(index):
            return
        order, ahead = rng.choice(candidates)
        low, high = sorted((fault.num("fraction_min"), fault.num("fraction_max")))
        lots = min(max(1, math.floor(rng.uniform(low, high) * order.remaining_lots)), order.remaining_lots - 1)
        if self._take(order, ahead + lots):
            self._inj.hit(index, "partial_fill", a=order.account, c=order.client_order_id, q=lots)

    def fill_now(self, order: Order) -> bool:
        """Fill ``order`` completely (with what trades before it) if it rests within ``NEAR_LEVELS`` of the touch."""
        if order.status.is_terminal:
            return False
        book = self._engine.book(order.symbol)
        ahead = 0
        for level in itertools.islice(book.levels(order.side), NEAR_LEVELS):
            for other in book.orders_at(order.side, level.price_ticks):
                if other.order_id == order.order_id:
                    return self._take(order, ahead + other.remaining_lots)
                ahead += other.remaining_lots
        return False

    def _take(self, order: Order, lots: int) -> bool:
        """AGENT takes ``lots`` at ``order``'s price (an IOC: only that level and better can trade)."""
        request = PlaceRequest(
            account=AGENT, symbol=order.symbol, side=order.side.opposite, type=OrderType.LIMIT, qty_lots=lots,
            price_ticks=order.price_ticks, time_in_force=TimeInForce.IOC,
            client_order_id=ClientOrderId(f"{INJECTED_PREFIX}take-{next(self._ids)}"),
        )
        try:
            self._engine.place(request)
        except EngineError:
            return False
        return True

    def _stp_expire(self, index: int, fault: Fault) -> None:
        rng = self._inj.rng(index)
        candidates = self._near_touch(fault)
        if not candidates or not self._inj.toxic(index):
            return
        order, ahead = rng.choice(candidates)
        if ahead and not self._take(order, ahead):  # AGENT takes what trades before it: the order is now in front
            return
        spec = self._engine.spec(order.symbol)
        price = order.price_ticks
        lots = max(spec.min_qty_lots, -(-spec.min_notional_atoms // (price * spec.quote_atoms_per_tick_lot)))
        request = PlaceRequest(
            account=order.account, symbol=order.symbol, side=order.side.opposite, type=OrderType.LIMIT,
            qty_lots=lots, price_ticks=price, time_in_force=TimeInForce.IOC, stp_mode=StpMode(fault.text("mode")),
            client_order_id=ClientOrderId(f"{INJECTED_PREFIX}stp-{next(self._ids)}"),
        )
        try:
            self._engine.place(request)
        except EngineError as error:
            self._inj.hit(index, "stp_skipped", a=order.account, c=order.client_order_id, code=int(error.code))
            return
        self._inj.hit(index, "stp_expire", a=order.account, c=order.client_order_id)

    # -- market shock --
    def shock(self, index: int, fault: Fault) -> None:
        bps = fault.num("size_bps")
        for symbol in self._symbols(fault):
            book = self._engine.book(symbol)
            best = book.best_bid() if bps < 0 else book.best_ask()
            if self._market is not None and symbol in self._market.flows:
                latent = self._market.flows[symbol].latent
                latent.impact_ticks += self._market.fair_ticks(symbol) * bps / 10_000
            swept = 0
            if best is not None and fault.text("sweep") == "yes":
                moved = best[0] * (1 + bps / 10_000)
                target = math.floor(moved) if bps < 0 else math.ceil(moved)
                side = Side.BUY if bps < 0 else Side.SELL  # the side being swept
                swept = sum(level.qty_lots for level in book.levels(side)
                            if (level.price_ticks >= target if bps < 0 else level.price_ticks <= target))
                spec = self._engine.spec(symbol)  # one order sweeps at most the max notional (a deep recorded book)
                swept = min(swept, spec.max_notional_atoms // (max(target, 1) * spec.quote_atoms_per_tick_lot))
                if swept:
                    self._engine.place(PlaceRequest(
                        account=AGENT, symbol=symbol, side=side.opposite, type=OrderType.LIMIT, qty_lots=swept,
                        price_ticks=max(target, 1), time_in_force=TimeInForce.IOC,
                        client_order_id=ClientOrderId(f"{INJECTED_PREFIX}shock-{next(self._ids)}"),
                    ))
            self._inj.hit(index, "shock", s=symbol, bps=bps, swept=swept)
        if fault.text("regime") != "none" and self._market is not None:
            self._switch_regime(index, fault)

    def _switch_regime(self, index: int, fault: Fault) -> None:
        """Switch the target symbols' flows to the fault's regime now and back when its window ends."""
        market = self._market
        assert market is not None
        flows = {s: market.flows[s] for s in self._symbols(fault) if s in market.flows}
        before = {s: flow.params for s, flow in flows.items()}
        params = market.config.params(fault.text("regime"))
        env = self._inj.venue.runtime.env

        def switch(to: dict[str, Any]) -> None:
            for symbol in sorted(flows):
                flows[symbol].set_regime(to[symbol])
                self._inj.venue.log.record(self._inj.now_us(), "regime",
                                           {"regime": to[symbol].name, "s": symbol, "fault": index})

        def back() -> Generator[simpy.Event, Any, None]:
            yield env.timeout(max(fault.end_s - env.now, 0.0))
            switch(before)

        switch(dict.fromkeys(flows, params))
        env.process(back())
