"""Queue models: how much of a recorded cancel at our price level came from ahead of our order.

A recorded level shrinks by ``cancel`` lots that no recorded trade explains (trades already took their share,
ahead of us first, in the engine). The market quantity ahead of our order is ``front``, behind it ``back``
(``front + back >= cancel``). A model returns ``ahead``, the part removed from ahead of us; the rest,
``cancel - ahead``, is removed from behind us. Models (the families of hftbacktest's queue models, whose names
and formulas these follow; quantities in base units, as there):

* ``risk_averse`` (hftbacktest ``RiskAdverseQueueModel``): only trades advance us; a cancel comes from behind
  us, and from ahead only what behind cannot cover: ``ahead = max(0, cancel - back)``.
* ``power`` (``ProbQueueModel`` with ``PowerProbQueueFunc(n)``): with ``f(x) = x**n`` the share of a cancel
  that comes from behind us is ``p = f(back) / (f(back) + f(front))`` (the further back we are, the likelier a
  cancel is ahead of us); ``behind = min(back, max(round(p * cancel), cancel - front))``,
  ``ahead = cancel - behind``.
* ``log`` (``LogProbQueueFunc``): the same with ``f(x) = log(1 + x)``.

With ``front = back = 0`` the share is 1 (hftbacktest's rule for an undefined ratio). Every model returns
``max(0, cancel - back) <= ahead <= min(front, cancel)``; it is a pure function (no randomness), so the replay
stays deterministic.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class QueueModelConfig(BaseModel):
    """Which queue model places recorded cancels ahead of or behind our orders (default: risk-averse)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["risk_averse", "power", "log"] = Field(
        "risk_averse", description="risk_averse: only trades advance us; power / log: a probabilistic share")
    power: float = Field(2.0, gt=0, description="the exponent n of the power model's f(x) = x**n")


class QueueModel:
    """``ahead(front, back, cancel)`` in lots for one configured model; ``lot_base`` converts lots to base units."""

    __slots__ = ("config", "lot_base")

    def __init__(self, config: QueueModelConfig, lot_base: float) -> None:
        self.config = config
        self.lot_base = lot_base

    def _f(self, lots: int) -> float:
        x = lots * self.lot_base
        return x**self.config.power if self.config.kind == "power" else math.log1p(x)

    def behind_share(self, front: int, back: int) -> float:
        """``p``, the share of a cancel that comes from behind us (1 for the risk-averse model)."""
        if self.config.kind == "risk_averse":
            return 1.0
        fb, ff = self._f(back), self._f(front)
        total = fb + ff
        return fb / total if total > 0 else 1.0

    def ahead(self, front: int, back: int, cancel: int) -> int:
        """Lots of ``cancel`` removed from ahead of our order (see the module docstring)."""
        if cancel <= 0:
            return 0
        if front + back < cancel:
            raise ValueError(f"a cancel of {cancel} lots from a level of {front} + {back}")
        if self.config.kind == "risk_averse":
            return max(0, cancel - back)
        behind = min(back, max(round(self.behind_share(front, back) * cancel), cancel - front))
        return cancel - behind
