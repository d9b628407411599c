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

import math
import random
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, TypeVar

import simpy

from exchange_sim.faults.market import MarketActions
from exchange_sim.faults.model import TRIGGER_OPS, Fault, FaultKind, Scenario, closing_s, stream_ids
from exchange_sim.faults.requests import RequestFaults
from exchange_sim.faults.streams import StreamFaults
from exchange_sim.feeds import Subscription
from exchange_sim.rng import stream

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
        self.hits = [0] * len(scenario.faults)
        self._by_kind: dict[FaultKind, list[tuple[int, Fault]]] = {}
        for index, fault in enumerate(scenario.faults):
            self._by_kind.setdefault(fault.kind, []).append((index, fault))
        self._rngs = [stream(seed, "faults", key, f.kind.value)
                      for key, f in zip(stream_ids(scenario), scenario.faults, strict=True)]
        self._harness: list[HarnessHook] = []
        # each fault's effective window: [start, end) for trigger=time; (inf, inf) while armed, then from the trigger
        self._windows = [(math.inf, math.inf) if _trigger(f) != "time" else (f.start_s, f.end_s)
                         for f in scenario.faults]
        self._fired: dict[int, simpy.Event] = {}  # armed faults waiting for their trigger
        # faults whose next eligible request or message is hit whatever the toxicity: the first one of every fault
        # (a drawn fault always acts once when the bot gives it something to act on), and the trigger of a
        # triggered one; toxicity 0 never hits
        self._forced = {i for i, f in enumerate(scenario.faults) if f.toxicity > 0}
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
            env.process(self._run(index, fault))

    def on_harness(self, hook: HarnessHook) -> None:
        """Call ``hook(fault, started)`` when a crash or memory-pressure fault starts and when it heals."""
        self._harness.append(hook)

    # -- queries used by the parts --
    def now_s(self) -> float:
        return self.venue.runtime.now()

    def now_us(self) -> int:
        return self.venue.runtime.now_us()

    def active(self, kind: FaultKind, channel: str | None = None, symbol: str | None = None, *,
               at_s: float | None = None) -> list[tuple[int, Fault]]:
        """Faults of ``kind`` active now (or at ``at_s``), hitting ``channel``/``symbol`` when a channel is given,
        in scenario order."""
        now = self.now_s() if at_s is None else at_s
        windows = self._windows
        return [(i, f) for i, f in self._by_kind.get(kind, ())
                if windows[i][0] <= now < windows[i][1] and (channel is None or f.hits(channel, symbol))]

    def end_s(self, index: int) -> float:
        """When fault ``index`` heals (for a triggered fault: its trigger + duration; inf while it is armed)."""
        return self._windows[index][1]

    def observe(self, op: str, symbol: str | None) -> None:
        """A tracked account's request ``op`` arrived: fire the armed faults it triggers (module docstring)."""
        if not self._fired:
            return
        now = self.now_s()
        for index, event in list(self._fired.items()):
            fault = self.scenario.faults[index]
            if op not in TRIGGER_OPS[_trigger(fault)] or not fault.start_s <= now < fault.end_s:
                continue
            if fault.target not in ("rest", "both", "ws", "user") and fault.target != symbol:
                continue
            del self._fired[index]
            self._windows[index] = (now, now + fault.duration_s)
            self.venue.log.record(self.now_us(), "fault", {"id": index, "f": fault.kind.value, "ph": "trigger",
                                                           "op": op})
            if fault.toxicity > 0:
                self._forced.add(index)
            event.succeed(op)

    def rng(self, index: int) -> random.Random:
        return self._rngs[index]

    def toxic(self, index: int, *, first: bool = True) -> bool:
        """Whether this eligible request/message is hit: the fault's first eligible one (and a trigger's) always,
        the others with probability = the fault's toxicity. ``first=False``: this one (a read request: a start-up
        or reconcile query) never takes the sure first hit, which is kept for the bot's order traffic."""
        if first and index in self._forced:
            self._forced.discard(index)
            return True
        toxicity = self.scenario.faults[index].toxicity
        return toxicity >= 1.0 or self._rngs[index].random() < toxicity

    def hit(self, index: int, effect: str | None = None, **fields: Any) -> None:
        """Count an effect of fault ``index``; request- and order-level effects are also logged."""
        self.hits[index] += 1
        if effect is not None:
            fault = self.scenario.faults[index]
            self.venue.log.record(self.now_us(), "fault_hit", {"id": index, "f": fault.kind.value, "e": effect,
                                                                **fields})

    # -- VenueFaults (the venue's hook points) --
    async def call(self, client: VenueClient, op: str, fields: dict[str, Any], action: Callable[[], R]) -> R:
        return await self.requests.call(client, op, fields, action)

    def feed_delay(self, channel: str, symbol: str | None, delay_s: Callable[[], float]) -> Callable[[], float]:
        return self.streams.feed_delay(channel, symbol, delay_s)

    def on_subscribe(self, channel: str, symbol: str | None, sub: Subscription[Any]) -> None:
        self.streams.on_subscribe(channel, symbol, sub)

    # -- the schedule --
    def _run(self, index: int, fault: Fault) -> Generator[simpy.Event, Any, None]:
        env = self.venue.runtime.env
        yield env.timeout(max(fault.start_s - env.now, 0.0))
        self.venue.log.record(self.now_us(), "fault", {
            "id": index, "f": fault.kind.value, "tg": fault.target, "ph": "start", "dur": fault.duration_s,
            "x": fault.toxicity, "prm": dict(fault.params),
        })
        if _trigger(fault) != "time":
            fired = self._fired[index] = env.event()
            yield fired | env.timeout(fault.duration_s)
            if not fired.triggered:
                del self._fired[index]
                self.venue.log.record(self.now_us(), "fault", {"id": index, "f": fault.kind.value, "tg": fault.target,
                                                               "ph": "end", "hits": 0, "fired": False})
                return
        self._on_start(index, fault)
        if fault.kind in (FaultKind.PARTIAL_FILL, FaultKind.STP):
            yield from self.market.poisson(index, fault)
        elif fault.kind is FaultKind.MEMORY_PRESSURE:
            yield from self.streams.flood(index, fault)
        else:
            yield env.timeout(max(self.end_s(index) - env.now, 0.0))
        closed_by = self._windows[index][0] + closing_s(fault)  # a slow close heals when its streams have closed
        if closed_by > env.now:
            yield env.timeout(closed_by - env.now)
        self._forced.discard(index)
        self._on_end(index, fault)
        end: dict[str, Any] = {"id": index, "f": fault.kind.value, "tg": fault.target, "ph": "end",
                               "hits": self.hits[index]}
        if fault.kind is FaultKind.MEMORY_PRESSURE:
            end["shed"] = self.streams.shed(index)
        self.venue.log.record(self.now_us(), "fault", end)

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

    def _on_end(self, index: int, fault: Fault) -> None:
        kind = fault.kind
        if kind in (FaultKind.STALE_FEED, FaultKind.FEED_GAP):
            self.streams.heal(index, fault)
        elif fault.spec.harness:
            for hook in self._harness:
                hook(fault, False)


def _trigger(fault: Fault) -> str:
    return str(fault.params.get("trigger", "time"))
