"""Test doubles shared by the unit tests."""

from __future__ import annotations


class FakeClock:
    """A ``bot.interfaces.Clock`` whose time the test sets by assigning ``t`` (seconds)."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def monotonic_s(self) -> float:
        return self.t

    def now_ms(self) -> int:
        return round(self.t * 1000)
