"""Transport faults of the wire server: the delivery of the shared fault effects to real HTTP requests and sockets.

Which request or message a fault hits and what becomes of it is written once, in ``exchange_sim.faults``:
``timing.FaultTiming`` (windows, triggers, toxicity draws, records), ``effects`` (the request and response path)
and ``frames`` (the stream path) - the same code the in-process injector runs, with its own random streams
(namespace ``server-faults``). Time is seconds since the server started (``ServerClock.elapsed_s``). This module
only delivers the verdicts over HTTP:

* a request or reply that vanishes (``partition``): the request hangs until the fault heals (at most
  ``MAX_HANG_S``), then the connection is dropped (upstream: never executed; downstream: executed first);
* an error verdict (``outage`` 503/403, ``rate_limit`` 429/418 with Retry-After - one budget per client IP -,
  ``reject``, ``timeout_after_processing`` -1007): the Binance error body with its HTTP status;
* ``timeout_after_processing`` with ``reply=lost``: executed, then the connection is dropped;
* ``truncated_frame``: half the body under the full Content-Length, then the connection aborts (REST); streams:
  half a JSON text frame, then the socket aborts (``truncates``);
* ``cancel_replace_half``: the cancelReplace handler answers 409 -2021 (it reads ``HALF_REPLACE``);
* ``latency``: a sleep before and after execution; ``clock_skew``: the server clock (``ServerClock.skew_ms``)
  moves, so ``/api/v3/time`` and the signed-timestamp check (-1021) follow it;
* streams (``feed_gate.FeedGate``, ``ws_streams.Connection``): ``frames.FramePipe`` on every feed; sockets are
  ended by ``stream_end`` (reset_peer, slow_close, server_disconnect; each socket hit with the fault's toxicity)
  and refused by ``refuse_connection``.

Kinds acting on the market or the bot process (``paths``: MARKET, PROCESS) are not transport faults: the wire
server ignores them. Every start, end and effect is written to the event log (``fault`` and ``fault_hit``) in the
same form as in process; a REST hit names the request's ``op`` and ``path`` and, when known, its account ``a``: the
one its API key belongs to, or for a public (unsigned) request the account last seen signing from the same IP,
whose weight budget and Retry-After it shares (Binance counts request weight per IP). A 429/418 of the
``rate_limit`` fault is also logged as the in-process one is: a ``reject`` with ``http``, ``ra_ms`` (Retry-After)
and ``rcv`` (here: when the answer was written; the server cannot see the client read it), so the checker sees
the window in which the account may send nothing (parity seed 6: a 429 on the public depth endpoint was logged
without an account and the bot's stop inside its Retry-After was judged as if it could have cancelled).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from exchange_sim.eventlog import EventLog
from exchange_sim.faults import effects, frames
from exchange_sim.faults.effects import DOWNSTREAM, UPSTREAM, WRITE_OPS
from exchange_sim.faults.model import Fault, FaultKind, Scenario
from exchange_sim.faults.timing import FaultTiming
from exchange_sim.server import errors
from exchange_sim.server.clock import ServerClock
from exchange_sim.server.errors import ApiError

Handler = Callable[[], Awaitable[web.StreamResponse]]
HALF_REPLACE = web.RequestKey("cancel_replace_half", bool)  # the cancelReplace handler refuses the new order
REST_OPS = {("POST", "/api/v3/order"): "place", ("DELETE", "/api/v3/order"): "cancel",
            ("DELETE", "/api/v3/openOrders"): "cancelAll", ("POST", "/api/v3/order/cancelReplace"): "cancelReplace",
            ("GET", "/api/v3/order"): "getOrder", ("GET", "/api/v3/openOrders"): "openOrders",
            ("GET", "/api/v3/account"): "account", ("GET", "/api/v3/myTrades"): "myTrades",
            ("GET", "/api/v3/time"): "time", ("GET", "/api/v3/depth"): "depth",
            ("GET", "/api/v3/exchangeInfo"): "exchangeInfo"}  # request types, as the in-process venue names them
MAX_HANG_S = 300.0  # a partitioned request never hangs longer than this
_SOCKET_EFFECT = {"stream_reset": "reset"}  # what ``ws_streams.Connection`` calls an abort


class ConnectionDropped(Exception):
    """The fault layer closed the client's connection: nothing must be written back."""


