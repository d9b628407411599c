"""Rate limits as Binance Spot applies them: request weight per IP per window, orders per account, 429 then 418.

Lifecycle of one IP: *within budget* (each request adds its weight to the current fixed window; every answer
carries ``X-MBX-USED-WEIGHT-1M``) -> *limited* (the request that passes the budget and every request until the
window ends get HTTP 429, ``Retry-After`` in seconds, code -1003) -> *banned* (after ``ban_after_429`` requests
sent while limited: HTTP 418 with ``Retry-After`` until the ban ends). A client that waits out ``Retry-After``
is never banned. Orders count per account in a 10-second and a one-day window (-1015, HTTP 429).

Clocks are passed in (seconds since server start), so the limiter is pure bookkeeping and unit-testable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from exchange_sim.server import errors
from exchange_sim.server.config import LimitsConfig
from exchange_sim.server.errors import ApiError
from exchange_sim.server.params import Params

_WEIGHTS = {
    ("GET", "/api/v3/ping"): 1, ("GET", "/api/v3/time"): 1, ("GET", "/api/v3/exchangeInfo"): 20,
    ("GET", "/api/v3/account"): 20, ("POST", "/api/v3/order"): 1, ("DELETE", "/api/v3/order"): 1,
    ("GET", "/api/v3/order"): 4, ("DELETE", "/api/v3/openOrders"): 1, ("GET", "/api/v3/myTrades"): 20,
    ("POST", "/api/v3/order/cancelReplace"): 1,
}
ORDER_ENDPOINTS = frozenset({("POST", "/api/v3/order"), ("POST", "/api/v3/order/cancelReplace")})


def depth_weight(limit: int) -> int:
    """Binance's depth weight by ``limit``: 5 up to 100, 25 up to 500, 50 up to 1000, 250 up to 5000."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


def request_weight(method: str, path: str, params: Params) -> int:
    """The weight of one REST request (1 for paths without a listed weight)."""
    if path == "/api/v3/depth":
        try:
            limit = params.opt_integer("limit")
        except ApiError:
            limit = None
        return depth_weight(100 if limit is None else limit)
    if path == "/api/v3/ticker/bookTicker":
        return 2 if "symbol" in params else 4
    if path == "/api/v3/openOrders" and method == "GET":
        return 6 if "symbol" in params else 80
    return _WEIGHTS.get((method, path), 1)


def rate_limits_json(limits: LimitsConfig) -> list[dict[str, object]]:
    """exchangeInfo's ``rateLimits``."""
    return [
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": limits.weight_per_minute},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": limits.orders_per_10s},
        {"rateLimitType": "ORDERS", "interval": "DAY", "intervalNum": 1, "limit": limits.orders_per_day},
        {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
    ]


@dataclass(slots=True)
class _IpState:
    window: int = -1
    used: int = 0
    limited_until_s: float = 0.0
    strikes: int = 0
    banned_until_s: float = 0.0


class WeightLimiter:
    """Request weight per key (IP) per fixed window, with the 429 -> 418 escalation (module docstring)."""

    def __init__(self, *, limit: int, window_s: float, ban_after: int, ban_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self.ban_after = ban_after
        self.ban_s = ban_s
        self._ips: dict[str, _IpState] = {}
        self.rejected_429 = 0
        self.rejected_418 = 0

    def used(self, key: str, now_s: float) -> int:
        state = self._ips.get(key)
        if state is None or state.window != int(now_s // self.window_s):
            return 0
        return state.used

    def charge(self, key: str, weight: int, now_s: float) -> int:
        """Add ``weight``; return the window's used weight, or raise ``ApiError`` 429/418."""
        state = self._ips.setdefault(key, _IpState())
        if now_s < state.banned_until_s:
            self.rejected_418 += 1
            raise _banned(state.banned_until_s, now_s)
        window = int(now_s // self.window_s)
        if window != state.window:
            state.window, state.used = window, 0
        if now_s >= state.limited_until_s:
            state.strikes = 0
        elif state.limited_until_s:
            state.strikes += 1
            if state.strikes >= self.ban_after:
                state.banned_until_s = now_s + self.ban_s
                state.strikes = 0
                self.rejected_418 += 1
                raise _banned(state.banned_until_s, now_s)
        state.used += weight
        if state.used > self.limit or now_s < state.limited_until_s:
            window_end = (window + 1) * self.window_s
            state.limited_until_s = max(state.limited_until_s, window_end)
            self.rejected_429 += 1
            raise ApiError(
                errors.TOO_MANY_REQUESTS,
                f"Too much request weight used; current limit is {self.limit} request weight per 1 MINUTE. "
                "Please use WebSocket Streams for live updates to avoid polling the API.",
                status=429, headers={"Retry-After": str(max(1, math.ceil(state.limited_until_s - now_s)))},
            )
        return state.used


def _banned(until_s: float, now_s: float) -> ApiError:
    return ApiError(errors.TOO_MANY_REQUESTS, "Way too much request weight used; IP banned until further notice.",
                    status=418, headers={"Retry-After": str(max(1, math.ceil(until_s - now_s)))})


class OrderLimiter:
    """New orders per account in a 10-second and a one-day fixed window (-1015 when over either)."""

    def __init__(self, *, per_10s: int, per_day: int) -> None:
        self.per_10s = per_10s
        self.per_day = per_day
        self._counts: dict[str, tuple[int, int, int, int]] = {}  # (10s window, count, day window, count)

    def counts(self, account: str, now_s: float) -> tuple[int, int]:
        w10, c10, wd, cd = self._counts.get(account, (-1, 0, -1, 0))
        return (c10 if w10 == int(now_s // 10) else 0, cd if wd == int(now_s // 86400) else 0)

    def charge(self, account: str, now_s: float) -> tuple[int, int]:
        """Count one new order; return the (10 s, day) counts or raise 429 -1015."""
        c10, cd = self.counts(account, now_s)
        c10, cd = c10 + 1, cd + 1
        self._counts[account] = (int(now_s // 10), c10, int(now_s // 86400), cd)
        if c10 > self.per_10s:
            raise ApiError(errors.TOO_MANY_ORDERS, f"Too many new orders; current limit is {self.per_10s} orders "
                           "per 10 SECOND.", status=429,
                           headers={"Retry-After": str(max(1, math.ceil(10 - now_s % 10)))})
        if cd > self.per_day:
            raise ApiError(errors.TOO_MANY_ORDERS, f"Too many new orders; current limit is {self.per_day} orders "
                           "per DAY.", status=429,
                           headers={"Retry-After": str(max(1, math.ceil(86400 - now_s % 86400)))})
        return c10, cd
