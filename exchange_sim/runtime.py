"""Virtual-time asyncio: an event loop whose clock is a simpy Environment.

One job: run ordinary asyncio code (tasks, ``asyncio.sleep``, ``wait_for``, ``asyncio.timeout``, ``gather``,
``Queue``, ``Event``, ``call_later``) in simulated time, as fast as the CPU allows, interleaved
deterministically with simpy processes (the simulated market).

How: :class:`VirtualTimeLoop` is a stock ``SelectorEventLoop`` with two public substitutions: ``time()``
returns ``env.now``, and its selector is virtual. When asyncio would block for ``timeout`` seconds the
virtual selector does not block; it drives simpy instead (steps simpy's next event if it is due no later
than ``now + timeout``, else moves simpy's clock to ``now + timeout``, as stepping an ``env.timeout`` would)
and returns. asyncio's own timer heap (its entries keyed by float deadlines, same order), ready queue and task
machinery are used; one loop iteration (``_run_once``) is stock asyncio's with the virtual wait fused in (see
:class:`VirtualTimeLoop`).

Invariants and ordering guarantees:

1. ``loop.time() == env.now`` at every moment; time never goes backwards, and it only moves forward when
   asyncio is idle (no ready callbacks and no timer due at the current instant).
2. When asyncio is idle at ``now`` with its next timer at ``w`` (infinity if none) and simpy's next event is
   at ``s``: if ``s <= w`` the clock moves to ``s`` and simpy runs *every* event at ``s`` (including events
   those events schedule at ``s``) before asyncio runs anything; otherwise the clock moves to ``w``. Hence
   simpy events at ``t`` run before asyncio timers due at ``t`` and before the asyncio callbacks they make
   ready (``loop.call_soon``, ``future.set_result``, ``queue.put_nowait`` from a simpy callback run
   synchronously on the loop's thread and are seen by coroutines at the same ``env.now``).
3. Simpy events that asyncio code schedules at the current instant (``env.process(...)`` from a coroutine)
   run as soon as asyncio is idle again at that instant, before time moves.
4. asyncio's ready callbacks run first-in-first-out (stock). Timers with distinct deadlines fire in
   deadline order; timers with *equal* deadlines fire in heap order, which is deterministic but not FIFO:
   order explicitly where it matters. As in stock asyncio, a timer within the loop's clock resolution
   (~1 ns) of ``now`` counts as due. The clock lands exactly on a timer's deadline whenever the delay is no
   larger than the current time (otherwise within one float ulp, far inside that resolution).
5. Work handed to threads through ``run_in_executor`` / ``asyncio.to_thread`` (and the default executor's
   shutdown) takes zero virtual time: while any is in flight simpy is not stepped and the clock is frozen;
   the loop blocks on the real selector (up to ``stall_timeout_s`` real seconds) for the result.
6. Same program, same seeds, same trace: nothing here reads the wall clock or a random source. What breaks
   determinism lives outside: raw threads (use ``run_in_executor``), real sockets, ``time.time()``,
   iterating the done set of ``asyncio.wait``.

Errors raised (out of ``run``, ``run_until`` and ``run_until_complete``):

- :class:`SimulationStalled`: asyncio has nothing ready or scheduled, simpy has no events, and no executor
  work or foreign file descriptor is pending: nothing can ever happen again (a deadlock). Raised at once;
  also raised when executor work or foreign I/O shows no sign of life for ``stall_timeout_s`` real seconds.
- :class:`SimulationLivelock`: more than ``spin_limit`` consecutive loop iterations or simpy steps without
  virtual time advancing (a task spinning on ``await asyncio.sleep(0)``, a process on ``env.timeout(0)``).
- ``TimeoutError``: ``SimRuntime.run(main, until=t)`` when ``main`` is still running at simulated ``t``.
- ``ValueError``: ``run_until(t)`` with ``t`` earlier than ``now``; bad constructor limits.
- Whatever simpy raises from ``env.step()`` (a failed process nobody waits for) propagates unchanged.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import functools
import heapq
import math
import selectors
import sys
from collections.abc import Callable, Coroutine, Mapping
from contextvars import Context
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar, TypeVarTuple, Unpack

import simpy

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

__all__ = ["SimRuntime", "SimulationLivelock", "SimulationStalled", "VirtualTimeLoop"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")

_POLL_EVERY = 256
"""Poll the real selector at least every this many iterations (drains the self-pipe; signal handlers)."""
_BATCH_STEPS = 4096
"""Most simpy steps one select() may run back to back while no asyncio work appears (market-only stretches)."""
_MAX_SELECT_TIMEOUT_S = 24 * 3600.0  # asyncio.base_events.MAXIMUM_SELECT_TIMEOUT
_MIN_SCHEDULED_TIMER_HANDLES = 100  # asyncio.base_events: purge cancelled timers past this many ...
_MIN_CANCELLED_TIMER_HANDLES_FRACTION = 0.5  # ... when more than this fraction of them is cancelled
_NO_EVENTS: list[tuple[selectors.SelectorKey, int]] = []  # never mutated: the empty answer of a busy poll
_LOOP_INTERNALS = ("_ready", "_scheduled", "_stopping", "_closed", "_timer_cancelled_count", "_clock_resolution",
                   "_process_events")
"""What the fused mode reads of BaseEventLoop (CPython 3.11); without them the stock call_at and iteration run."""

_TASKS_IN_MESSAGE = 5
"""How many pending tasks a SimulationStalled message lists."""


class SimulationStalled(RuntimeError):
    """Nothing can ever happen again: every task awaits something no timer, simpy event or thread will do."""


class SimulationLivelock(RuntimeError):
    """Too many loop iterations without virtual time advancing (something spins at one instant)."""


class _VirtualSelector(selectors.BaseSelector):
    """Selector that, asked to wait, drives simpy instead of blocking; real I/O is delegated and polled.

    Lifecycle: created by :class:`VirtualTimeLoop` before the loop, attached to it once the loop has
    registered its self-pipe (those descriptors are the baseline, not foreign I/O), closed with the loop.
    """

    def __init__(self, env: simpy.Environment, stall_timeout_s: float, spin_limit: int) -> None:
        self._env = env
        self._plain_env = type(env) is simpy.Environment
        """A stock Environment, whose clock a wait may move by assignment (a subclass's step() may do more)."""
        self._real = selectors.DefaultSelector()
        self._stall_timeout_s = stall_timeout_s
        self._spin_limit = spin_limit
        self._loop: VirtualTimeLoop | None = None
        self._baseline_fds = 0
        self._has_foreign = False
        self._spins = 0
        self._last_now: float = -math.inf
        self._ticks = 0
        self.wakeup = False
        """Set after a call_soon_threadsafe: the self-pipe holds a byte to drain."""
        self.external_pending = 0
        """Executor jobs in flight; while positive the virtual clock is frozen."""
        self.horizon: float | None = None
        """When set, stop the loop once it is idle at this simulated time instead of passing it."""
        self.frozen_until: float | None = None
        """A process pause (``VirtualTimeLoop.freeze``): asyncio runs nothing until this simulated time."""

    def attach(self, loop: VirtualTimeLoop) -> None:
        self._loop = loop
        self._baseline_fds = len(self._real.get_map())
        self._has_foreign = False

    # -- delegation to the real selector -------------------------------------------------------------
    def register(self, fileobj: FileDescriptorLike, events: int, data: Any = None) -> selectors.SelectorKey:
        key = self._real.register(fileobj, events, data)
        self._note_registrations()
        return key

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        key = self._real.unregister(fileobj)
        self._note_registrations()
        return key

    def modify(self, fileobj: FileDescriptorLike, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_key(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._real.get_key(fileobj)

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()
        self._loop = None

    def _note_registrations(self) -> None:
        if self._loop is not None:
            self._has_foreign = len(self._real.get_map()) > self._baseline_fds

    # -- the virtual wait ----------------------------------------------------------------------------
    def poll(self) -> list[tuple[selectors.SelectorKey, int]]:
        """One loop iteration's bookkeeping without waiting: a pending freeze, the livelock count, and a poll
        of the real selector when a thread woke the loop, foreign I/O or executor work is pending, or every
        ``_POLL_EVERY`` iterations. Returns the real selector's events (usually none)."""
        if self.frozen_until is not None:
            self._run_frozen()
        now: float = self._env._now
        if now == self._last_now:
            self._spins += 1
            if self._spins > self._spin_limit:
                self._raise_livelock(now)
        else:
            self._last_now = now
            self._spins = 0
        self._ticks += 1
        if self.wakeup or self._has_foreign or self.external_pending or self._ticks >= _POLL_EVERY:
            self.wakeup = False
            self._ticks = 0
            return self._real.select(0)
        return _NO_EVENTS

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = self.poll()
        if timeout == 0 or events:
            return events
        return self.wait(timeout)

    def wait(self, timeout: float | None) -> list[tuple[selectors.SelectorKey, int]]:
        """The virtual wait of ``select(timeout)`` once :meth:`poll` found nothing (``timeout`` is not 0)."""
        env = self._env
        now: float = env._now
        if self.external_pending:
            return self._wait_real(now, f"{self.external_pending} executor job(s) in flight")
        target = math.inf if timeout is None else now + timeout
        peek = env.peek
        next_simpy: float = peek()
        horizon = self.horizon
        if horizon is not None and (target if target < next_simpy else next_simpy) > horizon:
            if now < horizon:
                self._advance_to(now, horizon)
            elif self._loop is not None:
                self._loop.stop()
            return _NO_EVENTS
        if next_simpy <= target and next_simpy != math.inf:
            # Step simpy until asyncio has a ready callback, simpy's next event passes the deadline, the
            # horizon or asyncio's earliest timer (one a step may just have scheduled), or the batch ends: the
            # same order of events as one step per select(), without an asyncio iteration per step.
            limit = target if horizon is None or not horizon < target else horizon
            internals: Any = self._loop  # asyncio's ready queue and timer heap, read only
            ready, scheduled = (internals._ready, internals._scheduled) if internals is not None else ((), [])
            for _ in range(_BATCH_STEPS):
                stepped_at = next_simpy
                env.step()
                next_simpy = peek()
                if next_simpy <= stepped_at:
                    self._drain_instant()
                    next_simpy = peek()
                if ready:
                    break
                if scheduled and scheduled[0].when() < limit:
                    limit = scheduled[0].when()
                if next_simpy > limit:
                    break
            return _NO_EVENTS
        if timeout is not None:
            if self._plain_env:  # what stepping a callback-less env.timeout(timeout) does, minus the event
                env._now = now + timeout
            else:
                env.timeout(timeout)
                env.step()
            return _NO_EVENTS
        if self._has_foreign:
            return self._wait_real(now, "foreign file descriptors are registered")
        raise SimulationStalled(self._stall_message(now))

    def _run_frozen(self) -> None:
        """The pause: step simpy alone up to ``frozen_until`` (a freeze started meanwhile extends it); asyncio's
        timers and ready callbacks wait, so everything due meanwhile runs at once, late, when this returns."""
        env = self._env
        while (until := self.frozen_until) is not None:
            if self.horizon is not None and until > self.horizon:  # run_until(t): stop at t, stay frozen
                until = self.horizon
            while env.peek() <= until:
                env.step()
            if env._now < until:
                self._advance_to(env._now, until)
            if until == self.frozen_until:
                self.frozen_until = None
            elif self.horizon is not None and until == self.horizon:
                if self._loop is not None:
                    self._loop.stop()
                return

    def _drain_instant(self) -> None:
        """Run every further simpy event at the current instant (bounded by the spin limit)."""
        env = self._env
        now: float = env._now
        if now != self._last_now:
            self._last_now = now
            self._spins = 0
        while env.peek() <= now:
            self._spins += 1
            if self._spins > self._spin_limit:
                self._raise_livelock(now)
            env.step()

    def _advance_to(self, now: float, target: float) -> None:
        """Move simpy's clock to exactly ``target`` (no simpy event is due before it)."""
        delay = target - now
        for _ in range(4):  # float rounding: make now + delay land exactly on target
            if now + delay < target:
                delay = math.nextafter(delay, math.inf)
            elif now + delay > target:
                delay = math.nextafter(delay, -math.inf)
            else:
                break
        self._env.timeout(max(delay, 0.0))
        self._env.step()

    def _wait_real(self, now: float, reason: str) -> list[tuple[selectors.SelectorKey, int]]:
        events = self._real.select(self._stall_timeout_s)
        if not events:
            raise SimulationStalled(
                f"simulation stalled at t={now!r}s: {reason}, but nothing happened for "
                f"{self._stall_timeout_s}s of real time (stall_timeout_s); virtual time is frozen meanwhile"
            )
        return events

    def _raise_livelock(self, now: float) -> None:
        spins, self._spins = self._spins, 0
        raise SimulationLivelock(
            f"{spins} loop iterations at simulated t={now!r}s without virtual time advancing "
            f"(spin_limit={self._spin_limit}); a task is probably spinning on `await asyncio.sleep(0)` "
            "or a simpy process on `yield env.timeout(0)`"
        )

    def _stall_message(self, now: float) -> str:
        loop = self._loop
        tasks = [] if loop is None else sorted(asyncio.all_tasks(loop), key=lambda task: task.get_name())
        shown = "; ".join(repr(task) for task in tasks[:_TASKS_IN_MESSAGE])
        more = f" (+{len(tasks) - _TASKS_IN_MESSAGE} more)" if len(tasks) > _TASKS_IN_MESSAGE else ""
        return (
            f"simulation stalled at t={now!r}s: no asyncio callback or timer is scheduled, simpy has no "
            f"events and no executor work is in flight, so nothing can ever happen again (deadlock). "
            f"{len(tasks)} pending task(s): {shown or '-'}{more}"
        )


class _TimerKey(float):
    """A timer's deadline as a float, carrying its handle: the timer heap's entry in the fused mode.

    heapq compares entries with ``<`` only, and ``float``'s C comparison gives exactly the answers of
    ``TimerHandle.__lt__`` (deadlines compared, ties equal), so a heap of keys goes through the same
    permutations as asyncio's heap of handles (equal-time order included) without a Python-level
    ``__lt__`` call per comparison.
    """

    __slots__ = ("handle",)
    handle: asyncio.TimerHandle
    when = float.__float__
    """The deadline as a plain float, like ``TimerHandle.when()``."""


def _key(handle: asyncio.TimerHandle) -> _TimerKey:
    key = _TimerKey(handle.when())
    key.handle = handle
    return key


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A SelectorEventLoop whose ``time()`` is ``env.now`` and whose idle waits drive simpy.

    Lifecycle: built around one simpy Environment (a fresh one if none is given); run with the usual
    ``run_until_complete`` / ``run_forever`` or :meth:`run_until`; closed with ``close()``.

    Speed: a simulated session runs millions of loop iterations, so in the *fused mode* ``_run_once`` is
    CPython 3.11's own iteration (same cancelled-timer purge, timeout, due-timer and ready-queue handling, in
    the same order) with the selector call made only when the loop would wait; a busy iteration just does the
    selector's bookkeeping (``_VirtualSelector.poll``). In that mode asyncio's timer heap holds
    :class:`_TimerKey` entries instead of handles (``call_at`` pushes them, ``_run_once`` pops them). Both read
    asyncio's private loop state, which is why they live here and nowhere else. With asyncio debug mode on, or
    on any Python but 3.11 (whose iteration this mirrors), the heap holds handles and the stock ``call_at`` and
    iteration run; ``set_debug`` converts the heap entry by entry (same positions, so the same heap).
    """

    env: simpy.Environment
    _vt_capable = False
    """Python 3.11 with the loop internals the fused mode uses (False until ``__init__`` has checked)."""
    _vt_fast = False
    """Fused mode: capable and not in debug mode; the timer heap holds :class:`_TimerKey` entries."""

    def __init__(
        self,
        env: simpy.Environment | None = None,
        *,
        stall_timeout_s: float = 30.0,
        spin_limit: int = 1_000_000,
    ) -> None:
        if not stall_timeout_s > 0:
            raise ValueError(f"stall_timeout_s must be > 0, got {stall_timeout_s!r}")
        if spin_limit < 1:
            raise ValueError(f"spin_limit must be >= 1, got {spin_limit!r}")
        self.env = env if env is not None else simpy.Environment()
        self._vt_selector = _VirtualSelector(self.env, stall_timeout_s, spin_limit)
        super().__init__(selector=self._vt_selector)
        self._vt_selector.attach(self)
        # ``get_debug`` is asked by every Handle, TimerHandle, Future and Task made: the stock method's answer
        # (``self._debug``) read by a C callable instead of a Python frame per object
        self.get_debug = functools.partial(getattr, self, "_debug")  # type: ignore[method-assign]
        self._vt_capable = sys.version_info[:2] == (3, 11) and all(hasattr(self, n) for n in _LOOP_INTERNALS)
        self._vt_set_mode()

    def time(self) -> float:
        """Simulated seconds: ``env.now`` (read from simpy's ``_now`` behind the property: the hottest call)."""
        now: float = self.env._now
        return now

    def set_debug(self, enabled: bool) -> None:
        """Stock, plus entering or leaving the fused mode: at once, or between two callbacks when the loop is
        running (a wait may step simpy code that calls this; the iteration around it must keep its heap)."""
        super().set_debug(enabled)
        if self.is_running():
            self.call_soon_threadsafe(self._vt_set_mode)
        else:
            self._vt_set_mode()

    def _vt_set_mode(self) -> None:
        fast = self._vt_capable and not self.get_debug()
        if fast == self._vt_fast:
            return
        internals: Any = self
        heap: list[Any] = internals._scheduled
        heap[:] = [_key(handle) for handle in heap] if fast else [key.handle for key in heap]
        self._vt_fast = fast

    def call_soon(
        self, callback: Callable[[Unpack[Ts]], object], *args: *Ts, context: Context | None = None
    ) -> asyncio.Handle:
        """Stock ``call_soon``, inlined in the fused mode (no debug checks to make, no traceback to trim)."""
        internals: Any = self
        if not self._vt_fast:
            handle: asyncio.Handle = super().call_soon(callback, *args, context=context)
            return handle
        if internals._closed:
            raise RuntimeError("Event loop is closed")
        handle = asyncio.Handle(callback, args, self, context)
        internals._ready.append(handle)
        return handle

    def call_at(
        self, when: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts, context: Context | None = None
    ) -> asyncio.TimerHandle:
        """Stock ``call_at``; in the fused mode (no debug checks to make) it pushes a :class:`_TimerKey`."""
        if not self._vt_fast:
            return super().call_at(when, callback, *args, context=context)
        if when is None:
            raise TypeError("when cannot be None")
        internals: Any = self
        if internals._closed:
            raise RuntimeError("Event loop is closed")
        timer = asyncio.TimerHandle(when, callback, args, self, context)
        key = _TimerKey(when)
        key.handle = timer
        heapq.heappush(internals._scheduled, key)
        timer._scheduled = True  # type: ignore[attr-defined]
        return timer

    def call_later(
        self, delay: float, callback: Callable[[Unpack[Ts]], object], *args: *Ts, context: Context | None = None
    ) -> asyncio.TimerHandle:
        """Stock ``call_later``: ``call_at(now + delay)``, with the clock read from simpy directly."""
        if not self._vt_fast:
            return super().call_later(delay, callback, *args, context=context)
        if delay is None:
            raise TypeError("delay must not be None")
        now: float = self.env._now
        return self.call_at(now + delay, callback, *args, context=context)

    def freeze(self, until_s: float) -> None:
        """Pause the process (SIGSTOP-like) until simulated ``until_s``: from the next loop iteration no asyncio
        callback or timer runs while simpy (the world) runs on; then every timer and delivery that fell due
        meanwhile runs at once, late. A freeze asked for while frozen extends it; one in the past does nothing.
        Call it from a simpy callback or a coroutine (the current callback finishes first)."""
        selector = self._vt_selector
        if until_s > self.time() and (selector.frozen_until is None or until_s > selector.frozen_until):
            selector.frozen_until = until_s

    def run_until(self, t: float) -> None:
        """Run simpy and whatever is scheduled on this loop until simulated time ``t``, then return.

        Everything due at or before ``t`` runs (including what it triggers at ``t``); ``env.now == t`` after.
        """
        now = self.time()
        if t < now:
            raise ValueError(f"cannot run until t={t!r}s: simulated time is already {now!r}s")
        self._vt_selector.horizon = t
        try:
            self.run_forever()
        finally:
            self._vt_selector.horizon = None

    @property
    def timers_view(self) -> list[asyncio.TimerHandle] | list[_TimerKey]:
        """asyncio's timer heap (read-only use: ``[0].when()`` is the earliest deadline, possibly a cancelled
        timer's); its entries are :class:`_TimerKey` in the fused mode, handles otherwise."""
        internals: Any = self
        scheduled: list[asyncio.TimerHandle] | list[_TimerKey] = internals._scheduled
        return scheduled

    def _run_once(self) -> None:
        """One loop iteration: CPython 3.11's ``BaseEventLoop._run_once`` with the virtual wait fused in."""
        if not self._vt_fast:
            internals_run_once: Callable[[], None] = super()._run_once  # type: ignore[misc]
            internals_run_once()
            return
        internals: Any = self  # asyncio's private state, read and written exactly as the stock iteration does
        scheduled: list[_TimerKey] = internals._scheduled
        count = len(scheduled)
        if (count > _MIN_SCHEDULED_TIMER_HANDLES
                and internals._timer_cancelled_count / count > _MIN_CANCELLED_TIMER_HANDLES_FRACTION):
            live = []
            for key in scheduled:
                handle = key.handle
                if handle._cancelled:
                    handle._scheduled = False  # type: ignore[attr-defined]
                else:
                    live.append(key)
            heapq.heapify(live)
            internals._scheduled = scheduled = live
            internals._timer_cancelled_count = 0
        else:
            while scheduled and scheduled[0].handle._cancelled:
                internals._timer_cancelled_count -= 1
                heapq.heappop(scheduled).handle._scheduled = False  # type: ignore[attr-defined]
        ready: collections.deque[Any] = internals._ready
        selector = self._vt_selector
        env = self.env
        events = selector.poll()
        if not events and not ready and not internals._stopping:
            # stock: select(min(max(0, when - now), MAXIMUM_SELECT_TIMEOUT)), and a zero timeout never waits
            if not scheduled:
                events = selector.wait(None)
            else:
                timeout: float = scheduled[0] - env._now
                if timeout > 0:
                    events = selector.wait(timeout if timeout < _MAX_SELECT_TIMEOUT_S else _MAX_SELECT_TIMEOUT_S)
        if events:
            internals._process_events(events)
        end_time = env._now + internals._clock_resolution
        while scheduled and scheduled[0] < end_time:
            handle = heapq.heappop(scheduled).handle
            handle._scheduled = False  # type: ignore[attr-defined]
            ready.append(handle)
        for _ in range(len(ready)):
            handle = ready.popleft()
            if not handle._cancelled:
                handle._run()

    def call_soon_threadsafe(
        self, callback: Callable[[Unpack[Ts]], object], *args: *Ts, context: Context | None = None
    ) -> asyncio.Handle:
        handle = super().call_soon_threadsafe(callback, *args, context=context)
        self._vt_selector.wakeup = True
        return handle

    def run_in_executor(
        self, executor: concurrent.futures.Executor | None, func: Callable[[Unpack[Ts]], T], *args: *Ts
    ) -> asyncio.Future[T]:
        future = super().run_in_executor(executor, func, *args)
        self._vt_selector.external_pending += 1
        future.add_done_callback(self._vt_external_done)
        return future

    if sys.version_info >= (3, 12):  # 3.12 added ``timeout``; asyncio.Runner passes it on close
        async def shutdown_default_executor(self, timeout: float | None = None) -> None:
            self._vt_selector.external_pending += 1
            try:
                await super().shutdown_default_executor(timeout)
            finally:
                self._vt_selector.external_pending -= 1
    else:
        async def shutdown_default_executor(self) -> None:
            self._vt_selector.external_pending += 1
            try:
                await super().shutdown_default_executor()
            finally:
                self._vt_selector.external_pending -= 1

    def _vt_external_done(self, _future: asyncio.Future[Any]) -> None:
        self._vt_selector.external_pending -= 1


class SimRuntime:
    """Owns one simpy Environment and one VirtualTimeLoop, and runs coroutines on them.

    Lifecycle: open after construction; ``run`` / ``run_until`` may be called any number of times, in any
    order (tasks left over by one call keep running in the next, as with ``asyncio.Runner``); ``close()``
    (or leaving the ``with`` block) cancels leftover tasks, shuts down async generators and the default
    executor, and closes the loop. A closed runtime cannot run again.
    """

    env: simpy.Environment
    loop: VirtualTimeLoop

    def __init__(
        self,
        env: simpy.Environment | None = None,
        *,
        stall_timeout_s: float = 30.0,
        spin_limit: int = 1_000_000,
    ) -> None:
        self.env = env if env is not None else simpy.Environment()
        self.loop = VirtualTimeLoop(self.env, stall_timeout_s=stall_timeout_s, spin_limit=spin_limit)
        self._runner = asyncio.Runner(loop_factory=lambda: self.loop)
        self._runner.get_loop()

    def now(self) -> float:
        """Simulated seconds."""
        return float(self.env.now)

    def now_us(self) -> int:
        """Simulated time in integer microseconds (for logs and timestamps; read from ``_now`` behind simpy's
        ``now`` property, like ``VirtualTimeLoop.time``: several calls per venue event)."""
        now: float = self.env._now
        return round(now * 1e6)

    def run(self, main: Coroutine[Any, Any, T], *, until: float | None = None) -> T:
        """Run ``main`` to completion on the loop and return its result (``asyncio.Runner.run`` semantics).

        With ``until``: if ``main`` is still running at simulated time ``until`` it is cancelled there (as by
        ``asyncio.timeout_at(until)``; its cleanup may take further simulated time) and ``TimeoutError`` is
        raised. A ``TimeoutError`` that ``main`` raises on its own propagates unchanged.
        """
        if until is None:
            return self._runner.run(main)
        if until < self.now():
            main.close()
            raise ValueError(f"until={until!r}s is before the current simulated time {self.now()!r}s")
        return self._runner.run(_bounded(main, until))

    def run_until(self, t: float) -> None:
        """Advance the whole world (simpy processes and tasks already on the loop) to simulated time ``t``."""
        self.loop.run_until(t)

    def as_future(self, event: simpy.Event) -> asyncio.Future[Any]:
        """An asyncio future resolved with a simpy event's value (or failed with its exception)."""
        future: asyncio.Future[Any] = self.loop.create_future()

        def resolve(done: simpy.Event) -> None:
            if not done.ok:
                done.defused = True
            if future.done():
                return
            value = done.value
            if isinstance(value, BaseException) and not done.ok:
                future.set_exception(value)
            else:
                future.set_result(value)

        if event.callbacks is None:
            resolve(event)
        else:
            event.callbacks.append(resolve)
        return future

    def close(self) -> None:
        """Cancel leftover tasks, shut down async generators and the default executor, close the loop."""
        self._runner.close()

    def __enter__(self) -> SimRuntime:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


async def _bounded(main: Coroutine[Any, Any, T], until: float) -> T:
    scope = asyncio.timeout_at(until)
    try:
        async with scope:
            return await main
    except TimeoutError as exc:
        if scope.expired():
            raise TimeoutError(f"main still running at simulated until={until!r}s; cancelled") from exc
        raise
