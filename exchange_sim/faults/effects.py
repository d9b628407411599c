"""Request- and response-path fault effects, written once: what each active fault does to one request or its reply.

Both transports ask these functions, in the order of the path, and only deliver the verdict their own way (the
in-process ``requests.RequestFaults``: a ``VenueClient`` call that never returns or raises; the wire server's
``ServerFaults.rest_call``: a dropped socket or an HTTP error body). Every function takes the shared
``FaultTiming`` (windows, toxicity draws, hit records), so a fault hits the same requests on both paths.

The path (``requests`` module docstring has the in-process details):

1. send: ``extra_delay_s`` - every active ``latency`` fault's draw (fixed + uniform jitter + spike), each way;
2. arrival: ``partitioned(..., UPSTREAM)`` - the request vanishes, never executed;
3. gates: ``outage`` (503, a write possibly executed, or a WAF 403), ``RateBook.gate`` (weight window: 429 with
   Retry-After; ``ban_after`` requests sent after a 429 reached the client and before its Retry-After: 418),
   clock skew (``skew_ms``: the server clock moves, signed timestamps are judged against it: -1021),
   ``reject`` (a Binance reject, not executed);
4. around execution: ``half_replace`` (cancelReplace: the cancel done, the new order refused: 409 -2021);
5. after execution: ``truncated_reply`` (the reply is cut, the client never gets it whole),
   ``after_processing`` (-1007 or the reply lost);
6. reply: ``partitioned(..., DOWNSTREAM)`` when it lands - the reply is lost.

Formulas: latency draw ``latency_ms + U(0, jitter_ms) + [U < spike_probability] * U(0, spike_ms)`` (a draw only for
a non-zero parameter); skew ``offset_ms + drift_ppm * 1e-6 * elapsed_s * 1000 + [odd half period] * strobe_ms``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

from exchange_sim.engine.types import EngineError, ErrorCode
from exchange_sim.faults import errors
from exchange_sim.faults.model import REQUEST_OPS, Fault, FaultKind
from exchange_sim.faults.timing import FaultTiming

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
UPSTREAM = ("both", "upstream")
DOWNSTREAM = ("both", "downstream")


# -- delays and partitions --
def latency_ms(fault: Fault, rng: Any) -> float:
    """One draw of a latency fault's added delay (module docstring)."""
    delay = fault.num("latency_ms")
    jitter = fault.num("jitter_ms")
    if jitter:
        delay += rng.random() * jitter
    probability = fault.num("spike_probability")
    if probability and rng.random() < probability:
        delay += rng.random() * fault.num("spike_ms")
    return delay


def extra_delay_s(timing: FaultTiming, channel: str, symbol: str | None) -> float:
    """The added one-way delay of one request or reply (or feed message) on ``channel``: every active latency
    fault's draw, summed."""
    extra_ms = 0.0
    for index, fault in timing.active(FaultKind.LATENCY, channel, symbol):
        extra_ms += latency_ms(fault, timing.rng(index))
    return extra_ms / 1000.0


def partitioned(timing: FaultTiming, symbol: str | None, directions: tuple[str, ...], *, write: bool,
                at_s: float | None = None) -> int | None:
    """The partition fault (index) that swallows a request (``UPSTREAM``) or a reply (``DOWNSTREAM``), if any."""
    for index, fault in timing.active(FaultKind.PARTITION, "rest", symbol, at_s=at_s):
        if fault.text("direction") in directions and timing.toxic(index, first=write):
            return index
    return None


# -- gates at arrival --
@dataclass(frozen=True, slots=True)
class Outage:
    """An outage's verdict on one request: ``error`` answers it; ``executed`` says whether a 503'd write is
    executed anyway (the transport runs it, then calls ``record``)."""

    index: int
    error: errors.VenueHttpError
    executed: bool

    def record(self, timing: FaultTiming, **fields: Any) -> None:
        """Write the hit: ``http_403``, or ``http_503`` with ``executed``; ``fields`` say whose request it was."""
        if self.error.http_status == 403:
            timing.hit(self.index, "http_403", **fields)
        else:
            timing.hit(self.index, "http_503", **fields, executed=self.executed)


def outage(timing: FaultTiming, op: str, symbol: str | None) -> Outage | None:
    """The first active outage that hits this request: a WAF 403, or a 503 (a write: -1007, executed with
    probability ``executes_probability``; a read: -1001)."""
    write = op in WRITE_OPS
    for index, fault in timing.active(FaultKind.OUTAGE, "rest", symbol):
        if not timing.toxic(index, first=write):
            continue
        if fault.text("status") == "403":
            return Outage(index, errors.waf_blocked(), False)
        executed = write and timing.rng(index).random() < fault.num("executes_probability")
        return Outage(index, errors.unavailable(write), executed)
    return None


def reject(timing: FaultTiming, op: str, symbol: str | None) -> tuple[int, str, EngineError] | None:
    """The first active reject fault that refuses this request: (index, reason, the Binance reject).
    ``unknown_order`` refuses cancels and cancel-replaces, the other reasons new orders and cancel-replaces."""
    for index, fault in timing.active(FaultKind.REJECT, "rest", symbol):
        reason = fault.text("reason")
        applies = op in ("cancel", "cancelReplace") if reason == "unknown_order" else op in ("place", "cancelReplace")
        if applies and timing.toxic(index):
            code, msg = REJECTS[reason]
            return index, reason, EngineError(code, msg)
    return None


