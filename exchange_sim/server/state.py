"""ServerState: one wire server's exchange - real-time driver, event log, SimVenue, market model, accounts.

Construction mirrors ``exchange_sim.world.SimWorld`` (log first with the seed, venue and engine, market accounts,
then the bot accounts), but the venue runs on a ``RealTimeDriver`` instead of virtual time and with zero
in-process latency: the network is real now, and injected delays belong to the transport (``faults.py``).
Requests go through the venue's ``VenueClient`` (one per account), so the event log records requests, rejects,
orders, trades, book changes and balances exactly as in a simulated session and the same checker can read it.

Lifecycle: build (no loop needed), ``start()`` inside the running loop (market warm-up at t=0), serve,
``close()`` (closes the log).
"""

from __future__ import annotations

import re

from exchange_sim.engine.types import AccountId, SymbolSpec, decimal_to_atoms
from exchange_sim.eventlog import EventLog
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.flow import MarketFlow
from exchange_sim.market.symbols import DEFAULT_SYMBOLS
from exchange_sim.server import errors
from exchange_sim.server.auth import KeyStore
from exchange_sim.server.clock import RealTimeDriver
from exchange_sim.server.config import ServerConfig
from exchange_sim.server.faults import ServerFaults
from exchange_sim.server.limits import OrderLimiter, WeightLimiter
from exchange_sim.venue import SimVenue, VenueClient

_SYMBOL = re.compile(r"[A-Z0-9\-_.]{1,20}", re.ASCII)  # Binance's legal range for the symbol parameter
NO_LATENCY = LatencyConfig(request_floor_ms=0, request_median_ms=0, request_sigma=0, feed_floor_ms=0,
                           feed_median_ms=0, feed_sigma=0)


class ServerState:
    """Everything the handlers share (see module docstring)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        catalogue = config.symbols if config.symbols is not None else DEFAULT_SYMBOLS
        unknown = [s for s in config.market.symbols if s not in catalogue]
        if unknown:
            raise ValueError(f"unknown symbols {unknown}; known: {', '.join(sorted(catalogue))}")
        self.driver = RealTimeDriver(tick_s=config.tick_s)
        self.log = EventLog(config.log_path)
        self.log.record(0, "session", {"seed": config.seed, "mode": "server", "duration_s": config.duration_s,
                                       "market": config.market.model_dump(mode="json")})
        specs = [catalogue[s].spec for s in config.market.symbols]
        self.venue = SimVenue(self.driver, specs, self.log, seed=config.seed, latency=NO_LATENCY,
                              depth_interval_ms=config.depth_interval_ms)
        self.engine = self.venue.engine
        self.market = MarketFlow(self.driver.env, self.engine, config.market, config.seed,
                                 duration_s=config.duration_s, symbols=catalogue, on_regime=self._on_regime)
        self.venue.trade_observers.append(self.market.on_trade)
        self.keys = KeyStore(config.accounts)
        self.fee_ppm: dict[AccountId, tuple[int, int]] = {}
        self.clients: dict[AccountId, VenueClient] = {}
        for account in config.accounts:
            account_id = AccountId(account.name)
            self.venue.open_account(account_id, {a: decimal_to_atoms(v) for a, v in account.balances.items()},
                                    maker_fee_ppm=account.maker_fee_ppm, taker_fee_ppm=account.taker_fee_ppm)
            default = specs[0] if specs else None
            self.fee_ppm[account_id] = (
                account.maker_fee_ppm if account.maker_fee_ppm is not None else
                (default.maker_fee_ppm if default else 0),
                account.taker_fee_ppm if account.taker_fee_ppm is not None else
                (default.taker_fee_ppm if default else 0),
            )
            self.clients[account_id] = self.venue.connect(account_id)
        limits = config.limits
        self.weights = WeightLimiter(limit=limits.weight_per_minute, window_s=limits.weight_window_s,
                                     ban_after=limits.ban_after_429, ban_s=limits.ban_s)
        self.orders = OrderLimiter(per_10s=limits.orders_per_10s, per_day=limits.orders_per_day)
        self.faults = ServerFaults(config.scenario, seed=config.seed, driver=self.driver, log=self.log)
        self._started = False

    def _on_regime(self, now_s: float, regime: str) -> None:
        self.log.record(round(now_s * 1_000_000), "regime", {"regime": regime})

    def start(self) -> None:
        """Warm up the books and start the market processes (inside the running loop, at t=0)."""
        if self._started:
            raise RuntimeError("ServerState.start() called twice")
        self._started = True
        self.market.start()
        self.faults.start()

    def spec(self, symbol: str) -> SymbolSpec:
        """The symbol's spec; -1100 for characters outside Binance's ``^[A-Z0-9-_.]{1,20}$`` (lowercase, or
        ``btcuſdt``, whose ``upper()`` would be BTCUSDT), -1121 for a well-formed symbol that is not listed."""
        if not _SYMBOL.fullmatch(symbol):
            raise errors.illegal("symbol", errors.SYMBOL_RANGE)
        try:
            return self.engine.spec(symbol)
        except Exception:
            raise errors.bad_symbol() from None

    def ms(self, sim_us: int) -> int:
        return self.driver.epoch_ms_of(sim_us)

    def close(self) -> None:
        self.log.close()
