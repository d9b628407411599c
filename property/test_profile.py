"""The CI Hypothesis profile is what CI's banner says: fixed-seed (derandomized), so every run draws the same
examples and a red run replays."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci", reason="checks the ci profile")
def test_ci_profile_is_derandomized() -> None:
    assert settings.get_profile("ci").derandomize is True
    assert settings.get_profile("deep").derandomize is False


def _draws() -> list[int]:
    seen: list[int] = []

    @settings(max_examples=20, database=None)
    @given(st.integers(min_value=0, max_value=10**12))
    def probe(n: int) -> None:
        seen.append(n)

    probe()
    return seen


@pytest.mark.skipif(os.environ.get("HYPOTHESIS_PROFILE", "ci") != "ci", reason="checks the ci profile")
def test_ci_profile_draws_the_same_examples_every_run() -> None:
    assert _draws() == _draws()
