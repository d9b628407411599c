"""A simulated session: the unchanged bot on the in-process simulated exchange, in virtual time, with a summary.

``run_sim_session`` builds a ``SimWorld`` (market model + matching engine, seeded), opens the bot's account with
the configured balances and fee tier, connects a ``SimConnector``, builds the ``AppContext``, then starts the
order manager (reconcile first), one ``MarketData`` and one ``SymbolQuoter`` per symbol, runs for the session's
simulated duration and stops the bot the orderly way (cancel all, verify). Everything follows from the seed: the
same seed and config give the same event log, byte for byte.

The summary (``SessionSummary``) is computed from the bot's own books (PnL trackers) and cross-checked against
the venue: the bot's position per symbol must equal the venue's signed trades of the bot's account.

Errors: ``BotError(CONFIG_INVALID)`` for symbols the simulator does not list; anything the bot raises ends the
session and propagates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import AppContext
from bot.config import BotConfig
from bot.connectors.sim import SimConnector
from bot.core.clock import LoopClock
from bot.core.errors import BotError, ErrorCode
from bot.execution.state import StateStore
from bot.market.data import MarketData
from bot.quoting.latency import LatencyHistogram
from bot.quoting.quoter import SymbolQuoter
from bot.strategy import build_strategy
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId, TradeId
from exchange_sim.engine.types import Side as SimSide
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.symbols import DEFAULT_SYMBOLS
from exchange_sim.world import SimWorld

__all__ = ["SessionSummary", "SymbolSummary", "run_sim_session"]

PROGRESS_STEP_S = 60.0  # simulated seconds between progress callbacks


@dataclass(frozen=True, slots=True)
class SymbolSummary:
    symbol: str
    net_pnl_quote: float
    net_bps: float
    traded_notional_quote: float
    maker_fills: int
    taker_fills: int
    slippage_bps: float
    max_abs_inventory_base: float
    max_abs_inventory_lots: int
    hard_limit_lots: int
    final_inventory_lots: int
    venue_position_lots: int
    drawdown_quote: float
    cycles: int
    decisions: int
    replaces: int


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """What a simulated session did: per-symbol results, totals, guards, latency, and how fast it ran."""

    seed: int
    hours: float
    regime: str
    strategy: str
    symbols: tuple[SymbolSummary, ...]
    guard_triggers: dict[str, int]  # "LEVEL:reason" -> rising edges
    halts: dict[str, int]  # strategy halts by reason
    pulls: dict[str, int]  # quote pulls on bad market data by reason
    errors: dict[str, int]  # venue errors by code
    latency: dict[str, dict[str, float]]  # component -> count/mean/p50/p95/p99/max
    orders_placed: int
    orders_cancelled: int
    digest: str
    wall_s: float
    book_events: int
    stop_verified: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def net_pnl_quote(self) -> float:
        return sum(s.net_pnl_quote for s in self.symbols)

    @property
    def traded_notional_quote(self) -> float:
        return sum(s.traded_notional_quote for s in self.symbols)

    @property
    def net_bps(self) -> float:
        """Net PnL per traded notional over all symbols, in bps (0 without trading)."""
        notional = self.traded_notional_quote
        return 1e4 * self.net_pnl_quote / notional if notional else 0.0

    @property
    def maker_fills(self) -> int:
        return sum(s.maker_fills for s in self.symbols)

    @property
    def taker_fills(self) -> int:
        return sum(s.taker_fills for s in self.symbols)

    @property
    def speedup(self) -> float:
        return self.hours * 3600 / self.wall_s if self.wall_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: every field plus the totals."""
        return {
            "seed": self.seed, "hours": self.hours, "regime": self.regime, "strategy": self.strategy,
            "net_pnl_quote": self.net_pnl_quote, "net_bps": self.net_bps,
            "traded_notional_quote": self.traded_notional_quote, "maker_fills": self.maker_fills,
            "taker_fills": self.taker_fills,
            "symbols": [
                {k: getattr(s, k) for k in SymbolSummary.__slots__}
                for s in self.symbols
            ],
            "guard_triggers": self.guard_triggers, "halts": self.halts, "pulls": self.pulls, "errors": self.errors,
            "latency": self.latency, "orders_placed": self.orders_placed, "orders_cancelled": self.orders_cancelled,
            "digest": self.digest, "wall_s": self.wall_s, "speedup": self.speedup, "book_events": self.book_events,
            "stop_verified": self.stop_verified, **self.extra,
        }


def _fee_ppm(bps: Any) -> int:
    return round(float(bps) * 100)


