"""Request-path faults: what happens to one ``VenueClient`` request between the client and the engine.

The path, in order (each step only when a fault of that kind is active for the request's channel/symbol):

1. send: one-way delay from the client's latency model plus every active ``latency`` fault's delay;
2. arrival: a ``partition`` (both/upstream) swallows the request: it is never executed, no answer comes;
3. the request is recorded (``sent`` = send time), then gated: ``outage`` (503/403; a 503'd write may have been
   executed), ``rate_limit`` (429 with Retry-After; a 418 ban after ``ban_after`` requests the client *sent after
   a 429 reached it* and before its Retry-After expired: a request already in flight when the 429 was answered,
   or sent after a lost 429, is answered 429 but is not a failure to back off, as on Binance), the
   timestamp check against recvWindow (-1021 when the server clock is skewed by ``clock_skew`` beyond what the
   client corrected with ``timestamp_offset_us``), ``reject``;
4. ``cancel_fill_race``: a cancel's order is filled just before the cancel executes;
5. execution by the engine (its rejects answer as usual);
6. ``timeout_after_processing``: the executed request answers -1007 or its answer is lost;
7. reply: one-way delay back; a ``partition`` (both/downstream) active when it lands loses it. For an error
   answer the fate is drawn when it is sent (for the moment it will land); an HTTP error answer's ``reject``
   record (stamped with the answer's time) is written once its fate is known and carries ``rcv`` (when the
   client received it) only when it was actually delivered: not when lost, nor when the client had already
   given up on the request (its timeout cancelled the wait), so a 429 the client never read neither obliges it
   to back off nor counts towards the 418 ban.

A lost answer never resolves: the client's own timeout (``asyncio.timeout``) must fire. ``time`` answers the
server's skewed clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

from exchange_sim.engine.matching import CancelReplaceResult
from exchange_sim.engine.types import AccountId, ClientOrderId, EngineError, ErrorCode, OrderId
from exchange_sim.faults import errors
from exchange_sim.faults.model import REQUEST_OPS, Fault, FaultKind

if TYPE_CHECKING:
    from exchange_sim.faults.injector import FaultInjector
    from exchange_sim.venue import VenueClient

R = TypeVar("R")
WRITE_OPS = frozenset({"place", "cancel", "cancelAll", "cancelReplace"})
SIGNED_OPS = WRITE_OPS | {"getOrder", "openOrders", "account", "myTrades"}
WEIGHTS = {"exchangeInfo": 20, "depth": 5, "time": 1, "place": 1, "cancel": 1, "cancelAll": 1, "cancelReplace": 1,
           "getOrder": 4, "openOrders": 6, "account": 20, "myTrades": 20}  # Binance REST weights (DESIGN s. 5)
OPEN_ORDERS_ALL_WEIGHT = 80
SERVER_AHEAD_LIMIT_US = 1_000_000  # a timestamp may lead the server's clock by less than 1 s
HALF_REPLACE_MSG = "Order cancel-replace partially failed: the new order was rejected."
REJECTS: dict[str, tuple[ErrorCode, str]] = {
    "insufficient_balance": (ErrorCode.NEW_ORDER_REJECTED, "Account has insufficient balance for requested action."),
    "filter": (ErrorCode.FILTER_FAILURE, "Filter failure: PRICE_FILTER"),
    "would_match": (ErrorCode.NEW_ORDER_REJECTED, "Order would immediately match and take."),
    "unknown_order": (ErrorCode.CANCEL_REJECTED, "Unknown order sent."),
}


@dataclass(slots=True)
class _RateState:
    """One client's (one IP's) weight window, Retry-After and ban."""

    window: deque[tuple[float, int]] = field(default_factory=deque)
    retry_until_s: float = 0.0
    told_s: float = math.inf  # when the first 429 of the current Retry-After reached the client (inf: not yet)
    violations: int = 0
    banned_until_s: float = 0.0


async def _never() -> NoReturn:
    """A request or answer that vanished: wait until the caller gives up (cancels)."""
    await asyncio.get_running_loop().create_future()
    raise AssertionError("unreachable")


class RequestFaults:
    """The request-path part of a ``FaultInjector``."""

    def __init__(self, injector: FaultInjector) -> None:
        self._inj = injector
        self._rate: dict[AccountId, _RateState] = {}

    async def call(self, client: VenueClient, op: str, fields: dict[str, Any], action: Callable[[], R]) -> R:
        inj = self._inj
        venue = client.venue
        symbol = fields.get("s")
        sent_us = inj.now_us()
        await asyncio.sleep(client.latency.request_s() + self._extra_delay_s(symbol))
        inj.observe(op, symbol)  # activity triggers fire at arrival: the triggering request is the first one hit
        lost = self._partitioned(symbol, ("both", "upstream"), write=op in WRITE_OPS)
        if lost is not None:
            inj.hit(lost, "request_lost", a=client.account, op=op, sent=sent_us)
            await _never()
        venue.record_request(client.account, op, {**fields, "sent": sent_us})
        error = self._gate(client, op, fields, symbol, sent_us, action)
        if error is not None:
            await self._answer_error(client, op, fields, symbol, error)
        if op in ("cancel", "cancelReplace"):
            self._race(client, fields, symbol)
        try:
            half = self._half_replace(client, op, fields, symbol)
            result = action() if half is None else cast(R, half)
        except EngineError as engine_error:
            await self._answer_error(client, op, fields, symbol, engine_error)
        for index, _ in inj.active(FaultKind.TRUNCATED_FRAME, "rest", symbol):
            if inj.toxic(index, first=op in WRITE_OPS):  # executed; the reply's body is cut short
                inj.hit(index, "reply_truncated", a=client.account, op=op, c=fields.get("c"))
                await _never()
        unknown = self._after_processing(op, symbol)
        if unknown is not None:
            index, reply = unknown
            inj.hit(index, f"processed_{reply}", a=client.account, op=op, c=fields.get("c"))
            if reply == "lost":
                await _never()
            await self._answer_error(client, op, fields, symbol, errors.backend_timeout(), record=False)
        if op == "time":
            result = cast(R, cast(int, result) + self.skew_us())
        await asyncio.sleep(client.latency.request_s() + self._extra_delay_s(symbol))
        if self._reply_lost(client, op, symbol):
            await _never()
        return result

    # -- delays and partitions --
    def _extra_delay_s(self, symbol: str | None) -> float:
        extra_ms = 0.0
        for index, fault in self._inj.active(FaultKind.LATENCY, "rest", symbol):
            extra_ms += latency_ms(fault, self._inj.rng(index))
        return extra_ms / 1000.0

    def _partitioned(self, symbol: str | None, directions: tuple[str, ...], at_s: float | None = None, *,
                     write: bool) -> int | None:
        for index, fault in self._inj.active(FaultKind.PARTITION, "rest", symbol, at_s=at_s):
            if fault.text("direction") in directions and self._inj.toxic(index, first=write):
                return index
        return None

    def _reply_lost(self, client: VenueClient, op: str, symbol: str | None) -> bool:
        lost = self._partitioned(symbol, ("both", "downstream"), write=op in WRITE_OPS)
        if lost is None:
            return False
        self._inj.hit(lost, "reply_lost", a=client.account, op=op)
        return True

    async def _answer_error(
        self, client: VenueClient, op: str, fields: dict[str, Any], symbol: str | None, error: EngineError,
        *, record: bool = True,
    ) -> NoReturn:
        inj = self._inj
        back_s = client.latency.request_s() + self._extra_delay_s(symbol)
        lands_s = inj.now_s() + back_s
        lost = self._partitioned(symbol, ("both", "downstream"), at_s=lands_s,  # drawn now, for when it lands
                                 write=op in WRITE_OPS)
        http = isinstance(error, errors.VenueHttpError)
        answered_us = inj.now_us()
        extra: dict[str, Any] = {}
        if isinstance(error, errors.VenueHttpError):
            extra = {"http": error.http_status, "ra_ms": None if error.retry_after_s is None
                     else error.retry_after_s * 1000}
        if record and (lost is not None or not http):
            client.venue.record_reject(client.account, op, error, {**fields, **extra})
        try:
            await asyncio.sleep(back_s)
        except asyncio.CancelledError:
            # the client gave up (its timeout) before the answer landed: it never learnt of it, so no ``rcv``
            if record and lost is None and http:
                client.venue.record_reject(client.account, op, error, {**fields, **extra}, t_us=answered_us)
            raise
        if record and lost is None and http:  # recorded once its fate is known: ``rcv`` only when it was read
            client.venue.record_reject(client.account, op, error, {**fields, **extra, "rcv": inj.now_us()},
                                       t_us=answered_us)
        if lost is None and isinstance(error, errors.VenueHttpError) and error.http_status in (429, 418):
            state = self._rate.get(client.account)
            if state is not None:
                state.told_s = min(state.told_s, inj.now_s())
        if lost is not None:
            inj.hit(lost, "reply_lost", a=client.account, op=op)
            await _never()
        raise error

    # -- gates at arrival --
    def _gate(
        self, client: VenueClient, op: str, fields: dict[str, Any], symbol: str | None, sent_us: int,
        action: Callable[[], Any],
    ) -> EngineError | None:
        inj = self._inj
        write = op in WRITE_OPS
        for index, fault in inj.active(FaultKind.OUTAGE, "rest", symbol):
            if not inj.toxic(index, first=write):
                continue
            if fault.text("status") == "403":
                inj.hit(index, "http_403", a=client.account, op=op)
                return errors.waf_blocked()
            executed = write and inj.rng(index).random() < fault.num("executes_probability")
            if executed:
                with contextlib.suppress(EngineError):  # its own reject is as invisible as its success
                    action()
            inj.hit(index, "http_503", a=client.account, op=op, c=fields.get("c"), executed=executed)
            return errors.unavailable(write)
        error = self._rate_limit(client, op, fields, sent_us / 1_000_000)
        if error is not None:
            return error
        if op in SIGNED_OPS and client.check_timestamps:
            error = self._timestamp(client, op, sent_us)
            if error is not None:
                return error
        for index, fault in inj.active(FaultKind.REJECT, "rest", symbol):
            reason = fault.text("reason")
            applies = op in ("cancel", "cancelReplace") if reason == "unknown_order" else op in ("place",
                                                                                                 "cancelReplace")
            if applies and inj.toxic(index):
                inj.hit(index, "reject", a=client.account, op=op, c=fields.get("c"), reason=reason)
                code, msg = REJECTS[reason]
                return EngineError(code, msg)
        return None

    def _rate_limit(self, client: VenueClient, op: str, fields: dict[str, Any], sent_s: float) -> EngineError | None:
        inj = self._inj
        now = inj.now_s()
        state = self._rate.get(client.account)
        active = inj.active(FaultKind.RATE_LIMIT, "rest")
        if state is None:
            if not active:
                return None
            state = self._rate[client.account] = _RateState()
        index, fault = active[0] if active else (-1, None)
        if state.banned_until_s > now:
            return self._note(index, client, op, errors.banned(round(state.banned_until_s * 1000),
                                                               _ceil_s(state.banned_until_s - now)))
        if state.retry_until_s > now and fault is not None:
            state.violations += sent_s >= state.told_s  # only a request sent after the client was told
            if state.violations >= fault.num("ban_after"):
                state.banned_until_s = now + fault.num("ban_s")
                return self._note(index, client, op, errors.banned(round(state.banned_until_s * 1000),
                                                                   _ceil_s(fault.num("ban_s"))))
            return self._note(index, client, op, errors.too_many_requests(
                int(fault.num("weight_limit")), fault.num("window_s"), _ceil_s(state.retry_until_s - now)))
        if fault is None:
            return None
        window_s = fault.num("window_s")
        while state.window and state.window[0][0] <= now - window_s:
            state.window.popleft()
        weight = OPEN_ORDERS_ALL_WEIGHT if op == "openOrders" and fields.get("s") is None else WEIGHTS.get(op, 1)
        used = sum(w for _, w in state.window)
        if used + weight > fault.num("weight_limit"):
            oldest = state.window[0][0] if state.window else now
            retry_s = _ceil_s(max(oldest + window_s - now, 1.0))
            state.retry_until_s = now + retry_s
            state.told_s = math.inf
            state.violations = 0
            return self._note(index, client, op, errors.too_many_requests(int(fault.num("weight_limit")), window_s,
                                                                          retry_s))
        state.window.append((now, weight))
        return None

    def _note(self, index: int, client: VenueClient, op: str, error: errors.VenueHttpError) -> errors.VenueHttpError:
        if index >= 0:
            self._inj.hit(index, f"http_{error.http_status}", a=client.account, op=op)
        return error

    def skew_us(self) -> int:
        """The server clock minus true time now: the sum of the active clock-skew faults' offsets."""
        now = self._inj.now_s()
        total_ms = 0.0
        for _, fault in self._inj.active(FaultKind.CLOCK_SKEW):
            total_ms += skew_ms(fault, now)
        return round(total_ms * 1000)

    def _timestamp(self, client: VenueClient, op: str, sent_us: int) -> EngineError | None:
        server_us = self._inj.now_us() + self.skew_us()
        timestamp_us = sent_us + client.timestamp_offset_us
        if timestamp_us - server_us >= SERVER_AHEAD_LIMIT_US:
            msg = "Timestamp for this request was 1000ms ahead of the server's time."
        elif server_us - timestamp_us > client.recv_window_ms * 1000:
            msg = "Timestamp for this request is outside of the recvWindow."
        else:
            return None
        for index, _ in self._inj.active(FaultKind.CLOCK_SKEW):
            self._inj.hit(index, "timestamp", a=client.account, op=op)
            break
        return EngineError(ErrorCode.INVALID_TIMESTAMP, msg)

    # -- around execution --
    def _race(self, client: VenueClient, fields: dict[str, Any], symbol: str | None) -> None:
        inj = self._inj
        for index, _ in inj.active(FaultKind.CANCEL_FILL_RACE, "rest", symbol):
            if symbol is None or not inj.toxic(index):
                continue
            try:
                order = client.venue.engine.get_order(client.account, symbol, **_order_ref(fields))
            except EngineError:
                return
            if inj.market.fill_now(order):
                inj.hit(index, "filled_before_cancel", a=client.account, c=order.client_order_id)
            return

    def _half_replace(self, client: VenueClient, op: str, fields: dict[str, Any],
                      symbol: str | None) -> CancelReplaceResult | None:
        """cancel_replace_half: cancel the old order and refuse the new one (Binance's 409, -2021: its data holds
        the cancel's success and the new order's -2010); None when no such fault applies or the cancel fails."""
        if op != "cancelReplace" or symbol is None:
            return None
        inj = self._inj
        for index, _ in inj.active(FaultKind.CANCEL_REPLACE_HALF, "rest", symbol):
            if not inj.toxic(index):
                continue
            try:
                cancelled = client.venue.engine.cancel(client.account, symbol, **_order_ref(fields))
            except EngineError:
                return None  # the cancel leg fails by itself: the engine answers the whole request
            inj.hit(index, "cancel_replace_half", a=client.account, c=fields.get("c"), nc=fields.get("nc"))
            return CancelReplaceResult(cancelled, EngineError(ErrorCode.NEW_ORDER_REJECTED, HALF_REPLACE_MSG))
        return None

    def _after_processing(self, op: str, symbol: str | None) -> tuple[int, str] | None:
        for index, fault in self._inj.active(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", symbol):
            request = fault.text("request")
            aimed = op in REQUEST_OPS[request] if request != "any" else op in WRITE_OPS or fault.text("ops") == "all"
            if aimed and self._inj.toxic(index, first=op in WRITE_OPS or fault.text("request") != "any"):
                return index, fault.text("reply")
        return None


def _ceil_s(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))


