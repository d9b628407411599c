"""Client-side request-weight and order-count limiter: the bot never reaches a venue limit, so never a ban.

Binance counts request weight per IP in fixed one-minute windows and new orders per account in fixed 10-second
windows (both aligned to server time). The limiter counts what it lets through in the current windows, raises its
counts to what the venue reports (``X-MBX-USED-WEIGHT-1M``, ``X-MBX-ORDER-COUNT-10S``: other clients on the IP
count too), and admits a request only if it fits a budget below the venue's limit. Cancels go first: a
``cancel_reserve_fraction`` of the weight budget is usable by cancels only, so pulling quotes still works when
new orders and reads are held back.

After a 429 or 418 (``block``) nothing is admitted before ``Retry-After`` expires: ``acquire`` raises at once.
The block runs on the monotonic clock; with a ``store`` (anything with ``get_meta``/``set_meta``: the
``StateStore``) it is also saved (``RETRY_AFTER_META``: ``"<until server ms> <418|429> <offset ms> <length ms>"``)
as venue server time, which survives a process restart, unlike monotonic time, with the offset ``server_ms -
local_ms`` it was computed with. A limiter built on the same store blocks for ``left = min(length, until -
(local_ms() + offset))`` (no time sync needed: it must not send one during the block); the ``length`` bound
keeps a local clock that went backwards (a reboot) from blocking longer than the venue asked.

Errors (``acquire``): ``BotError(RATE_LIMITED, retry_after_ms)`` when the budget frees later than ``max_wait_s``
or during a 429 block; ``BotError(IP_BANNED, recoverable=False)`` during a 418 ban; ``ValueError`` for a request
heavier than the whole budget (a bug).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from bot.connectors.binance.config import LimiterConfig
from bot.core.errors import BotError, ErrorCode

WEIGHT_WINDOW_MS = 60_000
ORDER_WINDOW_MS = 10_000
BOUNDARY_GUARD_MS = 1_000  # a venue count read this soon after our window's start may still be the previous one
USED_WEIGHT_HEADER = "X-MBX-USED-WEIGHT-1M"
ORDER_COUNT_HEADER = "X-MBX-ORDER-COUNT-10S"
RETRY_AFTER_META = "binance.retry_after_until"  # store meta: the last block (module docstring)
_MAX_WAITS = 4  # an admitted request waits at most this many times (a window always frees budget)


class Priority(IntEnum):
    """Who goes first when budget is short: cancels, then new orders, then reads."""

    CANCEL = 0
    ORDER = 1
    READ = 2


class MetaStore(Protocol):
    """Where state that must survive a crash is kept (``StateStore`` and ``MemoryStore`` are ones)."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Ticket:
    """The windows a request was admitted in, so its response headers update the right counts; ``sent_ms`` is
    the estimated venue time it was admitted at (``-1``: unknown, the headers are then trusted as they are)."""

    weight_window: int
    order_window: int
    sent_ms: int = -1


