"""Request-path faults in process: the delivery of ``effects``' verdicts to one ``VenueClient`` request.

Which fault hits a request and what it does is ``effects``' (shared with the wire server); this module holds the
in-process mechanics: sleeps in virtual time, a call that never returns, an ``EngineError`` raised, the engine
called (or not), and the ``request`` / ``reject`` records.

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
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, cast

from exchange_sim.engine.matching import CancelReplaceResult
from exchange_sim.engine.types import ClientOrderId, EngineError, ErrorCode, OrderId
from exchange_sim.faults import effects, errors
from exchange_sim.faults.effects import (
    DOWNSTREAM,
    HALF_REPLACE_MSG,
    SERVER_AHEAD_LIMIT_US,
    SIGNED_OPS,
    UPSTREAM,
    WRITE_OPS,
)
from exchange_sim.faults.model import FaultKind

if TYPE_CHECKING:
    from exchange_sim.faults.injector import FaultInjector
    from exchange_sim.venue import VenueClient

R = TypeVar("R")


async def _never() -> NoReturn:
    """A request or answer that vanished: wait until the caller gives up (cancels)."""
    await asyncio.get_running_loop().create_future()
    raise AssertionError("unreachable")


class RequestFaults:
    """The request-path part of a ``FaultInjector``: the delivery of ``effects``' verdicts to a ``VenueClient``."""

    def __init__(self, injector: FaultInjector) -> None:
        self._inj = injector
        self._timing = injector.timing
        self._rate = effects.RateBook(injector.timing)

    async def call(self, client: VenueClient, op: str, fields: dict[str, Any], action: Callable[[], R]) -> R:
        inj = self._inj
        timing = self._timing
        venue = client.venue
        symbol = fields.get("s")
        write = op in WRITE_OPS
        sent_us = inj.now_us()
        await asyncio.sleep(client.latency.request_s() + effects.extra_delay_s(timing, "rest", symbol))
        timing.observe(op, symbol)  # activity triggers fire at arrival: the triggering request is the first one hit
        lost = effects.partitioned(timing, symbol, UPSTREAM, write=write)
        if lost is not None:
            timing.hit(lost, "request_lost", a=client.account, op=op, sent=sent_us)
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
        cut = effects.truncated_reply(timing, op, symbol)
        if cut is not None:  # executed; the reply's body is cut short
            timing.hit(cut, "reply_truncated", a=client.account, op=op, c=fields.get("c"))
            await _never()
        unknown = effects.after_processing(timing, op, symbol)
        if unknown is not None:
            index, reply = unknown
            timing.hit(index, f"processed_{reply}", a=client.account, op=op, c=fields.get("c"))
            if reply == "lost":
                await _never()
            await self._answer_error(client, op, fields, symbol, errors.backend_timeout(), record=False)
        if op == "time":
            result = cast(R, cast(int, result) + self.skew_us())
        await asyncio.sleep(client.latency.request_s() + effects.extra_delay_s(timing, "rest", symbol))
        lost = effects.partitioned(timing, symbol, DOWNSTREAM, write=write)
        if lost is not None:
            timing.hit(lost, "reply_lost", a=client.account, op=op)
            await _never()
        return result

    async def _answer_error(
        self, client: VenueClient, op: str, fields: dict[str, Any], symbol: str | None, error: EngineError,
        *, record: bool = True,
    ) -> NoReturn:
        timing = self._timing
        back_s = client.latency.request_s() + effects.extra_delay_s(timing, "rest", symbol)
        lands_s = timing.now_s() + back_s
        lost = effects.partitioned(timing, symbol, DOWNSTREAM, at_s=lands_s,  # drawn now, for when it lands
                                   write=op in WRITE_OPS)
        http = isinstance(error, errors.VenueHttpError)
        answered_us = timing.now_us()
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
            client.venue.record_reject(client.account, op, error, {**fields, **extra, "rcv": timing.now_us()},
                                       t_us=answered_us)
        if lost is None and isinstance(error, errors.VenueHttpError) and error.http_status in (429, 418):
            self._rate.told(client.account, timing.now_s())
        if lost is not None:
            timing.hit(lost, "reply_lost", a=client.account, op=op)
            await _never()
        raise error

    # -- gates at arrival --
    def _gate(
        self, client: VenueClient, op: str, fields: dict[str, Any], symbol: str | None, sent_us: int,
        action: Callable[[], Any],
    ) -> EngineError | None:
        timing = self._timing
        down = effects.outage(timing, op, symbol)
        if down is not None:
            if down.executed:
                with contextlib.suppress(EngineError):  # its own reject is as invisible as its success
                    action()
            if down.error.http_status == 403:
                down.record(timing, a=client.account, op=op)
            else:
                down.record(timing, a=client.account, op=op, c=fields.get("c"))
            return down.error
        limited = self._rate.gate(client.account, op, fields.get("s") is None, sent_us / 1_000_000)
        if limited is not None:
            index, http_error = limited
            if index >= 0:
                timing.hit(index, f"http_{http_error.http_status}", a=client.account, op=op)
            return http_error
        if op in SIGNED_OPS and client.check_timestamps:
            error = self._timestamp(client, op, sent_us)
            if error is not None:
                return error
        refused = effects.reject(timing, op, symbol)
        if refused is not None:
            index, reason, engine_error = refused
            timing.hit(index, "reject", a=client.account, op=op, c=fields.get("c"), reason=reason)
            return engine_error
        return None

    def skew_us(self) -> int:
        """The server clock minus true time now: the sum of the active clock-skew faults' offsets."""
        return effects.skew_us(self._timing)

    def _timestamp(self, client: VenueClient, op: str, sent_us: int) -> EngineError | None:
        server_us = self._timing.now_us() + self.skew_us()
        timestamp_us = sent_us + client.timestamp_offset_us
        if timestamp_us - server_us >= SERVER_AHEAD_LIMIT_US:
            msg = "Timestamp for this request was 1000ms ahead of the server's time."
        elif server_us - timestamp_us > client.recv_window_ms * 1000:
            msg = "Timestamp for this request is outside of the recvWindow."
        else:
            return None
        effects.timestamp_hit(self._timing, a=client.account, op=op)
        return EngineError(ErrorCode.INVALID_TIMESTAMP, msg)

    # -- around execution --
    def _race(self, client: VenueClient, fields: dict[str, Any], symbol: str | None) -> None:
        """cancel_fill_race (a market effect at the cancel's arrival): the order fills just before the cancel."""
        inj = self._inj
        for index, _ in self._timing.active(FaultKind.CANCEL_FILL_RACE, "rest", symbol):
            if symbol is None or not self._timing.toxic(index):
                continue
            try:
                order = client.venue.engine.get_order(client.account, symbol, **_order_ref(fields))
            except EngineError:
                return
            if inj.market.fill_now(order):
                self._timing.hit(index, "filled_before_cancel", a=client.account, c=order.client_order_id)
            return

    def _half_replace(self, client: VenueClient, op: str, fields: dict[str, Any],
                      symbol: str | None) -> CancelReplaceResult | None:
        """cancel_replace_half: cancel the old order and refuse the new one (Binance's 409, -2021: its data holds
        the cancel's success and the new order's -2010); None when no such fault applies or the cancel fails."""
        index = effects.half_replace(self._timing, op, symbol)
        if index is None or symbol is None:
            return None
        try:
            cancelled = client.venue.engine.cancel(client.account, symbol, **_order_ref(fields))
        except EngineError:
            return None  # the cancel leg fails by itself: the engine answers the whole request
        self._timing.hit(index, "cancel_replace_half", a=client.account, c=fields.get("c"), nc=fields.get("nc"))
        return CancelReplaceResult(cancelled, EngineError(ErrorCode.NEW_ORDER_REJECTED, HALF_REPLACE_MSG))


def _order_ref(fields: dict[str, Any]) -> dict[str, Any]:
    """The engine's ``order_id`` / ``client_order_id`` keywords for the order a request's fields name."""
    order_id, client_id = fields.get("id"), fields.get("c")
    return {"order_id": None if order_id is None else OrderId(order_id),
            "client_order_id": None if client_id is None else ClientOrderId(client_id)}
