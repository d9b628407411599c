"""Invariants 19, 20 and 22: the bot's orders on the venue against the config's SOFT bound and post-only rule."""

from __future__ import annotations

from typing import Any

from exchange_sim.checker import INVARIANTS, SessionIndex, check_report
from exchange_sim.checker.exposure import (
    check_post_only,
    check_soft_reduce_only,
    check_soft_reduces,
)
from exchange_sim.checker.records import Violation
from tests.checker_support import S, bot, clean_session, config, order, trade, venue_state

US = 1_000_000
CFG = config(soft_limit_lots={S: 10}, soft_reduce_bound_s=30.0, guard_lag_s=2.0)


def _index(events: list[dict[str, Any]]) -> SessionIndex:
    return SessionIndex.build(sorted(events, key=lambda e: e["t"]), "bot")


def _names(found: list[Violation]) -> list[tuple[str, tuple[str, ...]]]:
    return [(v.invariant, v.orders) for v in found]


def _intent(t: float, cid: str, side: str, q: int = 10) -> dict[str, Any]:
    return bot(t, "intent", a="bot", c=cid, s=S, S=side, o="LIMIT_MAKER", p=100, q=q, bb=100, ba=101)


def _request(t: float, op: str, **fields: Any) -> dict[str, Any]:
    return {"t": round(t * US), "k": "request", "a": "bot", "op": op, "sent": round((t - 0.01) * US), **fields}


def _reconcile(t: float, lots: int) -> list[dict[str, Any]]:
    """A reconcile that listed the fills at ``t`` (trades, open orders, balances) and recorded ``lots``."""
    return [_request(t, "myTrades", s=S), _request(t + 0.1, "openOrders"), _request(t + 0.2, "account"),
            bot(t + 0.3, "position", a="bot", s=S, lots=lots, final=False)]


def test_the_new_invariants_are_registered_and_run_on_a_clean_session() -> None:
    assert {"19.soft_reduce_only", "20.post_only", "22.soft_reduces"} <= set(INVARIANTS)
    report = check_report(sorted(clean_session(), key=lambda e: e["t"]), venue_state(), CFG)
    assert report.violations == () and report.skipped == {}


def test_without_a_configured_soft_bound_they_are_skipped_with_the_reason() -> None:
    unset = config(soft_limit_lots={})
    report = check_report(sorted(clean_session(), key=lambda e: e["t"]), venue_state(), unset)
    assert report.skipped["19.soft_reduce_only"] == "no configured SOFT inventory bound for BTCUSDT"
    assert report.skipped["22.soft_reduces"] == "no configured SOFT inventory bound for BTCUSDT"


# 19. soft reduce-only ------------------------------------------------------------------------------------------

def test_an_order_growing_a_position_the_bot_reconciled_past_the_soft_bound_is_a_violation() -> None:
    events = [*clean_session(), *_reconcile(2.5, 10), _intent(5.0, "c2", "BUY")]  # long 10 = the SOFT bound
    assert _names(check_soft_reduce_only(_index(events), CFG, None)) == [("19.soft_reduce_only", ("c2",))]


def test_reducing_orders_and_orders_before_the_reconcile_became_a_guard_level_are_allowed() -> None:
    sell = [*clean_session(), *_reconcile(2.5, 10), _intent(5.0, "c2", "SELL")]
    assert check_soft_reduce_only(_index(sell), CFG, None) == []
    within_lag = [*clean_session(), *_reconcile(2.5, 10), _intent(3.5, "c2", "BUY")]  # 0.7 s after the record
    assert check_soft_reduce_only(_index(within_lag), CFG, None) == []
    unreconciled = [*clean_session(), _intent(5.0, "c2", "BUY")]  # the fill may not have reached the bot
    assert check_soft_reduce_only(_index(unreconciled), CFG, None) == []


def test_a_reducing_fill_after_the_listing_the_bot_may_have_heard_of_excuses_the_order() -> None:
    # a 5-lot sell fill after the listing: the bot may believe 5 lots, inside the SOFT bound
    reduced = [*clean_session(), *_reconcile(2.5, 10), trade(3.0, 8, q=5, taker_side="BUY"),
               _intent(5.0, "c2", "BUY")]
    assert check_soft_reduce_only(_index(reduced), CFG, None) == []
    grown = [*clean_session(), *_reconcile(2.5, 10), trade(3.0, 8, q=5), _intent(5.0, "c2", "BUY")]
    assert _names(check_soft_reduce_only(_index(grown), CFG, None)) == [("19.soft_reduce_only", ("c2",))]


