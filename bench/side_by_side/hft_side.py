"""hftbacktest's side: the same stream and maker rule through its numba backtester (the ``bench-hftbacktest`` extra).

What runs: one ``HashMapMarketDepthBacktest`` asset (tick 0.01, lot 0.00001, linear, no fees), the
``no_partial_fill_exchange`` (a resting order fills whole when the opposite best price reaches it: a bid when
the best ask falls to or below it, an ask when the best bid rises to or above it, which is the workload's fill
rule; ``MAKER_QTY_LOTS`` is below every touch size so no fill is ever partial), ``risk_adverse_queue_model``
(a quote at the touch never fills from its queue position, only when the book moves through it; the stream has
no trade events anyway), ``constant_order_latency(0, 0)`` (no latency, as on the other sides) and
``last_trades_capacity(0)``.

The stream as L2 depth events, every one flagged ``EXCH_EVENT | LOCAL_EVENT`` (no feed latency), all of update
``n`` at ``EPOCH_NS + n * interval``: an update that moves the book first clears the level that leaves (qty 0) and
sets the new one, on the side that moves away first, so the book is never crossed (4 events); an update that does
not move restates the bid and the ask (2 events). One more restatement of the last book, one interval after it,
keeps the data from ending before the maker's reaction to the last update. The maker is an ``@njit`` loop that
wakes at ``n * interval + REACTION_NS`` (after update ``n``'s events and their fills, as ours acts 1 ms after an
update), books fills from its orders' status (``FILLED``) and, on ``requote_due(n)``, cancels its open quotes and
submits post-only (``GTX``) limits at the touch under the inventory cap (``workload.quote_sides``).

Numba compiles the loop on its first call: that call runs on the first 100 updates before the timed run and is
counted in ``setup_s``, not in the timed replay. Errors: a submit or cancel that hftbacktest refuses raises
``RuntimeError``; an import error means the extra is not installed.
"""

from __future__ import annotations

import time
from importlib.metadata import version
from typing import Any

import numpy as np
from hftbacktest import (  # type: ignore[import-untyped,import-not-found,unused-ignore]
    BUY_EVENT,
    CANCELED,
    DEPTH_EVENT,
    EXCH_EVENT,
    FILLED,
    GTX,
    LIMIT,
    LOCAL_EVENT,
    NEW,
    SELL_EVENT,
    BacktestAsset,
    HashMapMarketDepthBacktest,
)
from hftbacktest.binding import event_dtype  # type: ignore[import-untyped,import-not-found,unused-ignore]
from numba import njit  # type: ignore[import-untyped,import-not-found,unused-ignore]

from bench.side_by_side.result import SideResult
from bench.side_by_side.workload import MAKER_QTY_LOTS, STEP_SIZE, TICK_SIZE, WorkloadConfig, top_of_book_updates
from harness.memory import peak_rss_mb, rss_mb

EPOCH_NS = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z, as on Nautilus's side
REACTION_NS = 1_000_000  # the maker acts 1 ms after an update, as ours does
WARMUP_UPDATES = 100
BID_FLAGS = DEPTH_EVENT | EXCH_EVENT | LOCAL_EVENT | BUY_EVENT
ASK_FLAGS = DEPTH_EVENT | EXCH_EVENT | LOCAL_EVENT | SELL_EVENT


def depth_events(bids: np.ndarray[Any, Any], lots: int, interval_ns: int) -> np.ndarray[Any, Any]:
    """The stream (best bids in ticks; the ask one tick above, both sides ``lots`` deep) as L2 depth events."""
    tick, lot = float(TICK_SIZE), float(STEP_SIZE)
    prev = np.concatenate(([bids[0]], bids[:-1]))
    up, down = bids > prev, bids < prev
    moved = up | down
    moved = np.append(moved, False)
    bids = np.append(bids, bids[-1])
    width = np.where(moved, 4, 2)
    start = np.cumsum(width) - width
    events = np.zeros(int(width.sum()), dtype=event_dtype)
    ts = EPOCH_NS + (np.arange(len(bids), dtype=np.int64) + 1) * interval_ns
    size = lots * lot

    def put(index: np.ndarray[Any, Any], rows: np.ndarray[Any, Any], flags: int, ticks: np.ndarray[Any, Any],
            qty: float) -> None:
        events["ev"][index] = flags
        events["exch_ts"][index] = ts[rows]
        events["local_ts"][index] = ts[rows]
        events["px"][index] = ticks * tick
        events["qty"][index] = qty

    still = np.flatnonzero(~moved)
    put(start[still], still, BID_FLAGS, bids[still], size)
    put(start[still] + 1, still, ASK_FLAGS, bids[still] + 1, size)
    dn = np.flatnonzero(down)  # the bid leaves first, then the ask comes down onto the old bid
    put(start[dn], dn, BID_FLAGS, prev[dn], 0.0)
    put(start[dn] + 1, dn, BID_FLAGS, bids[dn], size)
    put(start[dn] + 2, dn, ASK_FLAGS, prev[dn] + 1, 0.0)
    put(start[dn] + 3, dn, ASK_FLAGS, bids[dn] + 1, size)
    upi = np.flatnonzero(up)  # the ask leaves first, then the bid comes up onto the old ask
    put(start[upi], upi, ASK_FLAGS, prev[upi] + 1, 0.0)
    put(start[upi] + 1, upi, ASK_FLAGS, bids[upi] + 1, size)
    put(start[upi] + 2, upi, BID_FLAGS, prev[upi], 0.0)
    put(start[upi] + 3, upi, BID_FLAGS, bids[upi], size)
    return events


