"""Invariant 9: no 418, nothing sent inside a Retry-After, taker fills within the hourly cap."""

from __future__ import annotations

from tests.checker_support import bot, clean_session, invariants, trade


def _reject(t_us: int, http: int, ra_ms: int | None, rcv: int | None) -> dict[str, object]:
    return {"t": t_us, "k": "reject", "a": "bot", "op": "time", "code": -1003, "m": "", "http": http, "ra_ms": ra_ms,
            "rcv": rcv}


def test_a_418_is_a_violation() -> None:
    assert invariants([*clean_session(), _reject(1_500_000, 418, 30_000, 1_505_000)]) == {"9.rate_and_taker"}


def test_a_request_sent_inside_a_retry_after_is_a_violation() -> None:
    early = {"t": 1_700_000, "k": "request", "a": "bot", "op": "time", "sent": 1_690_000}
    assert invariants([*clean_session(), _reject(1_500_000, 429, 1_000, 1_505_000), early]) == {"9.rate_and_taker"}


def test_a_request_already_in_flight_when_the_429_arrived_is_fine() -> None:
    in_flight = {"t": 1_510_000, "k": "request", "a": "bot", "op": "time", "sent": 1_502_000}
    assert invariants([*clean_session(), _reject(1_500_000, 429, 1_000, 1_505_000), in_flight]) == set()



def _cold_restart(t: float, ph: str) -> dict[str, object]:
    return {"t": round(t * 1_000_000), "k": "fault", "id": 9, "f": "cold_restart", "tg": "bot", "ph": ph}


def test_an_instance_cold_started_without_the_state_file_was_never_told_the_retry_after() -> None:
    """Chaos seeds 152, 620, 819: the new instance's first request (a time sync) fell inside its predecessor's
    Retry-After; only the instance told (or a warm restart of it, which keeps the state) is bound."""
    told = _reject(1_500_000, 429, 1_000, 1_505_000)
    first_request = {"t": 1_700_000, "k": "request", "a": "bot", "op": "time", "sent": 1_690_000}
    cold = [_cold_restart(1.6, "start"), _cold_restart(1.6, "end")]
    assert invariants([*clean_session(), told, *cold, first_request]) == set()
    before_the_kill = {"t": 1_560_000, "k": "request", "a": "bot", "op": "time", "sent": 1_550_000}
    assert invariants([*clean_session(), told, *cold, before_the_kill]) == {"9.rate_and_taker"}

def test_taker_fills_beyond_the_cap_are_a_violation() -> None:
    events = [e for e in clean_session() if e["k"] != "bot.taker_cap"] + [bot(0.5, "taker_cap", per_hour=1)]
    takers = [trade(2.5 + i, 100 + i, q=0, ma="mm", ta="bot", mo=50 + i, to=60 + i) for i in range(2)]
    assert "9.rate_and_taker" in invariants(events + takers)
