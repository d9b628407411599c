"""The shared workload: one seeded stream of top-of-book updates and the one maker rule both sides apply.

Invariants (what makes the two sides comparable):

* the stream is a pure function of ``WorkloadConfig`` (one ``random.Random(seed)``): the same config gives
  the same updates in any process, in the same order;
* every update is a valid top of book on the instrument's grid: integer ticks and lots, ``0 < bid < ask``,
  sizes in ``[size_lots_min, size_lots_max]``; updates are ``interval_ms`` apart in simulated time;
* the maker rule is ``requote_due`` + ``maker_quotes``: on update number ``n`` (1-based) with
  ``n % requote_every == 0`` cancel both resting quotes and quote ``MAKER_QTY_LOTS`` at the update's best bid
  and best ask (joining the touch). A quote then fills when a later update moves through it: a resting bid
  when the ask falls to or below it, a resting ask when the bid rises to or above it. ``MAKER_QTY_LOTS`` is
  below ``size_lots_min``, so every such crossing fills the whole quote in one fill on either side.

The instrument is BTCUSDT-like: tick 0.01 USDT, lot 0.00001 BTC (NautilusTrader's test BTCUSDT has the same
tick and a finer size grid, so every size here is exact there too).

Errors: ``WorkloadConfig`` rejects non-positive counts and unknown fields (pydantic ``ValidationError``).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

SYMBOL = "BTCUSDT"
BASE_ASSET, QUOTE_ASSET = "BTC", "USDT"
TICK_SIZE = Decimal("0.01")  # USDT per tick
STEP_SIZE = Decimal("0.00001")  # BTC per lot
MAKER_QTY_LOTS = 1_000  # 0.01 BTC per quote, below every update's size


class WorkloadConfig(BaseModel):
    """What both sides run. Every default is the issue 8 workload."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    updates: int = Field(1_000_000, ge=1, le=100_000_000, description="top-of-book updates in the stream")
    requote_every: int = Field(10, ge=0, description="the maker requotes on every Nth update (0: never quotes)")
    seed: int = Field(7, description="seed of the update stream (the only random source)")
    interval_ms: int = Field(100, ge=1, description="simulated time between two updates")
    start_bid_ticks: int = Field(5_000_000, ge=1_000, description="first best bid (50,000.00 USDT)")
    size_lots_min: int = Field(10_000, gt=MAKER_QTY_LOTS, description="smallest size at the touch (0.1 BTC)")
    size_lots_max: int = Field(500_000, description="largest size at the touch (5 BTC)")
    store: Literal["memory", "sqlite"] = Field(
        "memory", description="our side's order-state store: memory (as `mmbot sim` runs) or sqlite (as live runs)")


class TopOfBook(NamedTuple):
    """One update: the best bid and ask after it (prices in ticks, sizes in lots)."""

    bid_ticks: int
    bid_lots: int
    ask_ticks: int
    ask_lots: int


# bid step per update (ticks) and the spread after it (ticks): a driftless random walk on the tick grid
_BID_STEPS = (-1, 0, 0, 1)
_SPREADS = (1, 1, 1, 2, 2, 3)


def top_of_book_updates(config: WorkloadConfig) -> Iterator[TopOfBook]:
    """The stream of ``config.updates`` updates, generated lazily (constant memory)."""
    rng = random.Random(config.seed)
    choice, randint = rng.choice, rng.randint
    lo, hi = config.size_lots_min, config.size_lots_max
    bid = config.start_bid_ticks
    floor = config.start_bid_ticks // 2  # reflecting floor: the walk never gets near zero
    for _ in range(config.updates):
        bid = max(floor, bid + choice(_BID_STEPS))
        yield TopOfBook(bid, randint(lo, hi), bid + choice(_SPREADS), randint(lo, hi))


def requote_due(n: int, requote_every: int) -> bool:
    """Whether the maker requotes on update number ``n`` (1-based)."""
    return requote_every > 0 and n % requote_every == 0


def maker_quotes(update: TopOfBook) -> tuple[int, int]:
    """(bid ticks, ask ticks) of the maker's two quotes after ``update``: it joins the touch."""
    return update.bid_ticks, update.ask_ticks


def expected_orders(config: WorkloadConfig) -> int:
    """Orders the maker submits over the stream: two per requote."""
    return 0 if config.requote_every == 0 else 2 * (config.updates // config.requote_every)
