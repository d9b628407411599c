"""The stress suite's and the benchmarks' connector: ``BinanceConnector`` over the in-process transport, optionally
on a venue with lifted rate limits.

One job: build the connector a stress test or a benchmark sends through, on a ``SimWorld`` or on the parts of one
(``VenueParts``: a bare ``SimVenue`` with its runtime and log, as the side-by-side benchmark builds it). Under
Binance's limits (the default) the connector's limiter admits 80 new orders per 10 s; a test of the order
manager's bookkeeping under 1,000 concurrent orders, or a benchmark of its throughput, lifts the venue's limits
(``LIFTED_LIMITS``) and the connector budgets from them, so the limiter admits everything while the rest of the
policy (signing, classification, unknown outcomes, time sync, stream handling) still runs.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import cast

from bot.connectors.binance.config import LimiterConfig
from bot.connectors.binance.connector import BinanceConnector
from bot.connectors.binance.limiter import MetaStore
from exchange_sim.engine.types import AccountId
from exchange_sim.eventlog import EventLog
from exchange_sim.server.config import LimitsConfig
from exchange_sim.server.state import ServerState
from exchange_sim.venue import SimVenue, VenueClient, VenueRuntime
from exchange_sim.world import SimWorld
from harness.session_venue import SimLink

__all__ = ["LIFTED_LIMITS", "VenueParts", "connector"]

LIFTED_LIMITS = LimitsConfig(weight_per_minute=10**8, orders_per_10s=10**7, orders_per_day=10**9)


@dataclass(frozen=True, slots=True)
class VenueParts:
    """What ``SimLink`` reads of a ``SimWorld`` (its venue, event log, runtime and seed), for a bare venue."""

    venue: SimVenue
    log: EventLog
    runtime: VenueRuntime  # a ``SimRuntime``: the server clock runs on its virtual time
    seed: int


def connector(world: SimWorld | VenueParts, client: VenueClient, *, request_timeout_s: float,
              store: MetaStore | None = None, limits: LimitsConfig | None = None) -> BinanceConnector:
    """``BinanceConnector`` of ``client``'s account over the in-process transport; with ``limits``, the venue's
    rate limits are ``limits`` and the connector's limiter budgets from them (Binance's limits otherwise)."""
    link = SimLink(cast(SimWorld, world), AccountId(client.account), request_timeout_s=request_timeout_s)
    if limits is not None:
        server = link.server
        link.server = ServerState.attach(dataclasses.replace(server.config, limits=limits), venue=world.venue,
                                         log=world.log, clock=server.driver, clients=server.clients)
        link.binance_config = dataclasses.replace(link.binance_config, limiter=LimiterConfig(
            weight_limit_1m=limits.weight_per_minute, order_limit_10s=limits.orders_per_10s))
    venue: BinanceConnector = link.connector(store, client=client)
    return venue
