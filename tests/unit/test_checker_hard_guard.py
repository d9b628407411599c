"""Invariant 8: after a HARD guard, no new order until reset and every open order cancelled within the bound."""

from __future__ import annotations

from tests.checker_support import bot, clean_session, config, invariants, order, venue_state


def test_an_order_sent_under_a_hard_guard_is_a_violation() -> None:
    events = [*clean_session(), bot(0.95, "guard", level="HARD", reason="drawdown"),
              bot(2.9, "guard", level="OK", reason="reset")]
    assert invariants(events) == {"8.hard_guard"}


def test_an_order_still_open_after_the_cancel_bound_is_a_violation() -> None:
    events = [e for e in clean_session() if e["k"] != "trade" and not (e["k"] == "order" and e["x"] == "TRADE")]
    events = [{**e, "lots": 0} if e["k"] == "bot.position" else e for e in events
              if e["k"] not in ("bot.fill_applied", "bot.order_final")]
    events += [bot(1.02, "guard", level="HARD", reason="inventory"), order(1.5, "c1", "CANCELED", "CANCELED"),
               bot(1.5, "order_final", a="bot", c="c1", X="CANCELED")]
    assert invariants(events, venue_state(btc=10_000, usdt=1_000_000), config(hard_cancel_bound_s=0.2)) == {
        "8.hard_guard"}


def _cancelled_late(*extra: dict[str, object]) -> set[str]:
    """c1 rests from 1.01 s; HARD at 1.02 s; the cancel lands at 1.5 s; the bound is 0.2 s."""
    events = [e for e in clean_session() if e["k"] != "trade" and not (e["k"] == "order" and e["x"] == "TRADE")]
    events = [{**e, "lots": 0} if e["k"] == "bot.position" else e for e in events
              if e["k"] not in ("bot.fill_applied", "bot.order_final")]
    events += [bot(1.02, "guard", level="HARD", reason="inventory"), order(1.5, "c1", "CANCELED", "CANCELED"),
               bot(1.5, "order_final", a="bot", c="c1", X="CANCELED"), *extra]
    return invariants(events, venue_state(btc=10_000, usdt=1_000_000), config(hard_cancel_bound_s=0.2))


def _fault(t: float, phase: str, kind: str = "partition", fault_id: int = 0) -> dict[str, object]:
    return {"t": round(t * 1_000_000), "k": "fault", "id": fault_id, "f": kind, "tg": "rest", "ph": phase}


def _hit(t: float, effect: str, fault_id: int = 0, **fields: object) -> dict[str, object]:
    return {"t": round(t * 1_000_000), "k": "fault_hit", "id": fault_id, "f": "partition", "e": effect, "a": "bot",
            **fields}


def test_the_cancel_bound_counts_from_when_a_blocking_fault_heals() -> None:
    assert "8.hard_guard" not in _cancelled_late(_fault(1.0, "start"), _hit(1.1, "request_lost", op="cancel"),
                                                 _fault(1.4, "end"))


def test_an_order_still_open_the_bound_after_the_venue_is_reachable_again_is_a_violation() -> None:
    assert "8.hard_guard" in _cancelled_late(_fault(1.0, "start"), _hit(1.1, "request_lost", op="cancel"),
                                             _fault(1.2, "end"))


def test_a_fault_that_never_blocked_the_bot_does_not_extend_the_bound() -> None:
    assert "8.hard_guard" in _cancelled_late(_fault(1.0, "start"), _fault(1.4, "end"))


def test_a_rejected_cancel_blocks_but_a_rejected_order_does_not() -> None:
    assert "8.hard_guard" not in _cancelled_late(_fault(1.0, "start", "reject"), _hit(1.1, "reject", op="cancel"),
                                                 _fault(1.4, "end", "reject"))
    assert "8.hard_guard" in _cancelled_late(_fault(1.0, "start", "reject"), _hit(1.1, "reject", op="place"),
                                             _fault(1.4, "end", "reject"))


def test_a_crashed_bot_is_given_the_bound_from_its_restart() -> None:
    crash = [_fault(1.03, "start", "crash"), _fault(1.03, "end", "crash")]
    assert "8.hard_guard" not in _cancelled_late(*crash, bot(1.4, "restart", a="bot"))
    assert "8.hard_guard" in _cancelled_late(*crash, bot(1.1, "restart", a="bot"))


def test_the_cancel_bound_counts_from_when_a_retry_after_expires() -> None:
    # chaos seed 760: a 429's Retry-After outlasts the rate-limit fault; the bot may send nothing until it expires
    retry_after = {"t": 1_050_000, "k": "reject", "a": "bot", "op": "myTrades", "code": -1003, "http": 429,
                   "ra_ms": 400, "rcv": 1_060_000}
    assert "8.hard_guard" not in _cancelled_late(_fault(1.0, "start", "rate_limit"), _hit(1.05, "http_429"),
                                                 _fault(1.1, "end", "rate_limit"), retry_after)
    assert "8.hard_guard" in _cancelled_late(_fault(1.0, "start", "rate_limit"), _hit(1.05, "http_429"),
                                             _fault(1.1, "end", "rate_limit"))


def _retried(sent_s: float) -> set[str]:
    """c1 was decided (and first sent) at 1.0 s; HARD fires at 1.005 s; a retry of c1 is sent at ``sent_s``."""
    retry = {"t": round((sent_s + 0.01) * 1_000_000), "k": "request", "a": "bot", "op": "place", "c": "c1",
             "sent": round(sent_s * 1_000_000)}
    events = [*clean_session(), bot(1.005, "guard", level="HARD", reason="drawdown"),
              bot(2.9, "guard", level="OK", reason="reset"), retry]
    return invariants(events)


def test_a_retry_sent_after_the_hard_guard_of_an_order_decided_before_it_is_a_violation() -> None:
    assert "8.hard_guard" in _retried(1.5)


def test_a_retry_sent_before_the_guard_or_after_its_reset_is_not() -> None:
    assert "8.hard_guard" not in _retried(1.002)
    assert "8.hard_guard" not in _retried(2.95)


def _in_flight_at_the_guard(cancel_t: float) -> set[str]:
    """c1 is sent at 1.0 s and accepted at 1.01 s; HARD fires at 1.005 s, while it is in flight; bound 0.2 s."""
    events = [e for e in clean_session() if e["k"] != "trade" and not (e["k"] == "order" and e["x"] == "TRADE")]
    events = [{**e, "lots": 0} if e["k"] == "bot.position" else e for e in events
              if e["k"] not in ("bot.fill_applied", "bot.order_final")]
    events += [bot(1.005, "guard", level="HARD", reason="LATENCY"), order(cancel_t, "c1", "CANCELED", "CANCELED"),
               bot(cancel_t, "order_final", a="bot", c="c1", X="CANCELED")]
    return invariants(events, venue_state(btc=10_000, usdt=1_000_000), config(hard_cancel_bound_s=0.2))


def test_an_order_in_flight_at_the_guard_has_the_bound_from_its_acceptance() -> None:
    assert _in_flight_at_the_guard(1.207) == set()  # 0.202 s after the guard, 0.197 s after it rested
    assert _in_flight_at_the_guard(1.215) == {"8.hard_guard"}  # 0.205 s after it rested: too late