class WeightLimiter:
    """Admits requests within the weight and order budgets; ``monotonic_s`` times blocks, ``server_ms`` windows;
    ``local_ms`` (the unsynced clock ``server_ms`` adds its offset to) and ``store`` save blocks across restarts."""

    def __init__(
        self, config: LimiterConfig, *, monotonic_s: Callable[[], float], server_ms: Callable[[], int],
        local_ms: Callable[[], int] | None = None, store: MetaStore | None = None,
    ) -> None:
        self.config = config
        self._monotonic_s = monotonic_s
        self._server_ms = server_ms
        self.set_venue_limits(config.weight_limit_1m, config.order_limit_10s)
        self._weight_window = -1
        self._order_window = -1
        self.used_weight = 0
        self.order_count = 0
        self._blocked_until_s = 0.0
        self._banned = False
        self._store = store
        self._local_ms = local_ms if local_ms is not None else server_ms
        self.rate_limited = 0  # 429 answers
        self.banned = 0  # 418 answers (must stay 0)
        self.held_back = 0  # requests refused locally during a Retry-After block
        if store is not None:
            self._restore(store.get_meta(RETRY_AFTER_META))

    def set_venue_limits(self, weight_limit_1m: int, order_limit_10s: int) -> None:
        """Adopt the venue's published limits (from exchangeInfo) where they are lower than the configured ones."""
        cfg = self.config
        weight_limit = min(weight_limit_1m, cfg.weight_limit_1m)
        order_limit = min(order_limit_10s, cfg.order_limit_10s)
        self.weight_budget = max(1, math.floor(weight_limit * cfg.budget_fraction))
        self.order_budget = max(1, math.floor(order_limit * cfg.budget_fraction))
        self.shared_weight_budget = max(1, math.floor(self.weight_budget * (1 - cfg.cancel_reserve_fraction)))

    # -- 429 / 418 --
    def block(self, retry_after_s: float | None, *, banned: bool) -> float:
        """Send nothing for ``retry_after_s`` (the default when None); returns the block's length in seconds."""
        seconds = self.config.default_retry_after_s if retry_after_s is None else max(0.0, retry_after_s)
        until_s = self._monotonic_s() + seconds
        if banned:
            self.banned += 1
        else:
            self.rate_limited += 1
        self._banned = self._banned or banned
        if until_s > self._blocked_until_s:
            self._blocked_until_s = until_s
            if self._store is not None:
                length_ms = math.ceil(seconds * 1000)
                server_ms = self._server_ms()
                record = f"{server_ms + length_ms} {418 if self._banned else 429} " \
                         f"{server_ms - self._local_ms()} {length_ms}"
                self._store.set_meta(RETRY_AFTER_META, record)
        return seconds

    def _restore(self, record: str | None) -> None:
        """Block for what is left of a saved block (module docstring); a malformed record is ignored."""
        try:
            until_ms, status, offset_ms, length_ms = (int(part) for part in (record or "").split())
        except ValueError:
            return
        left_ms = min(length_ms, until_ms - (self._local_ms() + offset_ms))
        if left_ms > 0:
            self._blocked_until_s = self._monotonic_s() + left_ms / 1000
            self._banned = status == 418

    def blocked_ms(self) -> int:
        """Milliseconds left of a 429/418 block (0 when none)."""
        left = self._blocked_until_s - self._monotonic_s()
        if left <= 0:
            self._banned = False
            return 0
        return math.ceil(left * 1000)

    # -- admission --
    async def acquire(self, weight: int, priority: Priority, *, orders: int = 0) -> Ticket:
        """Wait (at most ``max_wait_s``) until ``weight`` (and ``orders`` new orders) fit, then count them."""
        if weight > self.weight_budget or orders > self.order_budget:
            raise ValueError(f"request of weight {weight}, {orders} orders exceeds the whole budget")
        for _ in range(_MAX_WAITS):
            blocked_ms = self.blocked_ms()
            if blocked_ms:
                self.held_back += 1
                if self._banned:
                    raise BotError(ErrorCode.IP_BANNED, f"IP banned by the venue for {blocked_ms} ms more",
                                   recoverable=False, retry_after_ms=blocked_ms)
                raise BotError(ErrorCode.RATE_LIMITED, f"rate limited by the venue for {blocked_ms} ms more",
                               retry_after_ms=blocked_ms)
            wait_s = self._try(weight, priority, orders)
            if wait_s == 0:
                return Ticket(self._weight_window, self._order_window, self._server_ms())
            if wait_s > self.config.max_wait_s:
                raise BotError(ErrorCode.RATE_LIMITED, f"client-side budget spent ({priority.name}): "
                               f"weight {self.used_weight}/{self.weight_budget}, "
                               f"orders {self.order_count}/{self.order_budget}",
                               retry_after_ms=math.ceil(wait_s * 1000))
            await asyncio.sleep(wait_s)
        raise BotError(ErrorCode.RATE_LIMITED, "budget did not free up", retry_after_ms=ORDER_WINDOW_MS)

    def _try(self, weight: int, priority: Priority, orders: int) -> float:
        """Count the request and return 0 if it fits; else the seconds until the window that frees budget."""
        now_ms = self._server_ms()
        self._roll(now_ms)
        limit = self.weight_budget if priority is Priority.CANCEL else self.shared_weight_budget
        if self.used_weight + weight > limit:
            return (WEIGHT_WINDOW_MS - now_ms % WEIGHT_WINDOW_MS) / 1000
        if orders and self.order_count + orders > self.order_budget:
            return (ORDER_WINDOW_MS - now_ms % ORDER_WINDOW_MS) / 1000
        self.used_weight += weight
        self.order_count += orders
        return 0.0

    def _roll(self, now_ms: int) -> None:
        weight_window, order_window = now_ms // WEIGHT_WINDOW_MS, now_ms // ORDER_WINDOW_MS
        if weight_window != self._weight_window:
            self._weight_window, self.used_weight = weight_window, 0
        if order_window != self._order_window:
            self._order_window, self.order_count = order_window, 0

    # -- what the venue says --
    def observe(self, headers: Mapping[str, str], ticket: Ticket) -> None:
        """Raise the counts to the venue's (never lower them), if still in the windows of ``ticket`` and the
        request was not sent within ``BOUNDARY_GUARD_MS`` of its window's start.

        Near a boundary the venue may still count the previous window (our estimate of its clock is off by up
        to half a round trip, more after a clock fault): adopting that count into the new window would block
        our reads for a whole minute on a budget we never used (chaos seed 58: 4,409 of 4,800 adopted 20 ms
        into a window, reads refused for 60 s). The 10 s order count keeps no such guard: a venue whose order
        windows are not aligned with ours (the loopback server's start from its own start) really does count
        the orders of our previous window for a few seconds more, and ignoring it sent orders into 429s
        (``stress/test_cancel_replace_storm.py``); a count wrongly carried over blocks new orders for at most
        10 s."""
        self._roll(self._server_ms())
        used = _int_header(headers, USED_WEIGHT_HEADER)
        if (used is not None and ticket.weight_window == self._weight_window
                and not _near_start(ticket.sent_ms, WEIGHT_WINDOW_MS)):
            self.used_weight = max(self.used_weight, used)
        count = _int_header(headers, ORDER_COUNT_HEADER)
        if count is not None and ticket.order_window == self._order_window:
            self.order_count = max(self.order_count, count)  # no guard here: see below


def _near_start(sent_ms: int, window_ms: int) -> bool:
    """Whether ``sent_ms`` (``-1``: unknown, never near) falls within ``BOUNDARY_GUARD_MS`` after the start of its
    window, where the venue's own window may not have rolled yet."""
    return sent_ms >= 0 and sent_ms % window_ms < BOUNDARY_GUARD_MS


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
