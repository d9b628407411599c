"""StopReport tells the truth: verified exactly when the last successful listing showed nothing of ours open;
remaining unknown (None) when no listing succeeded."""

from __future__ import annotations

from bot.app import StopReport
from bot.core.types import ClientOrderId, OrderStatus, OrderType, Side, VenueOrder, VenueOrderId
from bot.execution.order_manager import ShutdownReport
from bot.risk.kill_switch import KillReport

_OPEN = VenueOrder(symbol="BTCUSDT", order_id=VenueOrderId(1), client_order_id=ClientOrderId("mmb-1"),
                   side=Side.BUY, type=OrderType.LIMIT_MAKER, status=OrderStatus.NEW, price_ticks=100,
                   orig_qty_lots=1, executed_qty_lots=0, cum_quote_atoms=0, time_ms=0)


def _shutdown(remaining: tuple[ClientOrderId, ...] | None) -> ShutdownReport:
    return ShutdownReport(cancelled=0, verified=remaining == (), remaining=remaining, positions_lots={})


def _kill(remaining: list[VenueOrder] | None) -> KillReport:
    return KillReport(reason="SIGINT", cancelled=0, verified=remaining == [], remaining=remaining, elapsed_s=1.0)


def _stop(shutdown: ShutdownReport, kill: KillReport | None) -> StopReport:
    return StopReport(reason="SIGINT", shutdown=shutdown, kill=kill, fills=0, positions_lots={})


def test_a_kill_switch_that_verified_after_an_unverified_shutdown_makes_the_stop_verified() -> None:
    report = _stop(_shutdown(None), _kill([]))
    assert report.verified and report.remaining == 0


def test_nothing_listed_anywhere_means_unknown_and_unverified() -> None:
    report = _stop(_shutdown(None), _kill(None))
    assert not report.verified and report.remaining is None


def test_the_kill_switchs_listing_is_the_last_word() -> None:
    report = _stop(_shutdown(()), _kill([_OPEN]))
    assert not report.verified and report.remaining == 1


def test_an_orderly_stop_uses_the_shutdown_listing() -> None:
    assert _stop(_shutdown(()), None).verified
    assert _stop(_shutdown((ClientOrderId("mmb-1"),)), None).remaining == 1
