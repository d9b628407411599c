"""Queue models place a recorded cancel ahead of or behind our order by their documented formulas."""

from __future__ import annotations

import math

import pytest

from exchange_sim.replay.queue import QueueModel, QueueModelConfig


def model(kind: str, power: float = 2.0, lot_base: float = 1.0) -> QueueModel:
    return QueueModel(QueueModelConfig.model_validate({"kind": kind, "power": power}), lot_base)


def test_risk_averse_takes_cancels_from_behind_first() -> None:
    m = model("risk_averse")
    assert m.ahead(front=500, back=300, cancel=200) == 0
    assert m.ahead(front=500, back=300, cancel=300) == 0
    assert m.ahead(front=500, back=300, cancel=450) == 150  # behind cannot cover it: the rest was ahead


def test_power_model_share_behind_is_back_squared_over_the_sum_of_squares() -> None:
    m = model("power", power=2.0)
    assert m.behind_share(front=500, back=300) == pytest.approx(300**2 / (300**2 + 500**2))
    assert m.ahead(front=500, back=300, cancel=200) == 200 - round(200 * 90_000 / 340_000)  # 147


def test_power_model_at_the_front_sees_cancels_behind_and_at_the_back_ahead() -> None:
    m = model("power", power=3.0)
    assert m.ahead(front=10, back=1_000, cancel=100) == 0
    assert m.ahead(front=1_000, back=10, cancel=100) == 100  # p = 10**3 / (10**3 + 10**9): all ahead


def test_log_model_uses_log1p_of_base_quantities() -> None:
    m = model("log", lot_base=0.00001)
    share = math.log1p(0.003) / (math.log1p(0.003) + math.log1p(0.005))
    assert m.behind_share(front=500, back=300) == pytest.approx(share)
    assert m.ahead(front=500, back=300, cancel=200) == 200 - round(share * 200)


def test_an_empty_queue_counts_as_all_behind() -> None:
    assert model("power").behind_share(0, 0) == 1.0
    assert model("log").ahead(front=0, back=5, cancel=5) == 0


@pytest.mark.parametrize("kind", ["risk_averse", "power", "log"])
def test_every_model_stays_within_what_is_ahead_and_behind(kind: str) -> None:
    m = model(kind)
    for front in range(0, 12, 3):
        for back in range(0, 12, 4):
            for cancel in range(0, front + back + 1):
                ahead = m.ahead(front, back, cancel)
                assert max(0, cancel - back) <= ahead <= min(front, cancel)


def test_a_cancel_larger_than_the_level_is_refused() -> None:
    with pytest.raises(ValueError, match="a cancel of 9 lots"):
        model("power").ahead(front=3, back=3, cancel=9)


def test_unknown_models_are_rejected() -> None:
    with pytest.raises(ValueError, match="kind"):
        QueueModelConfig.model_validate({"kind": "fifo"})
