"""``python -m bench load``: the load is bounded (workers stop by themselves; the parent always returns with every
worker stopped) and a command run under it decides the exit code."""

from __future__ import annotations

import sys

import pytest

from bench.load import MAX_SECONDS, run_load, spin


class Ticks:
    """A fake clock: each read moves it by one second."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def test_a_worker_stops_at_its_deadline() -> None:
    assert spin(5.0, Ticks()) == 4  # reads at 2, 3, 4, 5 are before the deadline 6; the read at 6 stops it


def test_a_load_without_a_command_returns_with_every_worker_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bench.load.GRACE_S", 120.0)  # a slow start on a loaded machine is not a straggler
    result = run_load(2, 0.2)
    assert result.workers == 2 and result.command_rc is None
    assert result.terminated == 0  # they stopped by themselves, before the grace period ran out


def test_a_command_under_load_gives_its_exit_code_and_stops_the_load() -> None:
    result = run_load(1, MAX_SECONDS * 10, [sys.executable, "-c", "raise SystemExit(3)"])
    assert result.command_rc == 3
    assert result.seconds == MAX_SECONDS  # capped
    assert result.terminated == 1  # the load outlived the command and was stopped with it


def test_a_missing_command_is_exit_code_127() -> None:
    assert run_load(1, 5.0, ["/nonexistent/command"]).command_rc == 127


@pytest.mark.parametrize(("workers", "seconds"), [(0, 1.0), (1, 0.0)])
def test_nonsense_arguments_are_refused(workers: int, seconds: float) -> None:
    with pytest.raises(ValueError, match="workers"):
        run_load(workers, seconds)
