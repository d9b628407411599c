"""The process supervisor and the operator of a simulated session: what harness faults do to the bot's instances.

``Harness`` receives the harness faults from the ``FaultInjector`` (``on_fault``) and the bot's own records (through
``LogRecorder``), queues what must happen to the running instance, and ``apply`` carries it out between the
session loop's waits:

* ``crash``: the instance dies (no shutdown path); after ``restart_after_s`` a new one starts on the same store.
* ``cold_restart``: the same, but the new instance gets an EMPTY store (the state file is lost) while the venue
  still holds the old instance's orders and fills; its ``bot.restart`` record carries ``cold: true``.
* ``pause``: the whole process is frozen (``VirtualTimeLoop.freeze``) for the fault's window while the venue and
  the market go on; on resume every timer and delivery that fell due fires at once, late. Nothing is queued.
* ``operator_stop``: at the fault's start (``when: time``) or at the bot's next new order after it (``when:
  next_order``, the first ``bot.intent`` record; dropped if the instance dies first), SIGINT/SIGTERM run the orderly
  stop (cancel all, verify) and ``kill_switch`` the kill path (latched); the operator starts a new instance after
  ``restart_after_s`` unless that is at or past the session's end (then the session ends with the bot stopped).
* latches: when an instance reports HARD (a ``bot.guard`` record) while its risk engine is latched, the operator
  resets it (``AppContext.operator_reset``) after a delay drawn uniformly from ``operator_reset_s`` (default
  ``OPERATOR_RESET_S``, 30-120 s) on the dedicated stream ``stream(seed, "harness", "operator")``, if the same
  instance is still up and still latched then; if it latches again at once (the cause still holds) the operator
  tries again after a new drawn delay.

While no instance is up (from a kill or stop until the next instance has started) a crash, cold restart or
operator stop is a no-op, recorded as ``harness.ignored`` ``{"f": kind, "why": "down"}``: it never kills the next
instance as it starts (it used to: chaos seed 5 at 5 minutes failed liveness that way).

``harness.operator`` records (the checker's evidence that a latch or a stop is legitimate):
``{"action": "sigint"|"sigterm"|"kill_switch", "when": "time"|"next_order"}`` at the signal,
``{"action": "stopped", "how", "verified", "remaining": count or null (unknown)}`` once the stop returned,
``{"action": "start"}`` when the operator starts a new instance, ``{"action": "reset", "latch": reasons}``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.app import AppContext, StopReport
from bot.connectors.binance.connector import BinanceConnector
from bot.execution.state import OrderStore
from bot.market.data import MarketData
from bot.quoting.quoter import SymbolQuoter
from exchange_sim.faults import Fault, FaultKind
from exchange_sim.rng import stream
from exchange_sim.world import SimWorld

__all__ = ["OPERATOR_RESET_S", "Harness", "Life", "LogRecorder"]

OPERATOR_RESET_S = (30.0, 120.0)  # the operator resets a latched HARD guard after uniform(30, 120) s
_INSTANCE_KINDS = (FaultKind.CRASH, FaultKind.COLD_RESTART, FaultKind.OPERATOR_STOP)


@dataclass(slots=True)
class Life:
    """One bot instance (one process in real life): its connector, context, feeds and quote loops."""

    connector: BinanceConnector
    app: AppContext
    markets: list[MarketData]
    quoters: list[SymbolQuoter]
    stopped: StopReport | None = None  # set when an operator stop ended it (and no new instance followed)


@dataclass(frozen=True, slots=True)
class _Action:
    """What a harness fault asks of the running instance."""

    kind: FaultKind
    restart_after_s: float
    how: str = ""  # operator_stop: sigint | sigterm | kill_switch
    when: str = ""  # operator_stop: time | next_order


StartLife = Callable[[OrderStore], Awaitable[Life]]


@dataclass(slots=True)
class Harness:
    """Supervisor and operator of one session (see module docstring). ``store`` is the live instance's store."""

    world: SimWorld
    store: OrderStore
    new_store: Callable[[], OrderStore]
    operator_reset_s: tuple[float, float] | None = OPERATOR_RESET_S
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    life: Life | None = None
    down: bool = True  # no instance is up (before the first start, and from a kill or stop to the next start)
    _actions: list[_Action] = field(default_factory=list)
    _armed: list[_Action] = field(default_factory=list)  # operator stops waiting for the next order
    _cold_next: bool = False
    _reset_for: Life | None = None  # the instance a latch reset is scheduled for
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = stream(self.world.seed, "harness", "operator")

    # -- inputs --
    def on_fault(self, fault: Fault, started: bool) -> None:
        """The injector's harness hook for the kinds this module applies (others are ignored)."""
        if not started:
            return
        if fault.kind is FaultKind.PAUSE:
            self.world.runtime.loop.freeze(fault.end_s)
            return
        if fault.kind not in _INSTANCE_KINDS:
            return
        if self.down:
            self._record("harness.ignored", {"f": fault.kind.value, "why": "down"})
            return
        if fault.kind is FaultKind.OPERATOR_STOP:
            action = _Action(fault.kind, fault.num("restart_after_s"), fault.text("how"), fault.text("when"))
            if action.when == "next_order":
                self._armed.append(action)
                return
        else:
            action = _Action(fault.kind, fault.num("restart_after_s"))
        self._actions.append(action)
        self.wake.set()

    def on_record(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        """See every bot record before it is logged (``LogRecorder``); returns the fields to log."""
        if kind == "bot.intent" and self._armed and not self.down:
            self._actions.extend(self._armed)
            self._armed.clear()
            self.wake.set()
        elif kind == "bot.guard" and fields.get("level") == "HARD":
            self._arm_reset()
        elif kind == "bot.restart" and self._cold_next:
            self._cold_next = False
            return {**fields, "cold": True}
        return fields

    # -- the operator's latch reset --
    def _arm_reset(self) -> None:
        life = self.life
        if (self.operator_reset_s is None or self.down or life is None or self._reset_for is life
                or not life.app.risk.latched):
            return
        self._reset_for = life
        low, high = self.operator_reset_s
        delay_s = self._rng.uniform(low, high)
        self.world.runtime.loop.call_later(delay_s, self._reset, life)

    def _reset(self, life: Life) -> None:
        if self._reset_for is life:
            self._reset_for = None
        if self.down or self.life is not life or not life.app.risk.latched:
            return
        self._record("harness.operator", {"action": "reset", "latch": ",".join(life.app.risk.reasons())})
        life.app.operator_reset("harness operator")
        if life.app.risk.latched:  # the cause still holds and latched again: the operator looks again later
            self._arm_reset()

    # -- applying queued actions --
    async def apply(self, start_life: StartLife, remaining_s: Callable[[], float]) -> Life:
        """Carry out what is queued on the live instance; returns the instance that is up afterwards (the
        stopped one, ``stopped`` set, when an operator stop ended the session's last instance). Everything queued
        at once hits the same instance: the first action decides (a stop, or a crash whose restart waits for the
        longest of the queued crashes' pauses and is cold if any of them is)."""
        self.wake.clear()
        if not self._actions or self.down:
            assert self.life is not None
            return self.life
        batch, self._actions = self._actions, []
        first, life = batch[0], self.life
        assert life is not None
        self.down = True
        self._armed.clear()
        if first.kind is FaultKind.OPERATOR_STOP:
            if not await self._operator_stop(life, first, remaining_s):
                return life  # its connector stays open for the session's final reconcile
            await life.connector.close()
            delay_s = first.restart_after_s
        else:
            await life.app.crash()
            await life.connector.close()
            crashes = [a for a in batch if a.kind is not FaultKind.OPERATOR_STOP]
            delay_s = max(a.restart_after_s for a in crashes)
            if any(a.kind is FaultKind.COLD_RESTART for a in crashes):
                self.store = self.new_store()
                self._cold_next = True
        await asyncio.sleep(min(delay_s, max(0.0, remaining_s())))
        if first.kind is FaultKind.OPERATOR_STOP:
            self._record("harness.operator", {"action": "start"})
        return await self.start(start_life)

    async def start(self, start_life: StartLife) -> Life:
        """Start an instance on the current store; it is up once started (a latch it restores arms a reset)."""
        life = await start_life(self.store)
        self.life = life
        self.down = False
        if life.app.risk.latched:
            self._arm_reset()
        return life

    async def _operator_stop(self, life: Life, action: _Action, remaining_s: Callable[[], float]) -> bool:
        """Stop the instance as the operator asked; True when a new instance is to be started."""
        self._record("harness.operator", {"action": action.how, "when": action.when})
        if action.how == "kill_switch":
            report = await life.app.kill("operator kill switch")
        else:
            report = await life.app.stop(f"operator {action.how}")
        life.stopped = report
        self._record("harness.operator", {"action": "stopped", "how": action.how,
                                          "verified": report.verified,
                                          "remaining": report.remaining})  # a count; null: could not list
        return action.restart_after_s < remaining_s()

    def _record(self, kind: str, fields: dict[str, Any]) -> None:
        self.world.log.record(self.world.runtime.now_us(), kind, fields)


class LogRecorder:
    """The bot's ``Recorder`` in a simulated session: appends to the world's event log at the virtual time (each
    record shown to the ``Harness`` first, which may add to it)."""

    __slots__ = ("_account", "_harness", "_log", "_runtime")

    enabled = True

    def __init__(self, world: SimWorld, account: str, harness: Harness | None = None) -> None:
        self._log = world.log
        self._runtime = world.runtime
        self._account = account
        self._harness = harness

    def record(self, kind: str, fields: dict[str, Any]) -> None:
        if self._harness is not None:
            fields = self._harness.on_record(kind, fields)
        self._log.record(self._runtime.now_us(), kind, {"a": self._account, **fields})