def skew_ms(fault: Fault, now_s: float) -> float:
    """A clock-skew fault's offset at ``now_s`` (module docstring)."""
    elapsed = max(now_s - fault.start_s, 0.0)
    offset = fault.num("offset_ms") + fault.num("drift_ppm") * 1e-6 * elapsed * 1000.0
    period = fault.num("strobe_period_s")
    if period > 0 and int(elapsed / period) % 2 == 1:
        offset += fault.num("strobe_ms")
    return offset


def skew_us(timing: FaultTiming, at_s: float | None = None) -> int:
    """The server clock minus true time: the sum of the active clock-skew faults' offsets, in µs."""
    now = timing.now_s() if at_s is None else at_s
    total_ms = 0.0
    for _, fault in timing.active(FaultKind.CLOCK_SKEW, at_s=now):
        total_ms += skew_ms(fault, now)
    return round(total_ms * 1000)


def timestamp_hit(timing: FaultTiming, **fields: Any) -> None:
    """A -1021 answered while a clock skew is active is that fault's hit (effect ``timestamp``)."""
    for index, _ in timing.active(FaultKind.CLOCK_SKEW):
        timing.hit(index, "timestamp", **fields)
        break


@dataclass(slots=True)
class _RateState:
    """One client's (one account's or IP's) weight window, Retry-After and ban."""

    window: deque[tuple[float, int]] = field(default_factory=deque)
    retry_until_s: float = 0.0
    told_s: float = math.inf  # when the first 429 of the current Retry-After reached the client (inf: not yet)
    violations: int = 0
    banned_until_s: float = 0.0


class RateBook:
    """The ``rate_limit`` fault's weight budgets, one per client key (see the module docstring, step 3)."""

    def __init__(self, timing: FaultTiming) -> None:
        self._timing = timing
        self._rate: dict[Hashable, _RateState] = {}

    def gate(self, key: Hashable, op: str, all_symbols: bool, sent_s: float,
             weight: int | None = None) -> tuple[int, errors.VenueHttpError] | None:
        """The 429/418 this request gets, with the rate-limit fault it counts for (-1 after the fault healed: a ban
        outlives it), or None; a request let through is charged its weight (``weight``, else ``WEIGHTS[op]``;
        ``openOrders`` for all symbols: ``OPEN_ORDERS_ALL_WEIGHT``)."""
        now = self._timing.now_s()
        state = self._rate.get(key)
        active = self._timing.active(FaultKind.RATE_LIMIT, "rest")
        if state is None:
            if not active:
                return None
            state = self._rate[key] = _RateState()
        index, fault = active[0] if active else (-1, None)
        if state.banned_until_s > now:
            return index, errors.banned(round(state.banned_until_s * 1000), _ceil_s(state.banned_until_s - now))
        if state.retry_until_s > now and fault is not None:
            state.violations += sent_s >= state.told_s  # only a request sent after the client was told
            if state.violations >= fault.num("ban_after"):
                state.banned_until_s = now + fault.num("ban_s")
                return index, errors.banned(round(state.banned_until_s * 1000), _ceil_s(fault.num("ban_s")))
            return index, errors.too_many_requests(int(fault.num("weight_limit")), fault.num("window_s"),
                                                   _ceil_s(state.retry_until_s - now))
        if fault is None:
            return None
        window_s = fault.num("window_s")
        while state.window and state.window[0][0] <= now - window_s:
            state.window.popleft()
        if weight is None:
            weight = OPEN_ORDERS_ALL_WEIGHT if op == "openOrders" and all_symbols else WEIGHTS.get(op, 1)
        used = sum(w for _, w in state.window)
        if used + weight > fault.num("weight_limit"):
            oldest = state.window[0][0] if state.window else now
            retry_s = _ceil_s(max(oldest + window_s - now, 1.0))
            state.retry_until_s = now + retry_s
            state.told_s = math.inf
            state.violations = 0
            return index, errors.too_many_requests(int(fault.num("weight_limit")), window_s, retry_s)
        state.window.append((now, weight))
        return None

    def told(self, key: Hashable, now_s: float) -> None:
        """A 429/418 reached client ``key`` at ``now_s``: requests it sends after this count towards the ban."""
        state = self._rate.get(key)
        if state is not None:
            state.told_s = min(state.told_s, now_s)


# -- around and after execution --
def half_replace(timing: FaultTiming, op: str, symbol: str | None) -> int | None:
    """The cancel_replace_half fault that splits this cancelReplace (the cancel done, the new order refused)."""
    if op != "cancelReplace" or symbol is None:
        return None
    for index, _ in timing.active(FaultKind.CANCEL_REPLACE_HALF, "rest", symbol):
        if timing.toxic(index):
            return index
    return None


def truncated_reply(timing: FaultTiming, op: str, symbol: str | None) -> int | None:
    """The truncated_frame fault that cuts this executed request's reply short."""
    for index, _ in timing.active(FaultKind.TRUNCATED_FRAME, "rest", symbol):
        if timing.toxic(index, first=op in WRITE_OPS):
            return index
    return None


def after_processing(timing: FaultTiming, op: str, symbol: str | None) -> tuple[int, str] | None:
    """The timeout_after_processing fault aimed at this executed request and its ``reply`` (error or lost)."""
    for index, fault in timing.active(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", symbol):
        request = fault.text("request")
        aimed = op in REQUEST_OPS[request] if request != "any" else op in WRITE_OPS or fault.text("ops") == "all"
        if aimed and timing.toxic(index, first=op in WRITE_OPS or request != "any"):
            return index, fault.text("reply")
    return None


def _ceil_s(seconds: float) -> int:
    return max(1, math.ceil(seconds - 1e-9))
