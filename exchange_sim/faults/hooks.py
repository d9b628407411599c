"""The three hook points a fault injector plugs into ``SimVenue`` (``venue.faults``); None means no faults.

* ``call`` replaces ``VenueClient._call``'s transport: delays, execution at arrival and the reply path.
* ``feed_delay`` wraps a new subscription's delay function (latency, bandwidth, slicer on feeds).
* ``on_subscribe`` sees every new subscription (to reset it later or intercept what it publishes).

``channel`` is ``"ws"`` (depth diffs), ``"trades"`` (public trades) or ``"user"`` (execution reports and balance
updates); ``symbol`` is None for the user stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from exchange_sim.feeds import Subscription
    from exchange_sim.venue import VenueClient

R = TypeVar("R")


class VenueFaults(Protocol):
    async def call(self, client: VenueClient, op: str, fields: dict[str, Any], action: Callable[[], R]) -> R: ...

    def feed_delay(
        self, channel: str, symbol: str | None, delay_s: Callable[[], float]
    ) -> Callable[[], float]: ...

    def on_subscribe(self, channel: str, symbol: str | None, sub: Subscription[Any]) -> None: ...
