"""NautilusTrader's side: the same workload through its ``BacktestEngine`` (needs the ``bench-nautilus`` extra).

What runs: one ``BacktestEngine`` (logging bypassed, post-run analysis off, everything else default: risk
engine, cache, message bus), one venue BINANCE (CASH account, NETTING, ``L1_MBP`` book: every quote tick sets
the top of book, resting orders match against it), the instrument ``TestInstrumentProvider.btcusdt_binance()``
(tick 0.01, size step 0.000001), one ``QuoteTick`` per workload update ``interval_ms`` apart, and
``RequoteMaker``: on every ``requote_every``-th tick ``cancel_order`` for each of its open quotes (as ours; in
1.221 ``cancel_all_orders`` costs time in proportion to every order ever submitted, see docs/PERFORMANCE.md),
then up to two post-only GTC limits of ``MAKER_QTY_LOTS`` at the tick's bid and ask (``workload.maker_quotes``;
``workload.quote_sides`` with the position counted from its own fills applies the inventory cap).
Nautilus fills a resting buy when the ask falls to or below it and a resting sell when the bid rises to or
above it, as our engine does when the LP's new order reaches the quote. No latency model, as on our side.

Counts come from the strategy's own event handlers (``on_order_filled`` / ``on_order_canceled``); the cache's
counts are reported next to them (``checks``). Errors: a denied or rejected quote raises ``RuntimeError``; an
import error means the extra is not installed (``pip install -e '.[bench-nautilus]'``).
"""

from __future__ import annotations

import dataclasses
import time
from decimal import Decimal
from importlib.metadata import version
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine  # type: ignore[import-not-found,unused-ignore]
from nautilus_trader.common.config import LoggingConfig  # type: ignore[import-not-found,unused-ignore]
from nautilus_trader.config import BacktestEngineConfig, StrategyConfig  # type: ignore[import-not-found,unused-ignore]
from nautilus_trader.model.currencies import BTC, USDT  # type: ignore[import-not-found,unused-ignore]
from nautilus_trader.model.data import QuoteTick  # type: ignore[import-not-found,unused-ignore]
from nautilus_trader.model.enums import AccountType, BookType, OmsType, OrderSide  # type: ignore[import-not-found,unused-ignore]
from nautilus_trader.model.identifiers import InstrumentId, Venue  # type: ignore[import-not-found,unused-ignore]
from nautilus_trader.model.objects import FIXED_PRECISION, Money, Price, Quantity  # type: ignore[import-not-found,unused-ignore]
from nautilus_trader.test_kit.providers import TestInstrumentProvider  # type: ignore[import-not-found,unused-ignore]
from nautilus_trader.trading.strategy import Strategy  # type: ignore[import-not-found,unused-ignore]

from bench.side_by_side.result import SideResult
from bench.side_by_side.workload import (
    MAKER_QTY_LOTS,
    STEP_SIZE,
    TICK_SIZE,
    TopOfBook,
    WorkloadConfig,
    maker_quotes,
    quote_sides,
    requote_due,
    top_of_book_updates,
)
from harness.memory import peak_rss_mb, rss_mb

EPOCH_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z: the first tick is one interval after it
PRICE_RAW_PER_TICK = int(TICK_SIZE * 10**FIXED_PRECISION)  # Nautilus raw values are fixed-point integers
QTY_RAW_PER_LOT = int(STEP_SIZE * 10**FIXED_PRECISION)


class RequoteMakerConfig(StrategyConfig, frozen=True):  # type: ignore[misc,unused-ignore]
    """The maker's parameters (Nautilus configs are frozen msgspec structs)."""

    instrument_id: InstrumentId
    requote_every: int
    inventory_cap_quotes: int
    quote_qty: Decimal