def latency_ms(fault: Fault, rng: Any) -> float:
    """One draw of a latency fault's added delay: fixed + uniform jitter + occasional uniform spike."""
    delay = fault.num("latency_ms")
    jitter = fault.num("jitter_ms")
    if jitter:
        delay += rng.random() * jitter
    probability = fault.num("spike_probability")
    if probability and rng.random() < probability:
        delay += rng.random() * fault.num("spike_ms")
    return delay


def skew_ms(fault: Fault, now_s: float) -> float:
    """A clock-skew fault's offset at ``now_s``: step + drift since its start + strobe (odd half periods)."""
    elapsed = max(now_s - fault.start_s, 0.0)
    offset = fault.num("offset_ms") + fault.num("drift_ppm") * 1e-6 * elapsed * 1000.0
    period = fault.num("strobe_period_s")
    if period > 0 and int(elapsed / period) % 2 == 1:
        offset += fault.num("strobe_ms")
    return offset


def _order_ref(fields: dict[str, Any]) -> dict[str, Any]:
    """The engine's ``order_id`` / ``client_order_id`` keywords for the order a request's fields name."""
    order_id, client_id = fields.get("id"), fields.get("c")
    return {"order_id": None if order_id is None else OrderId(order_id),
            "client_order_id": None if client_id is None else ClientOrderId(client_id)}