# 20. post-only -------------------------------------------------------------------------------------------------

def _plain(t: float, cid: str, x: str, status: str, oid: int) -> dict[str, Any]:
    return {**order(t, cid, x, status, oid=oid), "o": "LIMIT"}


def test_a_plain_limit_order_resting_on_the_venue_is_a_violation() -> None:
    events = [*clean_session(), _plain(2.5, "c2", "NEW", "NEW", 2), _plain(2.8, "c2", "CANCELED", "CANCELED", 2)]
    assert _names(check_post_only(_index(events), CFG, None)) == [("20.post_only", ("c2",))]


def test_a_limit_order_that_never_rests_and_a_config_that_lets_the_bot_take_are_allowed() -> None:
    ioc = [*clean_session(), _plain(2.5, "c2", "NEW", "NEW", 2), _plain(2.5, "c2", "EXPIRED", "EXPIRED", 2)]
    assert check_post_only(_index(ioc), CFG, None) == []
    resting = [*clean_session(), _plain(2.5, "c2", "NEW", "NEW", 2)]
    assert check_post_only(_index(resting), config(maker_only=False), None) == []
    assert check_post_only(_index(clean_session()), CFG, None) == []  # LIMIT_MAKER


# 22. reduce under SOFT -----------------------------------------------------------------------------------------

def test_a_position_past_the_soft_bound_with_no_reducing_order_within_the_bound_is_a_violation() -> None:
    events = [*clean_session(), bot(60.0, "session_end")]  # long 10 from 2 s, never offered back
    found = check_soft_reduces(_index(events), CFG, None)
    assert [v.invariant for v in found] == ["22.soft_reduces"] and found[0].t_s == 32.0


def test_a_reducing_order_resting_or_a_claimed_hard_guard_satisfies_it() -> None:
    sell = [*clean_session(), order(10.0, "c2", "NEW", "NEW", side="SELL", p=101, oid=2), bot(60.0, "session_end")]
    assert check_soft_reduces(_index(sell), CFG, None) == []
    hard = [*clean_session(), bot(5.0, "guard", level="HARD", reason="LATENCY", latch=""), bot(60.0, "session_end")]
    assert check_soft_reduces(_index(hard), CFG, None) == []
    short_session = [*clean_session(), bot(20.0, "session_end")]  # not yet past the bound
    assert check_soft_reduces(_index(short_session), CFG, None) == []


def test_time_in_which_the_bot_may_not_have_heard_of_its_fill_does_not_count() -> None:
    missed = [{"t": round(1.5 * US), "k": "fault", "id": 4, "f": "user_stream", "tg": "user", "ph": "start"},
              {"t": round(2.0 * US), "k": "fault_hit", "id": 4, "f": "user_stream", "e": "report_missed", "a": "bot",
               "c": "c1"},
              {"t": round(25 * US), "k": "fault", "id": 4, "f": "user_stream", "ph": "end"}]
    events = [*clean_session(), *missed, bot(50.0, "session_end")]
    assert check_soft_reduces(_index(events), CFG, None) == []  # counted from 25 s: due at 55 s, after the end
    found = check_soft_reduces(_index([*events, bot(60.0, "session_end")]), CFG, None)
    assert [(v.invariant, v.t_s) for v in found] == [("22.soft_reduces", 55.0)]


def test_the_soft_bound_and_ladder_levels_come_from_the_bot_config() -> None:
    from decimal import Decimal  # noqa: PLC0415

    from bot.config import BotConfig  # noqa: PLC0415
    from bot.risk.config import InventoryLimits, RiskConfig  # noqa: PLC0415
    from harness.check_config import check_config_for, soft_limit_lots  # noqa: PLC0415

    def bot_config(hard: str, fraction: float) -> BotConfig:
        return BotConfig(symbols=(S,), risk=RiskConfig(inventory=InventoryLimits(hard_max_base={S: Decimal(hard)},
                                                                                 soft_fraction=fraction)))

    step = Decimal("0.00001")
    assert soft_limit_lots(bot_config("0.005", 0.2), S, step) == 100  # 0.001 BTC
    assert soft_limit_lots(bot_config("0.00501", 0.7), S, step) == 351  # 350.7 lots: SOFT from the 351st
    checked = check_config_for(bot_config("0.005", 0.7), "bot", {S: step})
    assert checked.soft_limit_lots == {S: 350} and checked.hard_limit_lots == {S: 500}
    assert checked.soft_reduce_bound_s == bot_config("0.005", 0.7).execution.reconcile_interval_s
