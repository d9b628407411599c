"""CircuitBreaker: CLOSED -> OPEN -> HALF_OPEN -> CLOSED | OPEN, on an injected clock."""

from __future__ import annotations

import pytest

from bot.core.errors import BotError, ErrorCode
from bot.risk.circuit import CircuitBreaker, CircuitState
from bot.risk.config import CircuitBreakerConfig
from tests.fakes import FakeClock

CONFIG = CircuitBreakerConfig(window_s=30, min_requests=4, max_error_rate=0.5, cooldown_s=10, half_open_probes=1)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


def _open(clock: FakeClock, config: CircuitBreakerConfig = CONFIG) -> CircuitBreaker:
    breaker = CircuitBreaker(config, clock)
    for _ in range(config.min_requests):
        breaker.record(ok=False)
    assert breaker.state is CircuitState.OPEN
    return breaker


def test_new_breaker_is_closed_and_allows(clock: FakeClock) -> None:
    breaker = CircuitBreaker(CONFIG, clock)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.allow()


def test_stays_closed_below_min_requests_even_if_all_fail(clock: FakeClock) -> None:
    breaker = CircuitBreaker(CONFIG, clock)
    for _ in range(3):
        breaker.record(ok=False)
    assert breaker.state is CircuitState.CLOSED


def test_opens_exactly_at_the_max_error_rate(clock: FakeClock) -> None:
    breaker = CircuitBreaker(CONFIG, clock)
    for ok in (True, True, False):
        breaker.record(ok)
    assert breaker.state is CircuitState.CLOSED
    breaker.record(ok=False)  # 2 errors / 4 requests = 0.5 >= 0.5
    assert breaker.state is CircuitState.OPEN


def test_stays_closed_just_below_the_max_error_rate(clock: FakeClock) -> None:
    breaker = CircuitBreaker(CONFIG, clock)
    for ok in (True, True, True, False, True, False, True):
        breaker.record(ok)  # 2 / 7 < 0.5
    assert breaker.state is CircuitState.CLOSED


def test_outcomes_older_than_the_window_are_forgotten(clock: FakeClock) -> None:
    breaker = CircuitBreaker(CONFIG, clock)
    for _ in range(3):
        breaker.record(ok=False)
    clock.t += 30.0
    breaker.record(ok=False)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.error_rate == 1.0


def test_open_refuses_until_the_cooldown_ends(clock: FakeClock) -> None:
    breaker = _open(clock)
    clock.t += 9.999
    assert not breaker.allow()
    assert breaker.retry_after_s == pytest.approx(0.001)


def test_open_becomes_half_open_after_the_cooldown(clock: FakeClock) -> None:
    breaker = _open(clock)
    clock.t += 10.0
    assert breaker.state is CircuitState.HALF_OPEN


def test_half_open_lets_only_the_configured_probes_through(clock: FakeClock) -> None:
    breaker = _open(clock, CONFIG.model_copy(update={"half_open_probes": 2}))
    clock.t += 10.0
    assert [breaker.allow() for _ in range(3)] == [True, True, False]


def test_probe_success_closes(clock: FakeClock) -> None:
    breaker = _open(clock)
    clock.t += 10.0
    assert breaker.allow()
    breaker.record(ok=True)
    assert breaker.state is CircuitState.CLOSED
    assert breaker.error_rate == 0.0


def test_probe_failure_reopens_and_restarts_the_cooldown(clock: FakeClock) -> None:
    breaker = _open(clock)
    clock.t += 10.0
    assert breaker.allow()
    breaker.record(ok=False)
    assert breaker.state is CircuitState.OPEN
    assert breaker.retry_after_s == pytest.approx(10.0)


def test_every_probe_must_succeed_to_close(clock: FakeClock) -> None:
    breaker = _open(clock, CONFIG.model_copy(update={"half_open_probes": 2}))
    clock.t += 10.0
    assert breaker.allow() and breaker.allow()
    breaker.record(ok=True)
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.record(ok=True)
    assert breaker.state is CircuitState.CLOSED


def test_unanswered_probe_reopens_after_a_cooldown(clock: FakeClock) -> None:
    breaker = _open(clock)
    clock.t += 10.0
    assert breaker.allow()
    clock.t += 10.0
    assert breaker.state is CircuitState.OPEN


def test_late_outcome_while_open_is_ignored(clock: FakeClock) -> None:
    breaker = _open(clock)
    breaker.record(ok=True)
    assert breaker.state is CircuitState.OPEN


def test_outcome_in_half_open_without_a_probe_is_ignored(clock: FakeClock) -> None:
    breaker = _open(clock)
    clock.t += 10.0
    breaker.record(ok=True)
    assert breaker.state is CircuitState.HALF_OPEN


def test_trip_forces_open(clock: FakeClock) -> None:
    breaker = CircuitBreaker(CONFIG, clock)
    breaker.trip()
    assert not breaker.allow()


def test_trip_while_open_is_an_illegal_transition(clock: FakeClock) -> None:
    breaker = _open(clock)
    with pytest.raises(BotError) as info:
        breaker.trip()
    assert info.value.code is ErrorCode.STATE_INVALID


def test_reset_while_closed_is_an_illegal_transition(clock: FakeClock) -> None:
    breaker = CircuitBreaker(CONFIG, clock)
    with pytest.raises(BotError, match="illegal transition"):
        breaker.reset()


def test_reset_closes_an_open_breaker(clock: FakeClock) -> None:
    breaker = _open(clock)
    breaker.reset()
    assert breaker.state is CircuitState.CLOSED
    assert breaker.allow()


def test_window_memory_is_bounded_by_max_events(clock: FakeClock) -> None:
    config = CONFIG.model_copy(update={"max_events": 8, "min_requests": 8})
    breaker = CircuitBreaker(config, clock)
    for _ in range(1000):
        breaker.record(ok=True)
    for ok in (False, False, False, True):
        breaker.record(ok)
    assert breaker.error_rate == pytest.approx(3 / 8)
    assert breaker.state is CircuitState.CLOSED
