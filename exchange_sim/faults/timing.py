"""FaultTiming: when each fault of a scenario acts and whether it hits a given request or message - written once,
used by the in-process ``FaultInjector`` and the wire server's ``ServerFaults`` alike.

A fault *is scheduled* before its start, *is active* while ``window_start <= now < window_end`` and *has healed*
after. Its window is ``[start, start + duration)`` for ``trigger=time``; an activity trigger (``model`` TRIGGERS)
*arms* it during that interval and the first matching request (``observe``) opens a window
``[now, now + duration)``. A slow close or a serverShutdown heals ``closing_s`` after its window opened, when the
streams it ends have closed.

Hit rates (``toxic``): a fault's first eligible order request (or any request aimed at it) or stream message is
always hit, and so is the request that fires a trigger; after that each one is hit with probability
``toxicity``. ``first=False`` (a read: a start-up or reconcile query) never takes the sure first hit.

Records (``lifecycle``), in the event log with the transport's clock: ``{"k": "fault", "id", "f", "tg",
"ph": "start", "dur", "x", "prm"}`` when the fault starts (or is armed), ``{"ph": "trigger", "op"}`` when a
request fires it, ``{"ph": "end", "hits"}`` when it heals (``"fired": false`` for a trigger that never came);
``hit(index, effect, **fields)`` writes ``{"k": "fault_hit", "id", "f", "e": effect, ...}``.

Determinism: every draw comes from ``rng.stream(seed, namespace, key, kind)``, one stream per fault keyed by its
``model.stream_ids`` key; nothing reads the wall clock here (the wire server's clock is its own business).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Generator
from typing import Any

import simpy

from exchange_sim.eventlog import EventLog
from exchange_sim.faults.model import TRIGGER_OPS, Fault, FaultKind, Scenario, closing_s, stream_ids
from exchange_sim.rng import stream

Phase = Callable[[int, Fault], None]
During = Callable[[int, Fault], Generator[simpy.Event, Any, None] | None]


def trigger_of(fault: Fault) -> str:
    """The fault's activity trigger (``time`` for kinds without one)."""
    return str(fault.params.get("trigger", "time"))


class FaultTiming:
    """Windows, triggers, hit draws and hit records of one scenario (module docstring)."""

    def __init__(self, scenario: Scenario, *, seed: int, namespace: str, log: EventLog,
                 now_s: Callable[[], float], now_us: Callable[[], int]) -> None:
        self.scenario = scenario
        self.log = log
        self.now_s = now_s
        self.now_us = now_us
        self.hits = [0] * len(scenario.faults)
        self._by_kind: dict[FaultKind, list[tuple[int, Fault]]] = {}
        for index, fault in enumerate(scenario.faults):
            self._by_kind.setdefault(fault.kind, []).append((index, fault))
        self._rngs = [stream(seed, namespace, key, f.kind.value)
                      for key, f in zip(stream_ids(scenario), scenario.faults, strict=True)]
        self._windows = [(math.inf, math.inf) if trigger_of(f) != "time" else (f.start_s, f.end_s)
                         for f in scenario.faults]
        self._fired: dict[int, simpy.Event] = {}  # armed faults waiting for their trigger
        self._forced = {i for i, f in enumerate(scenario.faults) if f.toxicity > 0}

    # -- queries --
    def active(self, kind: FaultKind, channel: str | None = None, symbol: str | None = None, *,
               at_s: float | None = None) -> list[tuple[int, Fault]]:
        """Faults of ``kind`` active now (or at ``at_s``), hitting ``channel``/``symbol`` when a channel is given,
        in scenario order."""
        faults = self._by_kind.get(kind)
        if faults is None:  # no fault of this kind in the scenario (most kinds, most calls): no clock read
            return []
        now = self.now_s() if at_s is None else at_s
        windows = self._windows
        return [(i, f) for i, f in faults
                if windows[i][0] <= now < windows[i][1] and (channel is None or f.hits(channel, symbol))]

    def window(self, index: int) -> tuple[float, float]:
        """Fault ``index``'s effective window (``(inf, inf)`` while it is armed or was never fired)."""
        return self._windows[index]

    def end_s(self, index: int) -> float:
        """When fault ``index`` heals (for a triggered fault: its trigger + duration; inf while it is armed)."""
        return self._windows[index][1]

    def rng(self, index: int) -> random.Random:
        return self._rngs[index]

    # -- hits --
    def toxic(self, index: int, *, first: bool = True) -> bool:
        """Whether this eligible request/message is hit (module docstring)."""
        if first and index in self._forced:
            self._forced.discard(index)
            return True
        toxicity = self.scenario.faults[index].toxicity
        return toxicity >= 1.0 or self._rngs[index].random() < toxicity

    def hit(self, index: int, effect: str | None = None, **fields: Any) -> None:
        """Count an effect of fault ``index``; with ``effect``, also write its ``fault_hit`` record."""
        self.hits[index] += 1
        if effect is not None:
            fault = self.scenario.faults[index]
            self.log.record(self.now_us(), "fault_hit", {"id": index, "f": fault.kind.value, "e": effect, **fields})

    # -- triggers --
    def observe(self, op: str, symbol: str | None) -> None:
        """A tracked account's request ``op`` arrived: fire the armed faults it triggers."""
        if not self._fired:
            return
        now = self.now_s()
        for index, event in list(self._fired.items()):
            fault = self.scenario.faults[index]
            if op not in TRIGGER_OPS[trigger_of(fault)] or not fault.start_s <= now < fault.end_s:
                continue
            if fault.target not in ("rest", "both", "ws", "user") and fault.target != symbol:
                continue
            del self._fired[index]
            self._windows[index] = (now, now + fault.duration_s)
            self.log.record(self.now_us(), "fault", {"id": index, "f": fault.kind.value, "ph": "trigger", "op": op})
            if fault.toxicity > 0:
                self._forced.add(index)
            event.succeed(op)

    # -- the schedule --
    def lifecycle(self, env: simpy.Environment, index: int, fault: Fault, *, on_start: Phase, during: During,
                  on_end: Callable[[int, Fault], dict[str, Any]]) -> Generator[simpy.Event, Any, None]:
        """One fault's life as a simpy process: start (or armed) record, trigger, ``on_start``, ``during`` (a
        process of its own, or None to wait for the window's end), the closing silence, ``on_end`` (its dict is
        added to the end record), end record."""
        yield env.timeout(max(fault.start_s - env.now, 0.0))
        self.log.record(self.now_us(), "fault", {
            "id": index, "f": fault.kind.value, "tg": fault.target, "ph": "start", "dur": fault.duration_s,
            "x": fault.toxicity, "prm": dict(fault.params),
        })
        if trigger_of(fault) != "time":
            fired = self._fired[index] = env.event()
            yield fired | env.timeout(fault.duration_s)
            if not fired.triggered:
                del self._fired[index]
                self.log.record(self.now_us(), "fault", {"id": index, "f": fault.kind.value, "tg": fault.target,
                                                         "ph": "end", "hits": 0, "fired": False})
                return
        on_start(index, fault)
        process = during(index, fault)
        if process is not None:
            yield from process
        else:
            yield env.timeout(max(self.end_s(index) - env.now, 0.0))
        closed_by = self._windows[index][0] + closing_s(fault)  # a slow close heals when its streams have closed
        if closed_by > env.now:
            yield env.timeout(closed_by - env.now)
        self._forced.discard(index)
        extra = on_end(index, fault)
        self.log.record(self.now_us(), "fault", {"id": index, "f": fault.kind.value, "tg": fault.target,
                                                 "ph": "end", "hits": self.hits[index], **extra})
