"""Invariant 10 (liveness, checked apart from safety): quoting resumes within the bound once faults heal."""

from __future__ import annotations

from exchange_sim.checker import check_safety
from tests.checker_support import S, bot, clean_session, config, invariants, order, venue_state


def _fault(t: float, ph: str) -> dict[str, object]:
    return {"t": round(t * 1_000_000), "k": "fault", "id": 0, "f": "partition", "tg": "rest", "ph": ph}


def _intent(t: float, cid: str) -> dict[str, object]:
    return bot(t, "intent", a="bot", c=cid, s=S, S="BUY", o="LIMIT_MAKER", p=100, q=10, bb=99, ba=101)


def _tail(t: float) -> dict[str, object]:
    return {"t": round(t * 1_000_000), "k": "regime", "regime": "calm"}


def test_no_quote_after_the_faults_heal_is_a_liveness_violation() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), _tail(10.0)]
    assert invariants(events, config=config(liveness_bound_s=1.0)) == {"10.liveness"}
    assert check_safety(sorted(events, key=lambda e: e["t"]), venue_state(), config(liveness_bound_s=1.0)) == []


def test_a_new_quote_within_the_bound_is_live() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), _intent(2.9, "c2"),
              order(3.0, "c2", "NEW", "NEW", oid=2),
              order(3.2, "c2", "CANCELED", "CANCELED", oid=2), bot(3.3, "order_final", a="bot", c="c2", X="CANCELED"),
              _tail(10.0)]
    assert invariants(events, config=config(liveness_bound_s=1.0)) == set()


def test_a_hard_guard_in_force_exempts_the_heal() -> None:
    events = [*clean_session(), _fault(2.2, "start"), _fault(2.5, "end"), bot(2.3, "guard", level="HARD",
              reason="venue"), _tail(10.0)]
    assert invariants(events, config=config(liveness_bound_s=1.0)) == set()
    assert S
