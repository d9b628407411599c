"""Request weights, 429 then 418, and order counts (exchange_sim.server.limits)."""

from __future__ import annotations

import pytest

from exchange_sim.server.errors import ApiError
from exchange_sim.server.limits import OrderLimiter, WeightLimiter, depth_weight, request_weight
from exchange_sim.server.params import Params


@pytest.mark.parametrize(("limit", "weight"), [(5, 5), (100, 5), (101, 25), (500, 25), (1000, 50), (5000, 250)])
def test_depth_weight_follows_binance_table(limit: int, weight: int) -> None:
    assert depth_weight(limit) == weight


def test_open_orders_weight_depends_on_symbol() -> None:
    assert request_weight("GET", "/api/v3/openOrders", Params([("symbol", "BTCUSDT")])) == 6
    assert request_weight("GET", "/api/v3/openOrders", Params([])) == 80
    assert request_weight("GET", "/api/v3/exchangeInfo", Params([])) == 20


def _limiter() -> WeightLimiter:
    return WeightLimiter(limit=10, window_s=60, ban_after=2, ban_s=120)


def test_over_the_budget_is_429_with_retry_after_until_window_end() -> None:
    limiter = _limiter()
    assert limiter.charge("ip", 10, 1.0) == 10
    with pytest.raises(ApiError) as info:
        limiter.charge("ip", 1, 15.0)
    assert (info.value.status, info.value.code, info.value.headers["Retry-After"]) == (429, -1003, "45")


def test_sending_while_limited_earns_a_418_ban() -> None:
    limiter = _limiter()
    limiter.charge("ip", 10, 1.0)
    statuses = []
    for t in (2.0, 3.0, 4.0, 100.0):
        with pytest.raises(ApiError) as info:
            limiter.charge("ip", 1, t)
        statuses.append(info.value.status)
    assert statuses == [429, 429, 418, 418]
    assert limiter.charge("ip", 1, 130.0) == 1  # the ban (120 s from t=4) is over


def test_waiting_out_retry_after_is_never_banned() -> None:
    limiter = _limiter()
    limiter.charge("ip", 10, 1.0)
    with pytest.raises(ApiError):
        limiter.charge("ip", 1, 2.0)
    assert limiter.charge("ip", 1, 60.0) == 1
    assert limiter.rejected_418 == 0


def test_ips_have_separate_budgets() -> None:
    limiter = _limiter()
    limiter.charge("a", 10, 1.0)
    assert limiter.charge("b", 10, 1.0) == 10


def test_orders_over_ten_seconds_limit_are_1015() -> None:
    orders = OrderLimiter(per_10s=2, per_day=100)
    assert orders.charge("acct", 0.0) == (1, 1)
    assert orders.charge("acct", 1.0) == (2, 2)
    with pytest.raises(ApiError) as info:
        orders.charge("acct", 2.0)
    assert (info.value.status, info.value.code) == (429, -1015)
    assert orders.charge("acct", 10.5) == (1, 4)
