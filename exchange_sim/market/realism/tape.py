"""Turn a recorded market (the replay format) into the ``Recording`` the realism checklist measures.

The recording is loaded with ``exchange_sim.replay.source.ReplaySource`` (Binance's local-book procedure), its
book is walked event by event and sampled exactly as ``record.py`` samples a synthetic run: mid and spread every
``step_s`` from the depth book, the depth profile by distance from the touch every ``depth_every_s``, every
trade as a taker fill with the mid before it. So ``measure.measure`` computes the same figures, by the same
code, on a synthetic run and on the recording beside it.

Binance's trade stream has no taker order id: consecutive trades with the same trade time ``T`` and the same
taker side are taken as the fills of one taker order (``Fill.first`` marks the first). Nothing in a recording
is informed or latent: ``Fill.informed`` is False and ``fair`` repeats the mid.

Errors: ``ValueError`` (a ``RecordingError`` names ``path:line``) for a file that cannot be replayed, or one
holding a symbol other than ``symbol`` when several are recorded.
"""

from __future__ import annotations

from pathlib import Path

from exchange_sim.engine.types import ATOMS_PER_UNIT
from exchange_sim.market.realism.record import DEPTH_LEVELS, NEAR_TICKS, Fill, Recording
from exchange_sim.replay.source import TRADE, ReplayConfig, ReplaySource


def load_tape(path: Path | str) -> ReplaySource:
    """The recording at ``path`` as a replay tape (``ValueError`` if missing or malformed)."""
    if not Path(path).is_file():
        raise ValueError(f"no such recording: {path}")
    return ReplaySource(ReplayConfig(paths=(str(path),)))


def _depth(rec: Recording, bids: dict[int, int], asks: dict[int, int], mid: float, t_s: float) -> None:
    best_bid, best_ask = max(bids), min(asks)
    near = 0
    for d in range(DEPTH_LEVELS):
        rec.bid_depth[d] += bids.get(best_bid - d, 0)
        rec.ask_depth[d] += asks.get(best_ask + d, 0)
    for price in range(int(mid) - NEAR_TICKS, int(mid) + NEAR_TICKS + 2):
        if abs(price - mid) <= NEAR_TICKS:
            near += bids.get(price, 0) + asks.get(price, 0)
    rec.depth_samples += 1
    rec.near_depth.append((t_s, near))


def tape_recording(source: ReplaySource, symbol: str | None = None, *, step_s: float = 1.0,
                   depth_every_s: float = 5.0) -> Recording:
    """The ``Recording`` of one symbol of ``source`` (the only one when ``symbol`` is None)."""
    name = symbol or source.symbols[0]
    if name not in source.symbols:
        raise ValueError(f"{name} is not in the recording (it holds {', '.join(source.symbols)})")
    spec = source.spec(name)
    bids, asks = (dict(side) for side in source.initial[name])
    duration_s = source.duration_s
    rec = Recording(regime=f"recording {name}", seed=0, step_s=step_s, duration_s=int(duration_s / step_s) * step_s)
    rec.tick_lot_quote = spec.quote_atoms_per_tick_lot / ATOMS_PER_UNIT
    mid = (max(bids) + min(asks)) / 2.0
    rec.tick_bps = 10_000.0 / mid
    depth_every = max(1, round(depth_every_s / step_s))
    next_sample, sample_i = step_s, 0
    last_key: tuple[int, int] | None = None
    events = [e for e in source.events if e.symbol == name]

    def sample_until(t_s: float) -> None:
        nonlocal next_sample, sample_i
        while next_sample <= t_s and next_sample <= rec.duration_s:
            rec.mids.append(mid)
            rec.fair.append(mid)
            if bids and asks:
                rec.spreads.append(min(asks) - max(bids))
                if sample_i % depth_every == 0:
                    _depth(rec, bids, asks, mid, next_sample)
            sample_i += 1
            next_sample += step_s

    for event in events:
        t_s = event.t_us / 1e6
        sample_until(t_s)
        if event.kind == TRADE:
            sign = -1 if event.buyer_is_maker else 1
            key = (event.t_us, sign)
            rec.fills.append(Fill(t_s, sign, event.price_ticks, event.qty_lots, mid, key != last_key, False, "tape"))
            last_key = key
            continue
        for is_bid, price, qty in event.changes:
            side = bids if is_bid else asks
            if qty:
                side[price] = qty
            else:
                side.pop(price, None)
        if bids and asks:
            mid = (max(bids) + min(asks)) / 2.0
    sample_until(rec.duration_s)
    rec.book_events = len(events)
    return rec
