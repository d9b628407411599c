"""Invariant 8: after a HARD guard, no new order until reset and every open order cancelled within the bound."""

from __future__ import annotations

from exchange_sim.checker import CheckConfig
from tests.checker_support import bot, clean_session, invariants, order, venue_state


def test_an_order_sent_under_a_hard_guard_is_a_violation() -> None:
    events = [*clean_session(), bot(0.95, "guard", level="HARD", reason="drawdown"),
              bot(2.9, "guard", level="OK", reason="reset")]
    assert invariants(events) == {"8.hard_guard"}


def test_an_order_still_open_after_the_cancel_bound_is_a_violation() -> None:
    events = [e for e in clean_session() if e["k"] != "trade" and not (e["k"] == "order" and e["x"] == "TRADE")]
    events = [e for e in events if e["k"] not in ("bot.fill_applied", "bot.order_final", "bot.position")]
    events += [bot(1.02, "guard", level="HARD", reason="inventory"), order(1.5, "c1", "CANCELED", "CANCELED"),
               bot(1.5, "order_final", a="bot", c="c1", X="CANCELED")]
    assert invariants(events, venue_state(btc=10_000, usdt=1_000_000), CheckConfig(hard_cancel_bound_s=0.2)) == {
        "8.hard_guard"}
