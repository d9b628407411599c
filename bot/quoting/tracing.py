"""Tracing wrappers: OpenTelemetry spans around pipeline stages and venue calls, added at wiring time.

The strategy never imports the metrics package (it stays pure); when tracing is on, the wiring wraps each
stage of a ``QuotePipeline`` in ``TracedStage`` (span ``stage.<name>``) and the venue in ``TracedVenue`` (span
``venue.<endpoint>``). Both are children of the quote loop's ``quote_cycle`` span (``SymbolQuoter``), so one
decided cycle is one tree: ``quote_cycle`` -> ``stage.*`` and ``venue.*``. With tracing off nothing is wrapped
and the cost is zero.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.connectors.forwarding import ForwardingVenue
from bot.core.types import (
    Balance,
    BookSnapshot,
    CancelReplaceOutcome,
    ClientOrderId,
    Fill,
    NewOrder,
    SymbolInfo,
    TradeId,
    VenueOrder,
)
from bot.interfaces import Venue
from bot.metrics.tracing import BotTracer
from bot.strategy import QuoteContext, QuotePipeline, QuoteStage, QuoteStrategy

__all__ = ["TracedStage", "TracedVenue", "trace_strategy"]


class TracedStage:
    """A pipeline stage inside a ``stage.<name>`` span."""

    def __init__(self, stage: QuoteStage, tracer: BotTracer) -> None:
        self._stage = stage
        self._tracer = tracer
        self.name = stage.name

    def process(self, ctx: QuoteContext) -> QuoteContext:
        with self._tracer.stage(self.name):
            return self._stage.process(ctx)


class _TracedDecision:
    """A strategy that is not a pipeline (a baseline): one ``stage.<name>`` span around ``decide``."""

    def __init__(self, strategy: QuoteStrategy, tracer: BotTracer) -> None:
        self._strategy = strategy
        self._tracer = tracer
        self.name = strategy.name

    def decide(self, ctx: QuoteContext) -> QuoteContext:
        with self._tracer.stage(self.name):
            return self._strategy.decide(ctx)


def trace_strategy(
    strategy: QuoteStrategy, tracer: BotTracer, timer: Callable[[], int] | None = None
) -> QuoteStrategy:
    """``strategy`` with spans per stage (pipelines) or per decision (baselines); unchanged if tracing is off."""
    if not tracer.enabled:
        return strategy
    if isinstance(strategy, QuotePipeline):
        stages: Sequence[QuoteStage] = [TracedStage(stage, tracer) for stage in strategy.stages]
        return QuotePipeline(stages, timer, name=strategy.name)
    return _TracedDecision(strategy, tracer)


class TracedVenue(ForwardingVenue):
    """A ``Venue`` whose requests run inside ``venue.<endpoint>`` spans (streams and ``close`` are forwarded)."""

    def __init__(self, venue: Venue, tracer: BotTracer) -> None:
        super().__init__(venue)
        self._tracer = tracer

    async def symbols(self) -> list[SymbolInfo]:
        with self._tracer.venue_call("exchangeInfo"):
            return await self.inner.symbols()

    async def book(self, symbol: str, limit: int = 100) -> BookSnapshot:
        with self._tracer.venue_call("depth", symbol=symbol):
            return await self.inner.book(symbol, limit)

    async def place(self, order: NewOrder) -> VenueOrder:
        with self._tracer.venue_call("place", symbol=order.symbol, client_order_id=order.client_order_id):
            return await self.inner.place(order)

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        with self._tracer.venue_call("cancel", symbol=symbol, client_order_id=client_order_id):
            return await self.inner.cancel(symbol, client_order_id)

    async def cancel_replace(
        self, symbol: str, cancel_client_order_id: ClientOrderId, new: NewOrder
    ) -> CancelReplaceOutcome:
        with self._tracer.venue_call("cancelReplace", symbol=symbol, client_order_id=new.client_order_id):
            return await self.inner.cancel_replace(symbol, cancel_client_order_id, new)

    async def query(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder:
        with self._tracer.venue_call("query", symbol=symbol, client_order_id=client_order_id):
            return await self.inner.query(symbol, client_order_id)

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        with self._tracer.venue_call("openOrders", symbol=symbol):
            return await self.inner.open_orders(symbol)

    async def balances(self) -> dict[str, Balance]:
        with self._tracer.venue_call("account"):
            return await self.inner.balances()

    async def fills(self, symbol: str, from_trade_id: TradeId | None = None) -> list[Fill]:
        with self._tracer.venue_call("myTrades", symbol=symbol):
            return await self.inner.fills(symbol, from_trade_id)

    async def server_time_ms(self) -> int:
        with self._tracer.venue_call("time"):
            return await self.inner.server_time_ms()

    def __getattr__(self, name: str) -> Any:  # connector extras (sync_time, weights, ...) pass through
        return getattr(self.inner, name)