class ServerFaults:
    """One scenario applied at the transport (see module docstring). An empty scenario does nothing."""

    def __init__(self, scenario: Scenario, *, seed: int, driver: ServerClock, log: EventLog) -> None:
        self.scenario = scenario
        self.driver = driver
        self.log = log
        self.timing = FaultTiming(scenario, seed=seed, namespace="server-faults", log=log,
                                  now_s=driver.elapsed_s, now_us=driver.now_us)
        self.hits = self.timing.hits
        self.pipe = frames.FramePipe(self.timing)
        self._rate = effects.RateBook(self.timing)
        self._spared: set[tuple[str, float, int]] = set()  # (channel, socket opened at, fault): not hit
        self._accounts: dict[str, str] = {}  # client IP -> the account last seen signing from it
        if scenario:
            driver.skew_ms = lambda elapsed_s: effects.skew_us(self.timing, at_s=elapsed_s) / 1000.0

    def start(self) -> None:
        """Run each fault's lifecycle (``FaultTiming.lifecycle``: its records at its times) as a simpy process."""
        env = self.driver.env
        for index, fault in enumerate(self.scenario.faults):
            env.process(self.timing.lifecycle(env, index, fault, on_start=_nothing, during=lambda _i, _f: None,
                                              on_end=self._on_end))

    def _on_end(self, index: int, fault: Fault) -> dict[str, Any]:
        if fault.kind in (FaultKind.STALE_FEED, FaultKind.FEED_GAP):
            self.pipe.heal(index, fault)
        return {}

    def now_s(self) -> float:
        return self.driver.elapsed_s()

    # -- REST --
    async def rest_call(self, request: web.Request, handler: Handler, *, symbol: str | None, write: bool,
                        weight: int, account: str | None = None) -> web.StreamResponse:
        """Run ``handler`` through the request and response path of ``effects`` (its module docstring).
        ``weight`` is the request's charge; which requests are order writes (a fault's sure first hit) is decided
        by ``op``, as in process, so the route's ``write`` flag is not needed. ``account``: the account of the
        request's API key, if it carries a known one (else the IP's, see the module docstring)."""
        if not self.scenario:
            return await handler()
        timing = self.timing
        op = REST_OPS.get((request.method, request.path), "")
        order_write = op in WRITE_OPS
        where: dict[str, Any] = {"op": op, "path": request.path}
        remote = request.remote or "?"
        if account is not None:
            self._accounts[remote] = account
        who = self._accounts.get(remote)
        if who is not None:
            where["a"] = who
        await asyncio.sleep(effects.extra_delay_s(timing, "rest", symbol))
        timing.observe(op, symbol)
        lost = effects.partitioned(timing, symbol, UPSTREAM, write=order_write)
        if lost is not None:
            timing.hit(lost, "request_lost", **where)
            await self._hang_and_drop(request, lost)
        down = effects.outage(timing, op, symbol)
        if down is not None:
            if down.executed:
                with contextlib.suppress(ApiError):  # its own reject is as invisible as its success
                    await handler()
            down.record(timing, **where)
            raise errors.from_engine(down.error)
        self._gate(request, op, symbol, weight, where)
        half = effects.half_replace(timing, op, symbol)
        if half is not None:
            timing.hit(half, "cancel_replace_half", **where)
            request[HALF_REPLACE] = True
        try:
            response = await handler()
        except ApiError as error:
            if error.code == errors.INVALID_TIMESTAMP:  # the signed timestamp against the skewed clock
                effects.timestamp_hit(timing, **where)
            await self._reply_path(request, symbol, order_write, where)
            raise
        cut = effects.truncated_reply(timing, op, symbol)
        if cut is not None:
            timing.hit(cut, "reply_truncated", **where)
            await _send_truncated(request, response)
        unknown = effects.after_processing(timing, op, symbol)
        if unknown is not None:
            index, reply = unknown
            timing.hit(index, f"processed_{reply}", **where)
            if reply == "lost":
                drop(request)
            raise errors.unknown_outcome()
        await self._reply_path(request, symbol, order_write, where)
        return response

    def _gate(self, request: web.Request, op: str, symbol: str | None, weight: int, where: dict[str, Any]) -> None:
        """The gates after the outage: the rate limit (429/418, one budget per client IP), then a reject."""
        timing = self.timing
        client = request.remote or "?"
        limited = self._rate.gate(client, op, symbol is None, timing.now_s(), weight=weight)
        if limited is not None:
            index, http_error = limited
            if index >= 0:
                timing.hit(index, f"http_{http_error.http_status}", **where)
            self._rate.told(client, timing.now_s())
            if "a" in where:  # as in process: the account was told to send nothing for Retry-After
                retry_ms = None if http_error.retry_after_s is None else http_error.retry_after_s * 1000
                self.log.record(timing.now_us(), "reject", {
                    "a": where["a"], "op": op, "code": int(http_error.code), "m": http_error.msg,
                    "http": http_error.http_status, "ra_ms": retry_ms, "rcv": timing.now_us()})
            raise errors.from_engine(http_error)
        refused = effects.reject(timing, op, symbol)
        if refused is not None:
            index, reason, engine_error = refused
            timing.hit(index, "reject", **where, reason=reason)
            raise errors.from_engine(engine_error)

    async def _reply_path(self, request: web.Request, symbol: str | None, order_write: bool,
                          where: dict[str, Any]) -> None:
        """The reply's way back: latency, then a downstream partition loses it."""
        await asyncio.sleep(effects.extra_delay_s(self.timing, "rest", symbol))
        lost = effects.partitioned(self.timing, symbol, DOWNSTREAM, write=order_write)
        if lost is not None:
            self.timing.hit(lost, "reply_lost", **where)
            await self._hang_and_drop(request, lost)

    async def _hang_and_drop(self, request: web.Request, index: int) -> None:
        await asyncio.sleep(min(MAX_HANG_S, max(0.0, self.timing.end_s(index) - self.now_s())))
        drop(request)

    # -- WebSockets --
    def refuse_connection(self, channel: str) -> bool:
        """A new socket on ``channel`` is refused (``frames.refused``)."""
        return frames.refused(self.timing, channel, None)

    def stream_end(self, channel: str, connected_s: float) -> tuple[int, str, float] | None:
        """How a socket on ``channel`` opened at ``connected_s`` must end now, or None: (fault, effect, close delay)
        for the first stream-ending fault (``frames.ending``) whose window opened since the socket did and that hits
        it (toxicity, drawn once per socket). Effects: ``reset`` (abort), ``slow_close`` (silent, closed after
        close_s), ``24h`` / ``missed_pong`` (closed now), ``server_shutdown`` (the event, closed after grace_s).
        The socket logs the hit (``record_stream_end``)."""
        now = self.now_s()
        for index, fault in enumerate(self.scenario.faults):
            if fault.kind not in frames.STREAM_ENDS or not fault.hits(frames.target_channel(channel), None):
                continue
            if not connected_s < self.timing.window(index)[0] <= now or (channel, connected_s, index) in self._spared:
                continue
            if not self.timing.toxic(index):
                self._spared.add((channel, connected_s, index))
                continue
            effect, after_s = frames.ending(fault)
            return index, _SOCKET_EFFECT.get(effect, effect), after_s
        return None

    def record_stream_end(self, index: int, effect: str, channel: str) -> None:
        """Log one socket ended by fault ``index`` (from ``stream_end``), as the in-process injector logs it."""
        effect, after_s = frames.ending(self.scenario.faults[index])
        self.timing.hit(index, effect, ch=channel, after_s=after_s)

    def truncates(self, channel: str) -> bool:
        """Whether the next frame on ``channel`` is cut short (``frames.frame_cut``), logged."""
        return frames.frame_cut(self.timing, channel, None, lambda: {})


def _nothing(_index: int, _fault: Fault) -> None:
    """No start action: a wire fault acts when requests and messages meet it."""


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