@njit  # type: ignore[misc,unused-ignore]
def _maker(hbt: Any, updates: int, every: int, cap: int, qty: float, interval_ns: int, reaction_ns: int,
           epoch_ns: int, out: Any) -> None:
    """The maker rule over ``updates`` updates; ``out`` gets updates seen, orders, cancels, fills, open, position."""
    tick = hbt.depth(0).tick_size
    bid_id = ask_id = 0
    next_id = 1
    orders = cancels = fills = position = seen = 0
    for n in range(1, updates + 1):
        target = epoch_ns + n * interval_ns + reaction_ns
        if hbt.elapse(target - hbt.current_timestamp) != 0:
            break
        seen = n
        book = hbt.orders(0)
        if bid_id != 0:
            order = book.get(bid_id)
            if order is not None and order.status == FILLED:
                fills, position, bid_id = fills + 1, position + 1, 0
        if ask_id != 0:
            order = book.get(ask_id)
            if order is not None and order.status == FILLED:
                fills, position, ask_id = fills + 1, position - 1, 0
        if every == 0 or n % every != 0:
            continue
        hbt.clear_inactive_orders(0)
        for oid in (bid_id, ask_id):
            if oid != 0:
                if hbt.cancel(0, oid, False) != 0:
                    out[6] = 1
                cancels += 1
        bid_id = ask_id = 0
        depth = hbt.depth(0)
        if cap == 0 or position < cap:
            bid_id, next_id = next_id, next_id + 1
            if hbt.submit_buy_order(0, bid_id, depth.best_bid_tick * tick, qty, GTX, LIMIT, False) != 0:
                out[6] = 1
            orders += 1
        if cap == 0 or position > -cap:
            ask_id, next_id = next_id, next_id + 1
            if hbt.submit_sell_order(0, ask_id, depth.best_ask_tick * tick, qty, GTX, LIMIT, False) != 0:
                out[6] = 1
            orders += 1
    hbt.elapse(reaction_ns)  # the last quotes' acknowledgements
    book = hbt.orders(0)
    still_open = 0
    for oid in (bid_id, ask_id):
        if oid != 0:
            order = book.get(oid)
            if order is not None and order.status == NEW:
                still_open += 1
            elif order is not None and order.status == CANCELED:
                out[6] = 1
    out[0], out[1], out[2], out[3], out[4], out[5] = seen, orders, cancels, fills, still_open, position


def _backtest(events: np.ndarray[Any, Any]) -> Any:
    asset = (BacktestAsset().data([events]).linear_asset(1.0).constant_order_latency(0, 0)
             .risk_adverse_queue_model().no_partial_fill_exchange().trading_value_fee_model(0.0, 0.0)
             .tick_size(float(TICK_SIZE)).lot_size(float(STEP_SIZE)).last_trades_capacity(0))
    return HashMapMarketDepthBacktest([asset])


def _run(events: np.ndarray[Any, Any], config: WorkloadConfig, updates: int) -> np.ndarray[Any, Any]:
    out = np.zeros(7, dtype=np.int64)
    hbt = _backtest(events)
    _maker(hbt, updates, config.requote_every, config.inventory_cap_quotes, float(STEP_SIZE * MAKER_QTY_LOTS),
           config.interval_ms * 1_000_000, REACTION_NS, EPOCH_NS, out)
    hbt.close()
    if out[6]:
        raise RuntimeError("hftbacktest refused a maker order or cancelled one on its own, the comparison is void")
    return out


def run_hftbacktest(config: WorkloadConfig) -> SideResult:
    """Run the workload on hftbacktest in this process (the standard stream: one tick spread, constant size)."""
    setup_started = time.perf_counter()
    stream = list(top_of_book_updates(config))
    if any(u.ask_ticks != u.bid_ticks + 1 or u.bid_lots != u.ask_lots for u in stream[:1000]):
        raise ValueError("the hftbacktest side runs the standard workload only (one-tick spread, constant size)")
    bids = np.fromiter((u.bid_ticks for u in stream), dtype=np.int64, count=len(stream))
    lots = stream[0].bid_lots
    del stream
    interval_ns = config.interval_ms * 1_000_000
    warm = min(WARMUP_UPDATES, len(bids))
    _run(depth_events(bids[:warm], lots, interval_ns), config, warm)  # numba compiles here
    events = depth_events(bids, lots, interval_ns)
    setup_s = time.perf_counter() - setup_started
    rss_before = rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    out = _run(events, config, len(bids))
    wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    seen, orders, cancels, fills, still_open, position = (int(v) for v in out[:6])
    return SideResult(
        side="hftbacktest", engine=f"hftbacktest {version('hftbacktest')} (numba {version('numba')})",
        updates=seen, wall_s=wall_s, cpu_s=cpu_s, setup_s=setup_s, orders=orders, cancels=cancels, fills=fills,
        open_at_end=still_open, rss_before_run_mb=rss_before, peak_rss_mb=peak_rss_mb(),
        checks={"position_quotes": position, "depth_events": len(events), "exchange": "no_partial_fill",
                "queue_model": "risk_adverse", "latency_ns": 0},
    )
