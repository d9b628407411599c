"""FaultInjector: applies a ``Scenario`` to an in-process ``SimVenue`` in virtual time, deterministically.

Lifecycle: build it (``FaultInjector(scenario, venue=..., seed=...)`` or ``for_world``), ``install()`` it once
before the bot connects (it becomes ``venue.faults`` and schedules one simpy process per fault), run the world.
Each fault then *is scheduled* (before its start), *is active* (``start <= now < end``), *has healed* (after).

What it writes to the event log (kind ``fault``; ``id`` is the fault's index in the scenario):

* ``{"k": "fault", "id", "f": kind, "tg": target, "ph": "start", "dur", "x": toxicity, "prm": {...}}`` at start,
* ``{"k": "fault", "id", "f", "tg", "ph": "end", "hits": n}`` when it heals (``hits``: requests, messages or
  orders it affected; a memory_pressure end also carries ``shed``: flood messages the clients' bounded
  buffers dropped),
* ``{"k": "fault_hit", "id", "f", "e": effect, ...}`` for every request-level or order-level effect (a request
  blackholed, a reply lost or truncated, a 429/418/503/-1021/reject answer, a cancel-replace half success, an
  injected fill, an STP expiry, a shock, a user-stream report missed/duplicated/late/redelivered) and every
  stream closed, so a checker can tell an injected failure from a bot bug (``a``: the account, when known).

With an injector installed, ``request`` records carry ``sent`` (the client's send time, µs) and rejects it
caused carry ``http`` (status), ``ra_ms`` (Retry-After) and ``rcv`` (when the client received the answer, µs).

Timing (windows, triggers, which request or message a fault hits, hit records) is ``timing.FaultTiming``'s and
the effects are ``effects``' (requests) and ``frames``' (streams), shared with the wire server; this class wires
them to the venue and owns the order-level (``market``) and harness parts.

Determinism: every draw comes from ``rng.stream(seed, "faults", key, kind)``, one stream per fault keyed by its
``model.stream_ids`` key (a hash of the fault itself, not its index: dropping one fault leaves the others' draws
as they were), consumed in simulated-event order; nothing reads the wall clock. Harness faults (crash, memory
pressure) are recorded and handed to the callbacks registered with ``on_harness``.

Activity triggers (``trigger`` != time, see ``model``): the ``start`` record is written when the fault is armed; a
``{"k": "fault", "id", "f", "ph": "trigger", "op"}`` record when a request fires it (its window starts then); a
fault never fired ends at start + duration with ``"fired": false`` in its end record. A slow close or a
serverShutdown heals when the streams it ends have closed (its end record comes then).

Hit rates: ``toxic`` always hits a fault's first eligible order request (place, cancel, cancel-replace; any request
aimed at by ``request``) or stream message, and the request that fires a trigger;
toxicity decides for the ones after it, so a drawn fault acts at least once when the bot gives it something.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

import simpy

from exchange_sim.faults.market import MarketActions
from exchange_sim.faults.model import Fault, FaultKind, Scenario
from exchange_sim.faults.requests import RequestFaults
from exchange_sim.faults.streams import StreamFaults
from exchange_sim.faults.timing import FaultTiming
from exchange_sim.feeds import Subscription

if TYPE_CHECKING:
    from exchange_sim.market.flow import MarketFlow
    from exchange_sim.venue import SimVenue, VenueClient
    from exchange_sim.world import SimWorld

R = TypeVar("R")
HarnessHook = Callable[[Fault, bool], None]  # (fault, started) - started False when it heals


class FaultInjector:
    """Applies one scenario to one venue (see module docstring)."""

    def __init__(self, scenario: Scenario, *, venue: SimVenue, seed: int, market: MarketFlow | None = None) -> None:
        self.scenario = scenario
        self.venue = venue
        self.seed = seed
        self.timing = FaultTiming(scenario, seed=seed, namespace="faults", log=venue.log,
                                  now_s=venue.runtime.now, now_us=venue.runtime.now_us)
        self.hits = self.timing.hits
        self._harness: list[HarnessHook] = []
        self._installed = False
        self.requests = RequestFaults(self)
        self.streams = StreamFaults(self)
        self.market = MarketActions(self, market)

    @classmethod
    def for_world(cls, world: SimWorld, scenario: Scenario) -> FaultInjector:
        """An injector for ``world`` (its venue, seed and market), installed."""
        injector = cls(scenario, venue=world.venue, seed=world.seed, market=world.market)
        injector.install()
        return injector

    def install(self) -> None:
        """Hook into the venue and schedule every fault. Call once, before clients connect or subscribe."""
        if self._installed:
            raise RuntimeError("FaultInjector.install() called twice")
        if self.venue.faults is not None:
            raise RuntimeError("the venue already has a fault injector")
        self._installed = True
        self.venue.faults = self
        if self.scenario.kinds() & MarketActions.NEEDS_AGENT:
            self.market.open_agent()
        env = self.venue.runtime.env
        for index, fault in enumerate(self.scenario.faults):
            env.process(self.timing.lifecycle(env, index, fault, on_start=self._on_start, during=self._during,
                                              on_end=self._on_end))

    def on_harness(self, hook: HarnessHook) -> None:
        """Call ``hook(fault, started)`` when a crash or memory-pressure fault starts and when it heals."""
        self._harness.append(hook)

    # -- queries used by the parts (``FaultTiming``'s) --
    def now_s(self) -> float:
        return self.venue.runtime.now()

    def now_us(self) -> int:
        return self.venue.runtime.now_us()

    def active(self, kind: FaultKind, channel: str | None = None, symbol: str | None = None, *,
               at_s: float | None = None) -> list[tuple[int, Fault]]:
        """Faults of ``kind`` active now (or at ``at_s``), hitting ``channel``/``symbol``, in scenario order."""
        return self.timing.active(kind, channel, symbol, at_s=at_s)

    def end_s(self, index: int) -> float:
        """When fault ``index`` heals (for a triggered fault: its trigger + duration; inf while it is armed)."""
        return self.timing.end_s(index)

    def observe(self, op: str, symbol: str | None) -> None:
        """A tracked account's request ``op`` arrived: fire the armed faults it triggers."""
        self.timing.observe(op, symbol)

    def rng(self, index: int) -> random.Random:
        return self.timing.rng(index)

    def toxic(self, index: int, *, first: bool = True) -> bool:
        """Whether this eligible request/message is hit (``FaultTiming.toxic``)."""
        return self.timing.toxic(index, first=first)

    def hit(self, index: int, effect: str | None = None, **fields: Any) -> None:
        """Count an effect of fault ``index``; request- and order-level effects are also logged."""
        self.timing.hit(index, effect, **fields)

    # -- VenueFaults (the venue's hook points) --
    async def call(self, client: VenueClient, op: str, fields: dict[str, Any], action: Callable[[], R]) -> R:
        return await self.requests.call(client, op, fields, action)

    def feed_delay(self, channel: str, symbol: str | None, delay_s: Callable[[], float]) -> Callable[[], float]:
        return self.streams.feed_delay(channel, symbol, delay_s)

    def on_subscribe(self, channel: str, symbol: str | None, sub: Subscription[Any]) -> None:
        self.streams.on_subscribe(channel, symbol, sub)

    # -- the schedule (``FaultTiming.lifecycle``'s phases) --
    def _on_start(self, index: int, fault: Fault) -> None:
        kind = fault.kind
        if kind is FaultKind.RESET_PEER:
            self.streams.reset(index, fault)
        elif kind in (FaultKind.SLOW_CLOSE, FaultKind.SERVER_DISCONNECT):
            self.streams.disconnect(index, fault)
        elif kind is FaultKind.MARKET_SHOCK:
            self.market.shock(index, fault)
        elif fault.spec.harness:
            for hook in self._harness:
                hook(fault, True)

    def _during(self, index: int, fault: Fault) -> Generator[simpy.Event, Any, None] | None:
        if fault.kind in (FaultKind.PARTIAL_FILL, FaultKind.STP):
            return self.market.poisson(index, fault)
        if fault.kind is FaultKind.MEMORY_PRESSURE:
            return self.streams.flood(index, fault)
        return None

    def _on_end(self, index: int, fault: Fault) -> dict[str, Any]:
        kind = fault.kind
        if kind in (FaultKind.STALE_FEED, FaultKind.FEED_GAP):
            self.streams.heal(index, fault)
        elif fault.spec.harness:
            for hook in self._harness:
                hook(fault, False)
        return {"shed": self.streams.shed(index)} if kind is FaultKind.MEMORY_PRESSURE else {}
