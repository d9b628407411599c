"""Invariant 18 (resync_after_gap): after a user-data stream ends, the account reads its order state from the venue
before it subscribes again; and the venue logs the subscriptions it serves (``user_sub``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from exchange_sim.checker import check_report
from exchange_sim.engine.types import ATOMS_PER_UNIT, AccountId
from exchange_sim.eventlog import read_events
from exchange_sim.market.config import MarketConfig
from exchange_sim.world import SimWorld
from tests.checker_support import CONFIG, S, bot, clean_session, config, invariants, venue_state, violations

US = 1_000_000
INV = "18.resync_after_gap"


def _sub(t: float, n: int, ph: str, *, why: str = "reset", a: str = "bot") -> dict[str, Any]:
    event = {"t": round(t * US), "k": "user_sub", "a": a, "n": n, "ph": ph}
    return {**event, "why": why} if ph == "end" else event


def _read(t: float, op: str = "openOrders", *, a: str = "bot") -> dict[str, Any]:
    return {"t": round(t * US), "k": "request", "a": a, "op": op, "s": None if op == "openOrders" else S,
            "sent": round((t - 0.01) * US)}


def _gap(*between: dict[str, Any]) -> list[dict[str, Any]]:
    """The clean session (first subscription at 0.7 s) whose user stream is reset at 1.5 s and resumed at 1.8 s,
    with ``between`` added."""
    return [*clean_session(), _sub(1.5, 1, "end"), *between, _sub(1.8, 2, "start")]


def test_a_stream_resumed_after_an_open_orders_listing_holds() -> None:
    assert INV not in invariants(_gap(_read(1.6, "myTrades"), _read(1.65)))


def test_a_stream_resumed_with_no_read_of_the_account_is_a_violation() -> None:
    found = [v for v in violations(_gap()) if v.invariant == INV]
    assert [(v.t_s, v.orders) for v in found] == [(1.8, ())]
    assert "subscription 2 started 0.300s after subscription 1 ended (reset)" in found[0].detail


def test_a_fill_listing_alone_counts_as_the_read() -> None:
    assert INV not in invariants(_gap(_read(1.6, "myTrades")))  # a reconcile's first read (fills), then it failed


def test_a_read_the_venue_refused_counts() -> None:
    refused = {"t": round(1.6 * US), "k": "reject", "a": "bot", "op": "openOrders", "code": -1003, "m": "limited",
               "s": None, "http": 429, "ra_ms": 1000}
    assert INV not in invariants(_gap(refused))


def test_a_read_a_fault_lost_on_its_way_counts() -> None:
    lost = {"t": round(1.6 * US), "k": "fault_hit", "id": 0, "f": "partition", "e": "request_lost", "a": "bot",
            "op": "myTrades", "sent": round(1.6 * US)}
    assert INV not in invariants(_gap(lost))


def test_a_read_before_the_end_does_not_cover_the_gap() -> None:
    assert INV in invariants([*_gap(), _read(1.4)])
    assert INV in invariants([*_gap(), _read(1.5)])  # at the end's own instant: not after it


def test_a_read_at_the_start_instant_counts() -> None:
    assert INV not in invariants(_gap(_read(1.8)))


def test_a_single_order_query_is_not_a_read_of_the_account() -> None:
    get_order = {"t": round(1.6 * US), "k": "request", "a": "bot", "op": "getOrder", "s": S, "c": "c1",
                 "sent": round(1.59 * US)}
    assert INV in invariants(_gap(get_order))


def test_another_accounts_read_or_subscriptions_do_not_count() -> None:
    assert INV in invariants(_gap(_read(1.6, a="mm")))
    other = [*clean_session(), _sub(1.0, 9, "start", a="mm"), _sub(1.2, 9, "end", a="mm"),
             _sub(1.4, 10, "start", a="mm")]
    assert INV not in invariants(other)


def test_every_gap_is_judged_on_its_own() -> None:
    events = [*_gap(_read(1.6)), _sub(2.2, 2, "end"), _sub(2.5, 3, "start")]
    assert [v.t_s for v in violations(events) if v.invariant == INV] == [2.5]


def test_a_restarted_instance_that_reconciles_before_subscribing_holds() -> None:
    crash = [_sub(1.5, 1, "end", why="closed"), bot(1.9, "restart", a="bot"), _read(1.95, "myTrades"),
             _read(1.97), bot(1.98, "open_orders", a="bot", cids=[], pending=[], phase="reconciled"),
             _sub(2.0, 2, "start")]
    assert INV not in invariants([*clean_session(), *crash])


def test_a_restarted_instance_that_subscribes_before_any_read_is_a_violation() -> None:
    crash = [_sub(1.5, 1, "end", why="closed"), bot(1.9, "restart", a="bot"), _sub(2.0, 2, "start"), _read(2.1)]
    assert INV in invariants([*clean_session(), *crash])


def test_the_bots_own_reconcile_claim_is_not_evidence() -> None:
    claim = bot(1.6, "open_orders", a="bot", cids=[], pending=[], phase="reconciled")
    assert INV in invariants(_gap(claim))


def test_without_subscription_records_the_invariant_is_skipped_not_passed() -> None:
    events = [e for e in clean_session() if e["k"] != "user_sub"]
    report = check_report(sorted(events, key=lambda e: e["t"]), venue_state(), CONFIG)
    assert report.skipped[INV].startswith("no user_sub record although the bot has 1 order(s) on the venue")
    assert INV in {v.invariant for v in report.failures()}
    assert violations(events, config=config(allowed_skips=frozenset({INV}))) == []


def test_the_venue_logs_each_user_subscription_start_and_end_with_why(tmp_path: Path) -> None:
    account = AccountId("bot")
    world = SimWorld(seed=1, duration_s=5, market=MarketConfig(symbols=(S,)), log_path=tmp_path / "log.jsonl")
    world.venue.open_account(account, {"BTC": ATOMS_PER_UNIT, "USDT": 1_000 * ATOMS_PER_UNIT})
    client = world.venue.connect(account)

    async def streams() -> None:
        first = client.subscribe_user()
        first.close()  # the client's connection closed
        second = client.subscribe_user()
        second.error = ConnectionResetError("reset by the venue")  # what a fault's reset does
        second.close()
        second.close()  # a second close logs nothing more
        client.subscribe_user()  # still live at the end: no end record

    world.run(streams())
    world.close()
    subs = [{k: e[k] for k in ("a", "n", "ph", "why") if k in e} for e in read_events(tmp_path / "log.jsonl")
            if e["k"] == "user_sub"]
    assert subs == [{"a": "bot", "n": 1, "ph": "start"}, {"a": "bot", "n": 1, "ph": "end", "why": "closed"},
                    {"a": "bot", "n": 2, "ph": "start"}, {"a": "bot", "n": 2, "ph": "end", "why": "reset"},
                    {"a": "bot", "n": 3, "ph": "start"}]
