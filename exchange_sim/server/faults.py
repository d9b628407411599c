"""Transport faults of the wire server: a ``Scenario`` applied to real HTTP requests and WebSocket messages.

Time is seconds since the server started (``RealTimeDriver.elapsed_s``); a fault hits a request or message
with probability ``toxicity`` (seeded draws, one stream per fault). What each kind does here:

* REST (``rest_call``): ``partition`` - the request hangs until the fault heals, then the connection is dropped
  (upstream: never executed; downstream: executed first); ``latency`` - added delay (+ uniform jitter, spikes)
  before and after execution; ``reset_peer`` (target ``both``) - connection closed before execution;
  ``timeout_after_processing`` - executed, then HTTP 503 -1007 or the connection dropped; ``outage`` - HTTP 503
  (writes -1007, possibly executed) or a WAF 403; ``rate_limit`` - its own weight budget, 429 then 418;
  ``reject`` - a Binance reject of order writes, not executed; ``clock_skew`` - server time moves (-1021 follows).
* Streams (``feed_gate.FeedGate``): ``partition`` drops messages; ``latency`` delays them in order;
  ``stale_feed`` withholds them (dropped or flushed at heal); ``feed_gap`` drops, duplicates or reorders depth
  updates; ``user_stream`` misses, duplicates or delays execution reports; ``reset_peer`` closes open sockets at
  the fault's start and, with ``reconnect=refuse``, new ones during the window.

Issue-16 kinds and parameters: ``trigger`` (next_order / next_cancel / next_replace: armed faults fire at the
first matching REST request; WebSocket API requests do not trigger), ``request`` (timeout_after_processing aimed
at one request type), ``cancel_replace_half`` (409 -2021: the cancel done, the new order refused; the
cancelReplace handler reads ``HALF_REPLACE``), ``truncated_frame`` (REST: half the body under the full
Content-Length, then the connection aborts; streams: half a JSON text frame, then the socket aborts),
``slow_close`` and ``server_disconnect`` (the socket goes silent and closes with 1001 now or after close_s /
grace_s; ``server_shutdown`` on the WebSocket API sends ``{"event": {"e": "serverShutdown", "E"}}`` first),
``report_redelivered`` (a TRADE execution report is sent again with a new ``t``). A fault's first eligible
request or message is always hit (``model`` docstring).

Every start, end and effect is written to the event log (kinds ``fault`` and ``fault_hit``), as the in-process
injector does. Kinds that act on the market or the bot process are not transport faults and are ignored here.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable, Generator
from typing import Any

import simpy
from aiohttp import web

from exchange_sim.engine.types import ErrorCode
from exchange_sim.eventlog import EventLog
from exchange_sim.faults.model import (
    REQUEST_OPS,
    TRIGGER_OPS,
    Fault,
    FaultKind,
    Scenario,
    closing_s,
    stream_ids,
)
from exchange_sim.rng import stream
from exchange_sim.server import errors
from exchange_sim.server.clock import ServerClock
from exchange_sim.server.errors import ApiError
from exchange_sim.server.limits import WeightLimiter

Handler = Callable[[], Awaitable[web.StreamResponse]]
HALF_REPLACE = web.RequestKey("cancel_replace_half", bool)  # the cancelReplace handler refuses the new order
REST_OPS = {("POST", "/api/v3/order"): "place", ("DELETE", "/api/v3/order"): "cancel",
            ("DELETE", "/api/v3/openOrders"): "cancelAll", ("POST", "/api/v3/order/cancelReplace"): "cancelReplace",
            ("GET", "/api/v3/order"): "getOrder", ("GET", "/api/v3/openOrders"): "openOrders",
            ("GET", "/api/v3/account"): "account", ("GET", "/api/v3/myTrades"): "myTrades",
            ("GET", "/api/v3/time"): "time", ("GET", "/api/v3/depth"): "depth",
            ("GET", "/api/v3/exchangeInfo"): "exchangeInfo"}  # request types, as the in-process venue names them
WRITE_OPS = frozenset({"place", "cancel", "cancelAll", "cancelReplace"})
_STREAM_ENDS = frozenset({FaultKind.RESET_PEER, FaultKind.SLOW_CLOSE, FaultKind.SERVER_DISCONNECT})
MAX_HANG_S = 300.0  # a partitioned request never hangs longer than this
_REJECTS = {
    "insufficient_balance": (int(ErrorCode.NEW_ORDER_REJECTED),
                             "Account has insufficient balance for requested action."),
    "filter": (int(ErrorCode.FILTER_FAILURE), "Filter failure: PRICE_FILTER"),
    "would_match": (int(ErrorCode.NEW_ORDER_REJECTED), "Order would immediately match and take."),
    "unknown_order": (int(ErrorCode.CANCEL_REJECTED), "Unknown order sent."),
}


class ConnectionDropped(Exception):
    """The fault layer closed the client's connection: nothing must be written back."""


