"""Kill switch: cancel every open order on the given symbols, then verify on the venue that none remain.

Procedure (bounded by ``verify_timeout_s`` on the injected clock, and by ``max_polls``)::

    list open orders for the symbols, cancel them all concurrently
    repeat: sleep poll_interval_s; list open orders for the symbols
            none left          -> verified=True
            deadline reached   -> verified=False, remaining = what the latest listing showed open
                                  (None: no listing succeeded, so what remains is unknown, never "nothing")
            otherwise          -> re-cancel the stragglers concurrently

A cancel answered ``UNKNOWN_ORDER`` means the order is already gone (filled or cancelled): counted in
``already_gone``, never an error. Other cancel errors are counted and the order is retried on the next poll;
a failing ``open_orders`` call counts as an error and the poll is retried. Each venue round is bounded by the
time left until the deadline. The kill switch only acts; setting the risk engine HARD (``RiskEngine.kill``)
is the caller's decision. ``sleep`` is injectable so tests never wait on the wall clock.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, VenueOrder
from bot.interfaces import Clock, Venue

__all__ = ["KillReport", "KillSwitch"]

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class KillReport:
    """Outcome of one ``trigger``: ``verified`` iff the venue listed no open order for the symbols."""

    reason: str
    cancelled: int  # distinct orders whose cancel the venue acknowledged
    already_gone: int = 0  # distinct orders whose cancel was answered UNKNOWN_ORDER
    errors: int = 0  # other failed venue calls (cancels and listings)
    polls: int = 0
    verified: bool
    remaining: list[VenueOrder] | None = None  # latest successful listing after a poll; None: none succeeded
    elapsed_s: float


class KillSwitch:
    """Cancels and verifies; owns no state between triggers."""

    def __init__(
        self,
        venue: Venue,
        clock: Clock,
        *,
        verify_timeout_s: float,
        poll_interval_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if verify_timeout_s <= 0 or poll_interval_s <= 0:
            raise ValueError("verify_timeout_s and poll_interval_s must be > 0")
        self._venue = venue
        self._clock = clock
        self._timeout_s = verify_timeout_s
        self._poll_s = poll_interval_s
        self._sleep = sleep
        self.max_polls = math.ceil(verify_timeout_s / poll_interval_s) + 1

    async def trigger(self, symbols: Iterable[str], reason: str) -> KillReport:
        """Cancel all open orders on ``symbols`` and poll until none remain or the timeout elapses."""
        wanted = sorted(set(symbols))
        start = self._clock.monotonic_s()
        deadline = start + self._timeout_s
        cancelled: set[ClientOrderId] = set()
        gone: set[ClientOrderId] = set()
        errors = 0
        polls = 0
        remaining: list[VenueOrder] | None = None  # the latest successful listing after a poll
        listed, errs = await self._list(wanted, deadline)
        errors += errs
        while True:
            if listed:
                errors += await self._cancel_all(listed, cancelled, gone, deadline)
            now = self._clock.monotonic_s()
            if now >= deadline or polls >= self.max_polls:
                break
            await self._sleep(min(self._poll_s, deadline - now))
            polls += 1
            listed, errs = await self._list(wanted, deadline)
            errors += errs
            if listed is not None:
                remaining = listed
                if not listed:
                    break
        verified = remaining == []
        return KillReport(
            reason=reason,
            cancelled=len(cancelled),
            already_gone=len(gone),
            errors=errors,
            polls=polls,
            verified=verified,
            remaining=remaining,
            elapsed_s=self._clock.monotonic_s() - start,
        )

    async def _list(self, symbols: list[str], deadline: float) -> tuple[list[VenueOrder] | None, int]:
        """Open orders on ``symbols`` (None if any listing failed) and the number of failed calls."""
        calls = [self._venue.open_orders(s) for s in symbols]
        results = await self._bounded(calls, deadline)
        orders: list[VenueOrder] = []
        failed = 0
        for res in results:
            if isinstance(res, BaseException):
                failed += 1
            else:
                orders.extend(o for o in res if o.symbol in symbols)
        return (None if failed else orders), failed

    async def _cancel_all(
        self, orders: list[VenueOrder], cancelled: set[ClientOrderId], gone: set[ClientOrderId], deadline: float
    ) -> int:
        """Cancel ``orders`` concurrently; returns the number of unexpected failures."""
        calls = [self._venue.cancel(o.symbol, o.client_order_id) for o in orders]
        results = await self._bounded(calls, deadline)
        failed = 0
        for order, res in zip(orders, results, strict=True):
            if isinstance(res, BotError) and res.code is ErrorCode.UNKNOWN_ORDER:
                gone.add(order.client_order_id)
            elif isinstance(res, BaseException):
                failed += 1
            else:
                cancelled.add(order.client_order_id)
        return failed

    async def _bounded(self, calls: Sequence[Awaitable[_T]], deadline: float) -> list[_T | BaseException]:
        """Run ``calls`` concurrently, each failure returned as its exception, all bounded by the deadline."""
        if not calls:
            return []
        budget = max(deadline - self._clock.monotonic_s(), self._poll_s)
        try:
            return await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), timeout=budget)
        except TimeoutError as exc:
            return [exc] * len(calls)