def run_sim_session(
    config: BotConfig,
    *,
    seed: int,
    hours: float,
    market: MarketConfig | None = None,
    log_path: Path | str | None = None,
    progress: Callable[[float], None] | None = None,
    timer: Callable[[], int] | None = time.perf_counter_ns,
) -> SessionSummary:
    """Run the bot for ``hours`` simulated hours on ``market`` (default: calm, the config's symbols)."""
    unknown = [s for s in config.symbols if s not in DEFAULT_SYMBOLS]
    if unknown:
        raise BotError(ErrorCode.CONFIG_INVALID, f"symbols {unknown} are not simulated; known: "
                       f"{', '.join(sorted(DEFAULT_SYMBOLS))}")
    market_config = market if market is not None else MarketConfig(symbols=config.symbols)
    if tuple(market_config.symbols) != tuple(config.symbols):
        market_config = market_config.model_copy(update={"symbols": tuple(config.symbols)})
    duration_s = hours * 3600.0
    wall_start = time.perf_counter()
    world = SimWorld(seed=seed, duration_s=duration_s + 120.0, market=market_config, log_path=log_path)
    account = AccountId(config.venue.account)
    world.venue.open_account(
        account, {asset: int(amount * ATOMS_PER_UNIT) for asset, amount in sorted(config.sim.balances.items())},
        maker_fee_ppm=_fee_ppm(config.sim.maker_fee_bps), taker_fee_ppm=_fee_ppm(config.sim.taker_fee_bps),
    )
    connector = SimConnector(world.venue.connect(account), request_timeout_s=config.execution.request_timeout_s)
    holder: dict[str, Any] = {}

    async def main() -> None:
        app = await AppContext.build(config, connector, LoopClock(), store=StateStore(":memory:"))
        holder["app"] = app
        await app.start()
        quoters: list[SymbolQuoter] = []
        for symbol in sorted(app.symbols):
            data = MarketData(connector, symbol)
            strategy = build_strategy(config.strategy, app.symbols[symbol], timer=timer)
            quoter = SymbolQuoter(app=app, symbol=symbol, market=data, strategy=strategy, config=config.quoting,
                                  timer=timer)
            app.marks[symbol] = quoter.marks
            quoters.append(quoter)
            app.spawn(data.run(), f"market-{symbol}")
            app.spawn(quoter.run(), f"quoter-{symbol}")
        holder["quoters"] = quoters
        loop = asyncio.get_running_loop()
        start = loop.time()
        while (elapsed := loop.time() - start) < duration_s:
            await asyncio.sleep(min(PROGRESS_STEP_S, duration_s - elapsed))
            for task in app.tasks:  # a crashed task ends the session loudly, not silently
                if task.done() and not task.cancelled() and task.exception() is not None:
                    raise task.exception()  # type: ignore[misc]
            if progress is not None:
                progress(min(duration_s, loop.time() - start))
        holder["stop"] = await app.stop("session end")

    try:
        world.run(main())
        app: AppContext = holder["app"]
        return _summarise(config, world, app, holder["quoters"], holder["stop"].shutdown.verified, seed, hours,
                          market_config, time.perf_counter() - wall_start)
    finally:
        if "app" in holder:
            holder["app"].close()
        world.close()


def _summarise(
    config: BotConfig, world: SimWorld, app: AppContext, quoters: list[SymbolQuoter], verified: bool, seed: int,
    hours: float, market: MarketConfig, wall_s: float,
) -> SessionSummary:
    account = AccountId(config.venue.account)
    symbols: list[SymbolSummary] = []
    latency: dict[str, LatencyHistogram] = {}
    halts: dict[str, int] = {}
    pulls: dict[str, int] = {}
    errors: dict[str, int] = {}
    scale = 1.0 / ATOMS_PER_UNIT
    for quoter in quoters:
        pnl = quoter.pnl
        info = quoter.info
        venue_position = _venue_position_lots(world, account, quoter.symbol)
        symbols.append(SymbolSummary(
            symbol=quoter.symbol, net_pnl_quote=pnl.equity_atoms * scale, net_bps=pnl.net_bps,
            traded_notional_quote=pnl.traded_notional_atoms * scale, maker_fills=pnl.maker_fills,
            taker_fills=pnl.taker_fills, slippage_bps=pnl.slippage_bps,
            max_abs_inventory_base=float(info.qty(pnl.max_abs_position_lots)),
            max_abs_inventory_lots=pnl.max_abs_position_lots, hard_limit_lots=app.max_inventory_lots(quoter.symbol),
            final_inventory_lots=app.orders.inventory_lots(quoter.symbol), venue_position_lots=venue_position,
            drawdown_quote=pnl.drawdown_atoms * scale, cycles=quoter.stats.cycles,
            decisions=quoter.stats.decisions, replaces=quoter.stats.replaces,
        ))
        for name, hist in quoter.stats.latency.items():
            if name not in latency:
                latency[name] = LatencyHistogram()
            latency[name].merge(hist)
        for target, source in ((halts, quoter.stats.halts), (pulls, quoter.stats.pulls),
                               (errors, quoter.stats.errors)):
            for key, n in source.items():
                target[key] = target.get(key, 0) + n
    guards: dict[str, int] = {}
    for (level, reason, _threshold), n in app.risk.counters.items():
        name = f"{level}:{reason}".lower()
        guards[name] = guards.get(name, 0) + n
    guards = dict(sorted(guards.items()))
    stats = app.orders.stats
    return SessionSummary(
        seed=seed, hours=hours, regime=market.regime, strategy=config.strategy.kind, symbols=tuple(symbols),
        guard_triggers=guards, halts=dict(sorted(halts.items())), pulls=dict(sorted(pulls.items())),
        errors=dict(sorted(errors.items())),
        latency={name: latency[name].summary() for name in sorted(latency) if latency[name].count},
        orders_placed=stats.placed, orders_cancelled=stats.cancelled, digest=world.log.digest(), wall_s=wall_s,
        book_events=world.book_events, stop_verified=verified,
    )


def _venue_position_lots(world: SimWorld, account: AccountId, symbol: str) -> int:
    """The bot's position from the venue's own trade history (independent of the bot's books)."""
    position = 0
    from_id = TradeId(0)
    while page := world.engine.trades(account, symbol, from_id=from_id, limit=1000):
        for t in page:
            bought = (t.maker_account == account) == (t.taker_side is SimSide.SELL)
            position += t.qty_lots if bought else -t.qty_lots
        from_id = TradeId(page[-1].trade_id + 1)
    return position
