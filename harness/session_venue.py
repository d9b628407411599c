"""The venue of a simulated session: ``BinanceConnector`` over the in-process transport, on the world's venue.

One job: give every bot instance of a simulated session the connector that trades real money (ADR 0013, issue
17). ``SimLink`` attaches one wire-server ``ServerState`` to the session's ``SimVenue`` (its handlers, weights,
order counts, signature and timestamp checks are the loopback server's), with a ``VirtualServerClock`` whose
skew is the fault injector's active clock skew. ``SimLink.connector(store)`` builds one instance's connector:
a new ``VenueClient`` (a new process has new connections; the injector's latency and faults act on it), an
``InProcessTransport`` to the attached state, and a ``BinanceConnector`` with the simulated account's key, the
session's execution timeouts, a retry/reconnect jitter stream derived from the seed and the instance number,
and the instance's ``store`` (so a Retry-After or a ban outlives a crash, as on a real host).

The simulated account's API key and secret are fixed, public strings: they never leave the process and sign
nothing real.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from bot.connectors.binance.config import BinanceConfig, Credentials, Endpoints, SecretStr
from bot.connectors.binance.connector import BinanceConnector
from bot.connectors.binance.limiter import MetaStore
from bot.core.clock import LoopClock
from exchange_sim.engine.types import AccountId
from exchange_sim.faults import FaultInjector
from exchange_sim.rng import derive_seed
from exchange_sim.server.clock import VirtualServerClock
from exchange_sim.server.config import AccountConfig, ServerConfig
from exchange_sim.server.inprocess import InProcessTransport, timestamp_hits
from exchange_sim.server.state import ServerState
from exchange_sim.venue import VenueClient
from exchange_sim.world import SimWorld

__all__ = ["SIM_ENDPOINTS", "SimLink", "sim_connector"]

SIM_API_KEY = "mmbot-simulated-account-key"
SIM_SECRET = "mmbot-simulated-account-secret"  # not a secret: it signs requests that never leave the process
SIM_ENDPOINTS = Endpoints(rest_url="http://sim.invalid/api", ws_api_url="ws://sim.invalid/ws-api/v3",
                          stream_url="ws://sim.invalid")
VENUE_NAME = "sim"


def sim_binance_config(request_timeout_s: float) -> BinanceConfig:
    """The connector's settings in a simulated session: the bot's request timeout, Binance's defaults else."""
    return BinanceConfig(endpoints=SIM_ENDPOINTS, name=VENUE_NAME, request_timeout_s=request_timeout_s)


class SimLink:
    """One session's server side and the factory of its instances' connectors (module docstring)."""

    def __init__(self, world: SimWorld, account: AccountId, *, request_timeout_s: float,
                 injector: FaultInjector | None = None) -> None:
        self.world = world
        self.account = account
        installed = world.venue.faults
        if injector is None and isinstance(installed, FaultInjector):
            injector = installed  # the one installed on the venue, if any
        self.injector = injector
        skew: Callable[[], float] = (lambda: injector.requests.skew_us() / 1000.0) if injector is not None else (
            lambda: 0.0)
        server_config = ServerConfig(accounts=(AccountConfig(name=account, api_key=SIM_API_KEY, secret=SIM_SECRET),))
        self._first_client: VenueClient | None = world.venue.connect(account)  # the first instance's
        self.server = ServerState.attach(server_config, venue=world.venue, log=world.log,
                                         clock=VirtualServerClock(world.runtime, skew_ms=skew),
                                         clients={account: self._first_client})
        self.binance_config = sim_binance_config(request_timeout_s)
        self.credentials = Credentials(api_key=SIM_API_KEY, api_secret=SecretStr(SIM_SECRET))
        self._instances = itertools.count()
        self.transports: list[InProcessTransport] = []

    def connector(self, store: MetaStore | None = None, *, client: VenueClient | None = None,
                  cls: type[BinanceConnector] = BinanceConnector) -> BinanceConnector:
        """A new instance's connector (a new ``VenueClient`` unless ``client`` is given, a transport and a
        connector of class ``cls``, e.g. a test's subclass; see module docstring)."""
        instance = next(self._instances)
        if client is None:
            client, self._first_client = self._first_client or self.world.venue.connect(self.account), None
        hook = timestamp_hits(self.injector, self.account) if self.injector is not None else None
        transport = InProcessTransport(self.server, client, on_timestamp_reject=hook)
        self.transports.append(transport)
        return cls(self.binance_config, self.credentials,
                                clock=LoopClock(loop=self.world.runtime.loop),
                                seed=derive_seed(self.world.seed, "connector", instance),
                                transport=transport, store=store)

    def feed_shed(self) -> int:
        """Market messages the venue's per-connection buffers dropped because an instance read too slowly."""
        return sum(t.feed_shed() for t in self.transports)


def sim_connector(world: SimWorld, account: AccountId, client: VenueClient | None = None, *,
                  request_timeout_s: float = 10.0, store: MetaStore | None = None,
                  cls: type[BinanceConnector] = BinanceConnector) -> BinanceConnector:
    """One ``BinanceConnector`` on ``world``'s venue over the in-process transport (its own ``SimLink``): what
    tests, the stress suite and benchmarks use where a session's harness is not needed. ``client``: the
    ``VenueClient`` to send through (default: a new connection of ``account``)."""
    return SimLink(world, account, request_timeout_s=request_timeout_s).connector(store, client=client, cls=cls)
