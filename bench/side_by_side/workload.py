"""The shared workload: one seeded stream of top-of-book updates and the one maker rule every engine applies.

Two streams (``WorkloadConfig.workload``):

* ``standard`` (the default and the published one, issue 22 / DESIGN.md section 6): the best bid is
  ``start_bid_ticks + cumsum(numpy.random.default_rng(seed).integers(-1, 2, updates))`` (a random walk in whole
  ticks; update 1 already carries the first step), the ask is always one tick above it and both sizes are the
  constant ``size_lots_min``;
* ``legacy`` (issue 8's stream, kept selectable): one ``random.Random(seed)`` draws the bid step from
  (-1, 0, 0, 1), the spread from 1-3 ticks and both sizes from ``[size_lots_min, size_lots_max]``.

Invariants (what makes the sides comparable):

* a stream is a pure function of ``WorkloadConfig``: the same config gives the same updates in any process;
* every update is a valid top of book on the instrument's grid: integer ticks and lots, ``0 < bid < ask``,
  sizes in ``[size_lots_min, size_lots_max]``; updates are ``interval_ms`` apart in simulated time;
* the maker rule is ``requote_due`` + ``maker_quotes``: on update number ``n`` (1-based) with
  ``n % requote_every == 0`` cancel every resting quote, then quote ``MAKER_QTY_LOTS`` at the update's best bid
  unless the position is already ``>= inventory_cap_quotes`` quotes long, and at its best ask unless it is
  already that many quotes short (0: no cap). The position is the one after the fills of update ``n``.
  A quote fills when a later update moves through it: a resting bid when the ask falls to or below it, a
  resting ask when the bid rises to or above it. ``MAKER_QTY_LOTS`` is below ``size_lots_min``, so every such
  crossing fills the whole quote in one fill on either side.
* ``reference_run`` is that rule in plain Python (no engine): every engine must report its counts.

The instrument is BTCUSDT-like: tick 0.01 USDT, lot 0.00001 BTC (NautilusTrader's test BTCUSDT has the same
tick and a finer size grid, so every size here is exact there too).

Errors: ``WorkloadConfig`` rejects non-positive counts and unknown fields (pydantic ``ValidationError``).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

SYMBOL = "BTCUSDT"
BASE_ASSET, QUOTE_ASSET = "BTC", "USDT"
TICK_SIZE = Decimal("0.01")  # USDT per tick
STEP_SIZE = Decimal("0.00001")  # BTC per lot
MAKER_QTY_LOTS = 1_000  # 0.01 BTC per quote, below every update's size


class WorkloadConfig(BaseModel):
    """What every side runs. Every default is the standard workload (issue 22)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workload: Literal["standard", "legacy"] = Field("standard", description="which stream (module docstring)")
    updates: int = Field(1_000_000, ge=1, le=100_000_000, description="top-of-book updates in the stream")
    requote_every: int = Field(10, ge=0, description="the maker requotes on every Nth update (0: never quotes)")
    inventory_cap_quotes: int = Field(
        10, ge=0, description="no new bid at a position >= this many quotes long, no ask that many short (0: none)")
    seed: int = Field(42, description="seed of the update stream (the only random source)")
    interval_ms: int = Field(100, ge=1, description="simulated time between two updates")
    start_bid_ticks: int = Field(5_000_000, ge=1_000, description="first best bid (50,000.00 USDT)")
    size_lots_min: int = Field(10_000, gt=MAKER_QTY_LOTS, description="smallest size at the touch (0.1 BTC)")
    size_lots_max: int = Field(500_000, description="largest size at the touch (5 BTC)")
    store: Literal["memory", "sqlite"] = Field(
        "memory", description="our side's order-state store: memory (as `mmbot sim` runs) or sqlite (as live runs)")

    @model_validator(mode="after")
    def _sizes_ordered(self) -> WorkloadConfig:
        if self.size_lots_max < self.size_lots_min:
            raise ValueError("size_lots_max must be at least size_lots_min")
        return self


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
    """The stream of ``config.updates`` updates for ``config.workload``."""
    if config.workload == "legacy":
        return _legacy_updates(config)
    return _standard_updates(config)


def standard_bids(config: WorkloadConfig) -> list[int]:
    """The standard stream's best bids (ticks): the seeded numpy walk in whole ticks (needs numpy)."""
    import numpy as np  # noqa: PLC0415 - only the standard stream needs numpy

    steps = np.random.default_rng(config.seed).integers(-1, 2, config.updates)
    bids: list[int] = (config.start_bid_ticks + np.cumsum(steps)).tolist()
    return bids


def _standard_updates(config: WorkloadConfig) -> Iterator[TopOfBook]:
    lots = config.size_lots_min
    for bid in standard_bids(config):
        yield TopOfBook(bid, lots, bid + 1, lots)


def _legacy_updates(config: WorkloadConfig) -> Iterator[TopOfBook]:
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


def quote_sides(position_quotes: int, cap_quotes: int) -> tuple[bool, bool]:
    """(quote a bid, quote an ask) at a position of ``position_quotes`` (positive: long) under the cap."""
    if cap_quotes == 0:
        return True, True
    return position_quotes < cap_quotes, position_quotes > -cap_quotes


class Counts(NamedTuple):
    """What the maker did over a stream: the figures every engine must agree on."""

    orders: int
    cancels: int
    fills: int
    open_at_end: int
    position_quotes: int


def reference_run(config: WorkloadConfig, updates: Iterable[TopOfBook] | None = None) -> Counts:
    """The maker rule in plain Python, no engine: the counts any correct engine reports on the same stream."""
    stream = top_of_book_updates(config) if updates is None else updates
    bid: int | None = None
    ask: int | None = None
    orders = cancels = fills = position = 0
    for n, update in enumerate(stream, 1):
        if bid is not None and update.ask_ticks <= bid:
            fills, position, bid = fills + 1, position + 1, None
        if ask is not None and update.bid_ticks >= ask:
            fills, position, ask = fills + 1, position - 1, None
        if not requote_due(n, config.requote_every):
            continue
        cancels += (bid is not None) + (ask is not None)
        quote_bid, quote_ask = quote_sides(position, config.inventory_cap_quotes)
        bid, ask = maker_quotes(update)
        bid, ask = (bid if quote_bid else None), (ask if quote_ask else None)
        orders += quote_bid + quote_ask
    return Counts(orders, cancels, fills, (bid is not None) + (ask is not None), position)
