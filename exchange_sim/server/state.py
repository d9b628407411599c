"""ServerState: one wire server's exchange - clock, event log, SimVenue, market model, accounts, limiters, faults.

Two ways to build one:

* ``ServerState(config)`` (the loopback server) mirrors ``exchange_sim.world.SimWorld`` (log first with the
  seed, venue and engine, market accounts, then the bot accounts), but the venue runs on a ``RealTimeDriver``
  instead of virtual time and with zero in-process latency: the network is real now, and injected delays
  belong to the transport (``faults.py``). It owns its log and market: ``start()`` warms the market up,
  ``close()`` closes the log.
* ``ServerState.attach(config, venue=, log=, clock=, clients=)`` (the in-process transport) puts the wire
  semantics over an existing venue and its ``VenueClient``s (which carry the simulated latency and the
  in-process fault injector): it builds keys, limiters and a ``ServerFaults`` with no scenario, and nothing
  else; its ``start()``/``close()`` start no market and close no log.

Requests go through the venue's ``VenueClient`` (one per account), so the event log records requests, rejects,
orders, trades, book changes and balances exactly as in a simulated session and the same checker can read it.
Ids the server makes up (subscription ids, cancel client ids) count per state, so a seed gives the same ids in
any process. Errors: ``ValueError`` for unknown symbols or an account without a client.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping

from exchange_sim.engine.types import AccountId, SymbolSpec, decimal_to_atoms
from exchange_sim.eventlog import EventLog
from exchange_sim.faults.model import Scenario
from exchange_sim.latency import LatencyConfig
from exchange_sim.market.flow import MarketFlow
from exchange_sim.market.symbols import DEFAULT_SYMBOLS
from exchange_sim.server import errors
from exchange_sim.server.auth import KeyStore
from exchange_sim.server.clock import RealTimeDriver, ServerClock
from exchange_sim.server.config import ServerConfig
from exchange_sim.server.faults import ServerFaults
from exchange_sim.server.limits import OrderLimiter, WeightLimiter
from exchange_sim.venue import SimVenue, VenueClient

_SYMBOL = re.compile(r"[A-Z0-9\-_.]{1,20}", re.ASCII)  # Binance's legal range for the symbol parameter
NO_LATENCY = LatencyConfig(request_floor_ms=0, request_median_ms=0, request_sigma=0, feed_floor_ms=0,
                           feed_median_ms=0, feed_sigma=0)


class ServerState:
    """Everything the handlers share (see module docstring)."""

    driver: ServerClock
    market: MarketFlow | None

    def __init__(self, config: ServerConfig) -> None:
        catalogue = config.symbols if config.symbols is not None else DEFAULT_SYMBOLS
        unknown = [s for s in config.market.symbols if s not in catalogue]
        if unknown:
            raise ValueError(f"unknown symbols {unknown}; known: {', '.join(sorted(catalogue))}")
        driver = RealTimeDriver(tick_s=config.tick_s)
        log = EventLog(config.log_path)
        log.record(0, "session", {"seed": config.seed, "mode": "server", "duration_s": config.duration_s,
                                  "market": config.market.model_dump(mode="json")})
        specs = [catalogue[s].spec for s in config.market.symbols]
        venue = SimVenue(driver, specs, log, seed=config.seed, latency=NO_LATENCY,
                         depth_interval_ms=config.depth_interval_ms)
        self.market = MarketFlow(driver.env, venue.engine, config.market, config.seed,
                                 duration_s=config.duration_s, symbols=catalogue, on_regime=self._on_regime)
        venue.trade_observers.append(self.market.on_trade)
        clients: dict[AccountId, VenueClient] = {}
        for account in config.accounts:
            account_id = AccountId(account.name)
            venue.open_account(account_id, {a: decimal_to_atoms(v) for a, v in account.balances.items()},
                               maker_fee_ppm=account.maker_fee_ppm, taker_fee_ppm=account.taker_fee_ppm)
            clients[account_id] = venue.connect(account_id)
        self._wire(config, venue=venue, log=log, clock=driver, clients=clients, scenario=config.scenario)
        self._owner = True

    @classmethod
    def attach(cls, config: ServerConfig, *, venue: SimVenue, log: EventLog, clock: ServerClock,
               clients: Mapping[AccountId, VenueClient]) -> ServerState:
        """The wire semantics over an existing venue (module docstring): accounts, keys and fees from
        ``config.accounts``, each served by ``clients[AccountId(name)]``; no market, no log, no scenario."""
        missing = [a.name for a in config.accounts if AccountId(a.name) not in clients]
        if missing:
            raise ValueError(f"no VenueClient for accounts {missing}")
        state = cls.__new__(cls)
        state.market = None
        state._wire(config, venue=venue, log=log, clock=clock, clients=dict(clients), scenario=Scenario())
        state._owner = False
        return state

    def _wire(self, config: ServerConfig, *, venue: SimVenue, log: EventLog, clock: ServerClock,
              clients: dict[AccountId, VenueClient], scenario: Scenario) -> None:
        self.config = config
        self.driver = clock
        self.log = log
        self.venue = venue
        self.engine = venue.engine
        self.keys = KeyStore(config.accounts)
        self.clients = clients
        symbols = list(self.engine.symbols)
        default = self.engine.spec(symbols[0]) if symbols else None
        self.fee_ppm: dict[AccountId, tuple[int, int]] = {}
        for account in config.accounts:
            self.fee_ppm[AccountId(account.name)] = (
                account.maker_fee_ppm if account.maker_fee_ppm is not None else
                (default.maker_fee_ppm if default else 0),
                account.taker_fee_ppm if account.taker_fee_ppm is not None else
                (default.taker_fee_ppm if default else 0),
            )
        limits = config.limits
        self.weights = WeightLimiter(limit=limits.weight_per_minute, window_s=limits.weight_window_s,
                                     ban_after=limits.ban_after_429, ban_s=limits.ban_s)
        self.orders = OrderLimiter(per_10s=limits.orders_per_10s, per_day=limits.orders_per_day)
        self.faults = ServerFaults(scenario, seed=config.seed, driver=clock, log=log)
        self._subscription_ids = itertools.count(1)
        self._cancel_ids = itertools.count(1)
        self._started = False

    def _on_regime(self, now_s: float, regime: str) -> None:
        self.log.record(round(now_s * 1_000_000), "regime", {"regime": regime})

    def start(self) -> None:
        """Warm up the books and start the market processes (inside the running loop, at t=0); an attached
        state only starts its (empty) fault lifecycle."""
        if self._started:
            raise RuntimeError("ServerState.start() called twice")
        self._started = True
        if self.market is not None:
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

    def next_subscription_id(self) -> int:
        """The next user-data subscription id of this server (1, 2, ...)."""
        return next(self._subscription_ids)

    def next_cancel_id(self) -> int:
        """The next number of a generated cancel client order id (``cancel1``, ``cancel2``, ...)."""
        return next(self._cancel_ids)

    def close(self) -> None:
        """Close the log of a server that owns it (an attached state leaves it to its world)."""
        if self._owner:
            self.log.close()
