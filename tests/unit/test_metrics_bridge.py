"""The pull-model bridge's parts: histogram deltas replay only new samples; the decision tap is transparent."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.connectors.paper import PaperVenue
from bot.core.errors import BotError, ErrorCode
from bot.core.types import ClientOrderId, NewOrder, OrderStatus, OrderType, Side
from bot.metrics.bridge import DecisionTap, HistogramDelta
from bot.quoting.latency import LatencyHistogram


def test_histogram_delta_gives_only_the_samples_since_the_previous_take() -> None:
    hist, delta = LatencyHistogram(), HistogramDelta()
    hist.record(1.0)
    hist.record(1.0)
    first = delta.take(hist)
    assert sum(n for _, n in first) == 2 and first[0][0] == pytest.approx(1.0, rel=0.03)
    assert delta.take(hist) == []
    hist.record(100.0)
    [(value, n)] = delta.take(hist)
    assert n == 1 and value == pytest.approx(100.0, rel=0.03)


@dataclass
class Ctx:
    spread_bps: float | None = None
    scores: dict[str, float] = field(default_factory=dict)


class Fixed:
    name = "fixed"

    def decide(self, ctx: Ctx) -> Ctx:
        ctx.spread_bps, ctx.scores = 1.5, {"vol": 0.25}
        return ctx


def test_decision_tap_keeps_the_last_spread_and_scores_and_changes_nothing() -> None:
    tap = DecisionTap(Fixed())
    ctx = Ctx()
    assert tap.decide(ctx) is ctx and tap.name == "fixed"
    assert (tap.last_spread_bps, tap.last_scores) == (1.5, {"vol": 0.25})


class Clock:
    def monotonic_s(self) -> float:
        return 0.0

    def now_ms(self) -> int:
        return 0


class NoOrders:
    name = "real"

    def __getattr__(self, item: str) -> object:
        raise AssertionError(f"the real venue was asked for {item}")


def _order(cid: str) -> NewOrder:
    return NewOrder(symbol="BTCUSDT", side=Side.BUY, type=OrderType.LIMIT_MAKER, qty_lots=1, price_ticks=100,
                    client_order_id=ClientOrderId(cid))


async def test_paper_venue_acks_and_cancels_locally_and_never_calls_the_real_venue() -> None:
    paper = PaperVenue(NoOrders(), Clock())  # type: ignore[arg-type]
    placed = await paper.place(_order("mm-1"))
    assert placed.status is OrderStatus.NEW
    assert [o.client_order_id for o in await paper.open_orders("BTCUSDT")] == ["mm-1"]
    outcome = await paper.cancel_replace("BTCUSDT", ClientOrderId("mm-1"), _order("mm-2"))
    assert outcome.cancel.status is OrderStatus.CANCELED  # type: ignore[union-attr]
    assert (await paper.cancel("BTCUSDT", ClientOrderId("mm-2"))).status is OrderStatus.CANCELED
    assert await paper.open_orders() == [] and await paper.fills("BTCUSDT") == []
    with pytest.raises(BotError) as caught:
        await paper.cancel("BTCUSDT", ClientOrderId("mm-2"))
    assert caught.value.code is ErrorCode.UNKNOWN_ORDER
    assert paper.sent_orders == 0
