"""Sabotage: test-only switches that turn one of the bot's safety mechanisms off, to prove the gate catches it.

These switches prove that a failure replays (``chaos/test_gate.py``); whether the general swarm finds realistic
bugs is the mutation suite's question (``chaos.sabotage_mutations``, ``mmbot chaos sabotage``), which never patches
a live process. Each entry patches the bot for the duration of one session (``applied(name)``), in whatever
process runs it, so a sabotaged swarm's failing seed replays the same way in a fresh process
(``mmbot chaos replay ... --sabotage``).
Real gates never set one. Names and what they break:

* ``reconcile``: ``OrderManager.reconcile`` does nothing (no open-order listing, no fill backfill, no balances);
* ``query_before_retry``: an unknown outcome (timeout after sending, -1007) is booked as a failure (REJECTED)
  instead of being queried by client id;
* ``retry_after``: the connector's limiter reports a 429/418 but blocks nothing (its Retry-After gate stays open);
* ``sequence_gap``: the local book applies a diff after a gap instead of resyncing from a snapshot;
* ``hard_guard_cancel``: the HARD guard no longer cancels resting orders (nor re-checks for stragglers), and the
  quote loops stand still under it (so their own pull does not cancel for it either).

Errors: ``KeyError`` for an unknown name.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

from bot.app import AppContext
from bot.connectors.binance.limiter import WeightLimiter
from bot.core.errors import BotError
from bot.core.types import DepthUpdate
from bot.execution.order_manager import OrderManager, ReconcileReport
from bot.market.book import LocalBook
from bot.quoting.quoter import SymbolQuoter
from bot.risk.guards import GuardLevel


async def _no_reconcile(self: OrderManager, symbols: Any = None) -> ReconcileReport:
    return ReconcileReport(venue_open=0, adopted=0, resolved=0, fills_backfilled=0, still_doubtful=0)


def _no_retry_after(self: WeightLimiter, retry_after_s: float | None, *, banned: bool) -> float:
    """Retry-After ignored: the 429/418 is reported (its length as the venue said) but nothing is blocked."""
    return self.config.default_retry_after_s if retry_after_s is None else max(0.0, retry_after_s)


_ORIGINAL_APPLY = LocalBook.apply


def _apply_through_gaps(self: LocalBook, diff: DepthUpdate) -> bool:
    if self.is_synced and diff.first_update_id > self.last_update_id + 1:
        diff = dataclasses.replace(diff, first_update_id=self.last_update_id + 1)
    return _ORIGINAL_APPLY(self, diff)


async def _monitor_without_cancel(self: AppContext, interval_s: float = 0.5) -> None:
    while True:
        before = self.risk.guard_level
        if self.risk.update(self.risk_snapshot()).level is not before:
            self._record_guard()
        await asyncio.sleep(interval_s)


_ORIGINAL_CYCLE = SymbolQuoter.cycle


async def _cycle_frozen_under_hard(self: SymbolQuoter) -> None:
    if self._app.risk.guard_level is GuardLevel.HARD:  # type: ignore[attr-defined]
        return
    await _ORIGINAL_CYCLE(self)


@contextlib.contextmanager
def _no_hard_cancel() -> Iterator[None]:
    with mock.patch.object(AppContext, "monitor_risk", _monitor_without_cancel), \
            mock.patch.object(SymbolQuoter, "cycle", _cycle_frozen_under_hard):
        yield


def _patches() -> dict[str, Callable[[], contextlib.AbstractContextManager[Any]]]:
    return {
        "reconcile": lambda: mock.patch.object(OrderManager, "reconcile", _no_reconcile),
        "query_before_retry": lambda: mock.patch.object(BotError, "outcome_unknown", property(lambda self: False)),
        "retry_after": lambda: mock.patch.object(WeightLimiter, "block", _no_retry_after),
        "sequence_gap": lambda: mock.patch.object(LocalBook, "apply", _apply_through_gaps),
        "hard_guard_cancel": _no_hard_cancel,
    }


SABOTAGES = tuple(sorted(_patches()))


@contextlib.contextmanager
def applied(name: str | None) -> Iterator[None]:
    """Switch ``name`` off for the body (``None``: nothing changes)."""
    if name is None:
        yield
        return
    patches = _patches()
    if name not in patches:
        raise KeyError(f"unknown sabotage {name!r}; known: {', '.join(SABOTAGES)}")
    with patches[name]():
        yield
