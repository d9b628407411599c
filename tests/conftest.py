"""Fixtures shared by the test suite (helpers without fixtures live in ``tests/*_support.py``)."""

from __future__ import annotations

import pytest

from exchange_sim.engine.matching import MatchingEngine
from tests.engine_support import make_engine


@pytest.fixture
def engine() -> MatchingEngine:
    """A fresh matching engine: BTCUSDT (``tests.engine_support.SPEC``), accounts ``A`` and ``B`` funded with
    ``START``, the clock at 1,000 us, no listener."""
    return make_engine()