class RequoteMaker(Strategy):  # type: ignore[misc,unused-ignore]
    """Cancels everything and joins the touch on both sides on every ``requote_every``-th quote tick."""

    def __init__(self, config: RequoteMakerConfig) -> None:
        super().__init__(config)
        self.seen = self.submitted = self.fills = self.cancels = self.refused = 0
        self.position_quotes = 0  # filled buys minus filled sells (each quote fills whole, in one fill)
        self.quotes: list[Any] = []  # this cycle's two quotes

    def on_start(self) -> None:
        self.instrument = self.cache.instrument(self.config.instrument_id)
        self.qty = self.instrument.make_qty(self.config.quote_qty)
        self.subscribe_quote_ticks(self.config.instrument_id)

    def on_quote_tick(self, tick: Any) -> None:
        self.seen += 1
        if not requote_due(self.seen, self.config.requote_every):
            return
        for order in self.quotes:  # cancel every open quote, as ours does (cheaper than ``cancel_all_orders``)
            if order.is_open:
                self.cancel_order(order)
        self.quotes.clear()
        bid_ticks, ask_ticks = maker_quotes(_top(tick))
        want_bid, want_ask = quote_sides(self.position_quotes, self.config.inventory_cap_quotes)
        for side, ticks, wanted in ((OrderSide.BUY, bid_ticks, want_bid), (OrderSide.SELL, ask_ticks, want_ask)):
            if not wanted:
                continue
            price = Price.from_raw(ticks * PRICE_RAW_PER_TICK, self.instrument.price_precision)
            order = self.order_factory.limit(self.config.instrument_id, side, self.qty, price, post_only=True)
            self.submit_order(order)
            self.quotes.append(order)
            self.submitted += 1

    def on_order_filled(self, event: Any) -> None:
        self.fills += 1
        self.position_quotes += 1 if event.order_side == OrderSide.BUY else -1

    def on_order_canceled(self, event: Any) -> None:
        self.cancels += 1

    def on_order_rejected(self, event: Any) -> None:
        self.refused += 1

    def on_order_denied(self, event: Any) -> None:
        self.refused += 1


def _top(tick: Any) -> TopOfBook:
    """The workload's view of a quote tick (integer ticks), so the maker rule is the shared function."""
    return TopOfBook(tick.bid_price.raw // PRICE_RAW_PER_TICK, 0, tick.ask_price.raw // PRICE_RAW_PER_TICK, 0)


def quote_ticks(config: WorkloadConfig, instrument_id: Any, price_precision: int, size_precision: int) -> list[Any]:
    """The workload as ``QuoteTick``s, ``interval_ms`` apart from ``EPOCH_NS``."""
    interval_ns = config.interval_ms * 1_000_000
    price, qty = Price.from_raw, Quantity.from_raw
    return [
        QuoteTick(instrument_id, price(u.bid_ticks * PRICE_RAW_PER_TICK, price_precision),
                  price(u.ask_ticks * PRICE_RAW_PER_TICK, price_precision),
                  qty(u.bid_lots * QTY_RAW_PER_LOT, size_precision), qty(u.ask_lots * QTY_RAW_PER_LOT, size_precision),
                  EPOCH_NS + n * interval_ns, EPOCH_NS + n * interval_ns)
        for n, u in enumerate(top_of_book_updates(config), 1)
    ]


def run_nautilus(config: WorkloadConfig) -> SideResult:
    """Run the workload on NautilusTrader's backtest engine in this process."""
    setup_started = time.perf_counter()
    engine = BacktestEngine(BacktestEngineConfig(
        logging=LoggingConfig(log_level="ERROR", bypass_logging=True), run_analysis=False,
    ))
    venue = Venue("BINANCE")
    engine.add_venue(venue=venue, oms_type=OmsType.NETTING, account_type=AccountType.CASH,
                     starting_balances=[Money(1_000, BTC), Money(10_000_000, USDT)], book_type=BookType.L1_MBP)
    instrument = TestInstrumentProvider.btcusdt_binance()
    engine.add_instrument(instrument)
    engine.add_data(quote_ticks(config, instrument.id, instrument.price_precision, instrument.size_precision),
                    sort=False)
    maker = RequoteMaker(RequoteMakerConfig(instrument_id=instrument.id, requote_every=config.requote_every,
                                            inventory_cap_quotes=config.inventory_cap_quotes,
                                            quote_qty=STEP_SIZE * MAKER_QTY_LOTS))
    engine.add_strategy(maker)
    setup_s = time.perf_counter() - setup_started
    rss_before = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    engine.run()
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    cache = engine.cache
    if maker.refused:
        raise RuntimeError(f"{maker.refused} maker quotes were denied or rejected, the comparison is void")
    result = SideResult(
        side="nautilus", engine=f"nautilus_trader {version('nautilus_trader')}", updates=maker.seen, wall_s=wall_s,
        cpu_s=cpu_s, setup_s=setup_s, orders=maker.submitted, cancels=maker.cancels, fills=maker.fills,
        open_at_end=cache.orders_open_count(), rss_before_run_mb=rss_before, peak_rss_mb=0.0,
        checks={"cache_orders": cache.orders_total_count(), "cache_orders_closed": cache.orders_closed_count(),
                "cache_positions": cache.positions_total_count(),
                "position_fills_held": sum(p.event_count for p in cache.positions()),
                "position_quotes": maker.position_quotes,
                "book_type": "L1_MBP", "account": "CASH", "oms": "NETTING"},
    )
    engine.dispose()
    return dataclasses.replace(result, peak_rss_mb=peak_rss_mb())