class ServerFaults:
    """One scenario applied at the transport (see module docstring). An empty scenario does nothing."""

    def __init__(self, scenario: Scenario, *, seed: int, driver: ServerClock, log: EventLog) -> None:
        self.scenario = scenario
        self.driver = driver
        self.log = log
        self.hits = [0] * len(scenario.faults)
        self._rngs = [stream(seed, "server-faults", key, f.kind.value)
                      for key, f in zip(stream_ids(scenario), scenario.faults, strict=True)]
        self._limiters: dict[int, WeightLimiter] = {}
        self._struck: set[int] = set()  # faults that have hit at least once
        # effective windows: [start, end) for trigger=time; (inf, inf) while armed, then from the trigger
        self._windows = [(f.start_s, f.end_s) if _trigger(f) == "time" else (math.inf, math.inf)
                         for f in scenario.faults]
        self._armed: dict[int, simpy.Event] = {}
        self.redelivered = 0  # report_redelivered: trade ids made up so far
        driver.skew_ms = self._skew_ms

    # -- bookkeeping --
    def start(self) -> None:
        """Record each fault's start and end in the event log at its time (simpy processes)."""
        for index, fault in enumerate(self.scenario.faults):
            self.driver.env.process(self._lifecycle(index, fault))

    def _lifecycle(self, index: int, fault: Fault) -> Generator[simpy.Event, Any, None]:
        env = self.driver.env
        yield env.timeout(max(0.0, fault.start_s - env.now))
        self.log.record(self.driver.now_us(), "fault", {"id": index, "f": fault.kind.value, "tg": fault.target,
                                                        "ph": "start", "dur": fault.duration_s,
                                                        "x": fault.toxicity, "prm": dict(fault.params)})
        end: dict[str, Any] = {"id": index, "f": fault.kind.value, "tg": fault.target, "ph": "end"}
        if _trigger(fault) != "time":
            armed = self._armed[index] = env.event()
            yield armed | env.timeout(fault.duration_s)
            if not armed.triggered:
                del self._armed[index]
                self.log.record(self.driver.now_us(), "fault", {**end, "hits": 0, "fired": False})
                return
        yield env.timeout(max(0.0, self._windows[index][1] - self.now_s()))
        yield env.timeout(max(0.0, self._windows[index][0] + closing_s(fault) - self.now_s()))
        self.log.record(self.driver.now_us(), "fault", {**end, "hits": self.hits[index]})

    def observe(self, op: str, symbol: str | None) -> None:
        """A request ``op`` arrived: fire the armed faults it triggers (``model`` TRIGGER_OPS)."""
        now = self.now_s()
        for index, event in list(self._armed.items()):
            fault = self.scenario.faults[index]
            if op not in TRIGGER_OPS[_trigger(fault)] or not fault.start_s <= now < fault.end_s:
                continue
            if fault.target not in ("rest", "both", "ws", "user") and fault.target != symbol:
                continue
            del self._armed[index]
            self._windows[index] = (now, now + fault.duration_s)
            self._struck.discard(index)  # the triggering request is hit whatever the toxicity
            self.log.record(self.driver.now_us(), "fault", {"id": index, "f": fault.kind.value, "ph": "trigger",
                                                            "op": op})
            event.succeed(op)

    def now_s(self) -> float:
        return self.driver.elapsed_s()

    def active(self, channel: str, symbol: str | None = None) -> list[tuple[int, Fault]]:
        now = self.now_s()
        windows = self._windows
        return [(i, f) for i, f in enumerate(self.scenario.faults)
                if windows[i][0] <= now < windows[i][1] and f.hits(channel, symbol)]

    def strikes(self, index: int, fault: Fault, *, first: bool = True) -> bool:
        """Whether this request/message is hit (toxicity), counting the hit. A fault's first order request
        (``first``: reads never take it) or stream message is always hit (``model`` docstring)."""
        first = first and index not in self._struck and fault.toxicity > 0
        if not first and fault.toxicity < 1.0 and self._rngs[index].random() >= fault.toxicity:
            return False
        self._struck.add(index)
        self.hits[index] += 1
        return True

    def record_hit(self, index: int, fault: Fault, effect: str, **fields: object) -> None:
        self.log.record(self.driver.now_us(), "fault_hit", {"id": index, "f": fault.kind.value, "e": effect,
                                                            **fields})

    def rng(self, index: int) -> random.Random:
        return self._rngs[index]

    def _skew_ms(self, now_s: float) -> float:
        skew = 0.0
        for fault in self.scenario.faults:
            if fault.kind is FaultKind.CLOCK_SKEW and fault.is_active(now_s):
                skew += fault.num("offset_ms") + fault.num("drift_ppm") * (now_s - fault.start_s) / 1000.0
                period = fault.num("strobe_period_s")
                if period > 0 and int((now_s - fault.start_s) / period) % 2:
                    skew += fault.num("strobe_ms")
        return skew

    def delay_s(self, index: int, fault: Fault) -> float:
        rng = self._rngs[index]
        delay = fault.num("latency_ms") + rng.random() * fault.num("jitter_ms")
        if fault.num("spike_probability") and rng.random() < fault.num("spike_probability"):
            delay += rng.random() * fault.num("spike_ms")
        return delay / 1000.0

    # -- REST --
    async def rest_call(self, request: web.Request, handler: Handler, *, symbol: str | None, write: bool,
                        weight: int) -> web.StreamResponse:
        """Run ``handler`` through the active REST faults."""
        if not self.scenario:
            return await handler()
        op = REST_OPS.get((request.method, request.path), "")
        self.observe(op, symbol)
        faults = [(i, f) for i, f in self.active("rest", symbol)
                  if _eligible(f, op, write and request.method == "POST") and self.strikes(i, f, first=op in WRITE_OPS)]
        if not faults:
            return await handler()
        delay_after = 0.0
        after: tuple[int, Fault] | None = None
        truncated: tuple[int, Fault] | None = None
        for index, fault in faults:
            kind = fault.kind
            if kind is FaultKind.PARTITION and fault.text("direction") in ("both", "upstream"):
                self.record_hit(index, fault, "blackholed", path=request.path)
                await self._hang_and_drop(request, fault)
            elif kind is FaultKind.RESET_PEER:
                self.record_hit(index, fault, "reset", path=request.path)
                drop(request)
            elif kind is FaultKind.OUTAGE:
                await self._outage(request, handler, index, fault, write)
            elif kind is FaultKind.RATE_LIMIT:
                limiter = self._limiters.setdefault(index, WeightLimiter(
                    limit=int(fault.num("weight_limit")) or 0, window_s=fault.num("window_s"),
                    ban_after=int(fault.num("ban_after")), ban_s=fault.num("ban_s")))
                try:
                    limiter.charge(request.remote or "?", weight, self.now_s() - fault.start_s)
                except ApiError as error:
                    self.record_hit(index, fault, f"http{error.status}", path=request.path)
                    raise
            elif kind is FaultKind.REJECT:
                code, msg = _REJECTS[fault.text("reason")]
                self.record_hit(index, fault, "reject", path=request.path, code=code)
                raise ApiError(code, msg)
            elif kind is FaultKind.LATENCY:
                await asyncio.sleep(self.delay_s(index, fault))
                delay_after += self.delay_s(index, fault)
            elif kind is FaultKind.CANCEL_REPLACE_HALF:
                self.record_hit(index, fault, "cancel_replace_half", path=request.path)
                request[HALF_REPLACE] = True
            elif kind is FaultKind.TRUNCATED_FRAME:
                truncated = (index, fault)
            elif kind in (FaultKind.TIMEOUT_AFTER_PROCESSING, FaultKind.PARTITION):
                after = (index, fault)  # downstream partition: executed, the answer is lost
        response = await handler()
        if delay_after:
            await asyncio.sleep(delay_after)
        if truncated is not None:
            self.record_hit(truncated[0], truncated[1], "reply_truncated", path=request.path)
            await _send_truncated(request, response)
        if after is not None:
            index, fault = after
            if fault.kind is FaultKind.PARTITION:
                self.record_hit(index, fault, "reply_lost", path=request.path)
                await self._hang_and_drop(request, fault)
            elif fault.text("reply") == "lost":
                self.record_hit(index, fault, "reply_lost", path=request.path)
                drop(request)
            else:
                self.record_hit(index, fault, "timeout_after_processing", path=request.path)
                raise errors.unknown_outcome()
        return response

    async def _hang_and_drop(self, request: web.Request, fault: Fault) -> None:
        await asyncio.sleep(min(MAX_HANG_S, max(0.0, fault.end_s - self.now_s())))
        drop(request)

    async def _outage(self, request: web.Request, handler: Handler, index: int, fault: Fault, write: bool) -> None:
        if fault.text("status") == "403":
            self.record_hit(index, fault, "http403", path=request.path)
            raise ApiError(errors.UNKNOWN, "Forbidden: request blocked by the web application firewall.", status=403)
        if write:
            executed = self._rngs[index].random() < fault.num("executes_probability")
            if executed:
                await handler()
            self.record_hit(index, fault, "http503", path=request.path, executed=executed)
            raise errors.unknown_outcome()
        self.record_hit(index, fault, "http503", path=request.path)
        raise ApiError(errors.SERVER_BUSY, "Service Unavailable.", status=503)

    # -- WebSockets --
    def refuse_connection(self, channel: str) -> bool:
        """A reset_peer fault with ``reconnect=refuse`` is active on ``channel``."""
        return any(f.kind is FaultKind.RESET_PEER and f.text("reconnect") == "refuse"
                   for _, f in self.active(channel))

    def stream_end(self, channel: str, connected_s: float) -> tuple[int, str, float] | None:
        """How a socket on ``channel`` opened at ``connected_s`` must end now, or None: (fault, effect, close delay)
        for the first reset_peer (``reset``: abort), slow_close (``slow_close``: silent, closed after close_s) or
        server_disconnect (``24h`` / ``missed_pong``: closed now; ``server_shutdown``: the event, closed after
        grace_s) fault that took effect since the socket opened. Every targeted socket is ended (no toxicity
        draw: the socket polls this). The socket logs the hit (``record_stream_end``)."""
        now = self.now_s()
        for index, fault in enumerate(self.scenario.faults):
            if fault.kind not in _STREAM_ENDS or not fault.hits(channel):
                continue
            if not connected_s < self._windows[index][0] <= now:
                continue
            if fault.kind is FaultKind.RESET_PEER:
                return index, "reset", 0.0
            if fault.kind is FaultKind.SLOW_CLOSE:
                return index, "slow_close", fault.num("close_s")
            reason = fault.text("reason")
            return index, reason, fault.num("grace_s") if reason == "server_shutdown" else 0.0
        return None

    def reset_since(self, channel: str, connected_s: float) -> bool:
        """A reset_peer fault on ``channel`` took effect after a socket connected: the socket must be closed."""
        end = self.stream_end(channel, connected_s)
        return end is not None and end[1] == "reset"

    def record_stream_end(self, index: int, effect: str, channel: str) -> None:
        """Log one socket ended by fault ``index`` (from ``stream_end``)."""
        self.hits[index] += 1
        self.record_hit(index, self.scenario.faults[index], effect, ch=channel)

    def truncates(self, channel: str) -> bool:
        """Whether the next frame on ``channel`` is cut short (a truncated_frame fault strikes it), logged."""
        for index, fault in self.active(channel):
            if fault.kind is FaultKind.TRUNCATED_FRAME and self.strikes(index, fault):
                self.record_hit(index, fault, "frame_truncated", ch=channel)
                return True
        return False


def _trigger(fault: Fault) -> str:
    return str(fault.params.get("trigger", "time"))


def _eligible(fault: Fault, op: str, order_write: bool) -> bool:
    """Whether a REST request ``op`` is one ``fault`` can act on (before its toxicity is drawn)."""
    kind = fault.kind
    if kind is FaultKind.REJECT:
        return order_write
    if kind is FaultKind.CANCEL_REPLACE_HALF:
        return op == "cancelReplace"
    if kind is FaultKind.TIMEOUT_AFTER_PROCESSING:
        request = fault.text("request")
        if request != "any":
            return op in REQUEST_OPS[request]
        return op in WRITE_OPS or fault.text("ops") == "all"
    return True


async def _send_truncated(request: web.Request, response: web.StreamResponse) -> None:
    """Write the first half of ``response``'s body under its full Content-Length, then drop the connection."""
    body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else b"{}"
    partial = web.StreamResponse(status=response.status, headers={"Content-Type": "application/json"})
    partial.content_length = len(body)
    await partial.prepare(request)
    await partial.write(body[: len(body) // 2])
    drop(request)


def drop(request: web.Request) -> None:
    """Close the client's connection without an answer (a reset as the client sees it)."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    raise ConnectionDropped()
