"""Properties of the replayed market: the book is never crossed, and our fills are bounded by the recording.

Random tapes (diffs setting levels around the touch, trades on either side, crossing or not) replay against one
resting bid of ours. After every event the engine's book is not crossed and its audit holds; at the end our
filled quantity is at most the recorded traded quantity at or through our price plus the recorded ask quantity
listed at or through it (what crossed us).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange_sim.engine.types import Side
from tests.unit.test_replay_market import ASK, BID, Tape

pytestmark = pytest.mark.property

PRICES = st.integers(min_value=BID - 3, max_value=ASK + 3)
LOTS = st.integers(min_value=1, max_value=60)
DEPTH = st.tuples(st.just("depth"), st.booleans(), PRICES, st.integers(min_value=0, max_value=60))
TRADE = st.tuples(st.just("trade"), st.booleans(), PRICES, LOTS)


@given(
    bids=st.dictionaries(st.integers(BID - 3, BID), LOTS, min_size=1, max_size=4),
    asks=st.dictionaries(st.integers(ASK, ASK + 3), LOTS, min_size=1, max_size=4),
    our_price=st.integers(BID - 2, BID),
    our_lots=st.integers(min_value=9, max_value=60),  # 9 lots: the 5 USDT min notional at 60,000
    events=st.lists(st.one_of(DEPTH, TRADE), max_size=25),
    queue=st.sampled_from(["risk_averse", "power", "log"]),
)
def test_the_replayed_book_is_never_crossed_and_our_fills_are_bounded(
    bids: dict[int, int], asks: dict[int, int], our_price: int, our_lots: int,
    events: list[tuple[str, bool, int, int]], queue: str,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tape = Tape(Path(tmp) / "tape.txt", bids=sorted(bids.items(), reverse=True), asks=sorted(asks.items()))
        bound = 0
        for i, (kind, flag, price, lots) in enumerate(events, start=1):
            if kind == "depth":
                tape.depth(i * 0.1, bids=[(price, lots)] if flag else [], asks=[] if flag else [(price, lots)])
                if not flag and price <= our_price:
                    bound += lots
            else:
                tape.trade(i * 0.1, price, lots, buyer_is_maker=flag)
                if price <= our_price:
                    bound += lots
        world = tape.world(queue)
        try:
            ours = world.place(Side.BUY, our_price, our_lots)
            taken_at_entry = world.order(ours).executed_qty_lots  # our bid crossed the initial asks: a taker fill
            for i in range(1, len(events) + 1):
                world.run(i * 0.1 + 0.01)  # checks: not crossed, engine audit
            filled = world.order(ours).executed_qty_lots - taken_at_entry
        finally:
            world.close()
        assert filled <= bound
