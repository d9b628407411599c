"""The session report's "Replayed market" section: the recorded book over time, our quotes and fills on it, the
fills with their queue position at entry and wait, and the markouts of our fills.

Inputs are the run directory's own files: ``replay_fills.json`` (``exchange_sim.replay.fills.payload``, written
by ``mmbot sim --market replay:... --run-dir``: one object per fill with ``queue_ahead_lots``, ``wait_s`` and
``markout_bps`` at ``horizons_s``, plus the summary) and ``events.jsonl``. The section exists only for a replayed
run (``summary["replay"]`` present); a synthetic run's report has none.

The recorded book is rebuilt from the venue's ``book`` level records minus our own resting quantity at each level
(tracked from our ``order`` records: ``q - z`` while NEW or PARTIALLY_FILLED), so the curve is the recording as
replayed, without us. It is sampled on a grid of ``max(0.1 s, duration / max_points)``, each sample taken after
every record of earlier times (never between two records of one instant). Mid ``(bid + ask) / 2`` and spread
``ask - bid`` in price units, from the symbol's *recorded* filters (``RECORDED_SYMBOLS``: tick 0.01 for both
bundled recordings). The markouts shown are ``replay_fills.json``'s own numbers; their distribution is a
histogram per horizon, their mean both plain and quantity-weighted (the latter is the payload's summary value).

Errors: ``ValueError`` for a replayed symbol whose filters are unknown (prices cannot be scaled).
"""

from __future__ import annotations

import heapq
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from exchange_sim.engine.types import SymbolSpec
from exchange_sim.market.symbols import DEFAULT_SYMBOLS
from exchange_sim.replay.source import RECORDED_SYMBOLS

__all__ = ["NO_REACTION", "RecordedSeries", "markout_stats", "recorded_series", "replay_figures", "symbol_spec"]

NO_REACTION = ("The recording does not react to our orders: a level we took returns at the next recorded diff, a "
               "trade our order absorbed still prints in full, and nobody requotes because of our quotes. Fills "
               "here are therefore optimistic for sizes that would move a real market.")
_OPEN = frozenset({"NEW", "PARTIALLY_FILLED"})


def symbol_spec(symbol: str) -> SymbolSpec:
    """The recorded symbol's filters (Binance's), else the simulator's catalogue entry."""
    spec = RECORDED_SYMBOLS.get(symbol)
    if spec is None and symbol in DEFAULT_SYMBOLS:
        spec = DEFAULT_SYMBOLS[symbol].spec
    if spec is None:
        raise ValueError(f"symbol {symbol!r}: no filters known, cannot scale its prices")
    return spec


@dataclass(slots=True)
class RecordedSeries:
    """One symbol: recorded best bid/ask (price units) sampled over time, and our quotes at placement."""

    symbol: str
    t_s: list[float] = field(default_factory=list)
    bid: list[float] = field(default_factory=list)
    ask: list[float] = field(default_factory=list)
    quotes: dict[str, tuple[list[float], list[float]]] = field(
        default_factory=lambda: {"BUY": ([], []), "SELL": ([], [])})


class _Side:
    """Level totals of one book side with a lazy-deletion heap; ``best(ours)`` skips levels that are only ours."""

    __slots__ = ("heap", "levels", "sign")

    def __init__(self, sign: int) -> None:
        self.levels: dict[int, int] = {}
        self.heap: list[int] = []
        self.sign = sign  # -1 for bids (max-heap by negation), +1 for asks

    def set(self, price: int, qty: int) -> None:
        if qty > 0:
            if price not in self.levels:
                heapq.heappush(self.heap, self.sign * price)
            self.levels[price] = qty
        else:
            self.levels.pop(price, None)

    def best(self, ours: Mapping[int, int]) -> int | None:
        while self.heap and self.sign * self.heap[0] not in self.levels:
            heapq.heappop(self.heap)
        for key in heapq.nsmallest(len(ours) + 1, self.heap):  # our orders cover at most len(ours) levels
            price = self.sign * key
            if price in self.levels and self.levels[price] - ours.get(price, 0) > 0:
                return price
        return None


class _Book:
    def __init__(self) -> None:
        self.sides = {"BUY": _Side(-1), "SELL": _Side(1)}
        self.ours: dict[str, dict[int, int]] = {"BUY": {}, "SELL": {}}


def _track_order(book: _Book, resting: dict[int, tuple[str, int, int]], rec: Mapping[str, Any]) -> None:
    """Our resting quantity per level from our ``order`` records (``q - z`` while open)."""
    old = resting.pop(rec["id"], None)
    if old is not None:
        side, price, qty = old
        left = book.ours[side].get(price, 0) - qty
        if left > 0:
            book.ours[side][price] = left
        else:
            book.ours[side].pop(price, None)
    if rec.get("X") in _OPEN and rec.get("p") is not None:
        qty = rec["q"] - rec["z"]
        if qty > 0:
            resting[rec["id"]] = (rec["S"], rec["p"], qty)
            book.ours[rec["S"]][rec["p"]] = book.ours[rec["S"]].get(rec["p"], 0) + qty


def recorded_series(events: Iterable[Mapping[str, Any]], *, account: str, symbols: Sequence[str],
                    duration_s: float, max_points: int = 3000) -> dict[str, RecordedSeries]:
    """One pass over the event log: per symbol, the recorded touch on the grid and our placed quotes."""
    grid_s = max(0.1, duration_s / max_points)
    ticks = {s: float(symbol_spec(s).tick_size) for s in symbols}
    books = {s: _Book() for s in symbols}
    out = {s: RecordedSeries(s) for s in symbols}
    resting: dict[str, dict[int, tuple[str, int, int]]] = {s: {} for s in symbols}
    next_s = last_s = 0.0

    def sample(t_s: float) -> None:
        for symbol, book in books.items():
            bid, ask = book.sides["BUY"].best(book.ours["BUY"]), book.sides["SELL"].best(book.ours["SELL"])
            if bid is not None and ask is not None:
                series = out[symbol]
                series.t_s.append(t_s)
                series.bid.append(bid * ticks[symbol])
                series.ask.append(ask * ticks[symbol])

    for rec in events:
        t_s = rec["t"] / 1e6
        if t_s > next_s:  # every record up to next_s is in: the book is consistent there
            sample(next_s)
            next_s = max(next_s + grid_s, t_s)  # a quiet stretch is one step of the (hv) curve, not many samples
        last_s = t_s
        kind, symbol = rec["k"], rec.get("s")
        if symbol not in books:
            continue
        if kind == "book":
            books[symbol].sides[rec["S"]].set(rec["p"], rec["q"])
        elif kind == "order" and rec["a"] == account:
            _track_order(books[symbol], resting[symbol], rec)
            if rec["x"] == "NEW" and rec.get("p") is not None:
                xs, ys = out[symbol].quotes[rec["S"]]
                if len(xs) >= 4 * max_points:  # thin out: keep every other quote from now on
                    del xs[::2], ys[::2]
                xs.append(t_s)
                ys.append(rec["p"] * ticks[symbol])
    sample(last_s)
    return out


def markout_stats(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per horizon: fills with a markout, plain mean, median, share positive and the payload's qty-weighted mean."""
    rows = []
    fills = payload.get("fills") or []
    summary = payload.get("summary") or {}
    for j, h in enumerate(payload.get("horizons_s") or []):
        values = [f["markout_bps"][j] for f in fills if f["markout_bps"][j] is not None]
        rows.append({
            "horizon_s": h, "n": len(values), "weighted_key": f"markout_{h:g}s_bps",
            "weighted": summary.get(f"markout_{h:g}s_bps"),
            "mean": statistics.fmean(values) if values else None,
            "median": statistics.median(values) if values else None,
            "positive": sum(v > 0 for v in values) / len(values) if values else None,
        })
    return rows


def _book_figure(series: RecordedSeries, fills: Sequence[Mapping[str, Any]], tick: float, lot: float) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, row_heights=[0.75, 0.25],
                        subplot_titles=("recorded best bid / ask and mid, our quotes and fills", "recorded spread"))
    mid = [(b + a) / 2 for b, a in zip(series.bid, series.ask, strict=True)]
    for name, ys, style in (("recorded bid", series.bid, {"width": 1, "color": "#2e8b57", "shape": "hv"}),
                            ("recorded ask", series.ask, {"width": 1, "color": "#c0392b", "shape": "hv"}),
                            ("recorded mid", mid, {"width": 1, "color": "#444", "dash": "dot", "shape": "hv"})):
        fig.add_trace(go.Scatter(x=series.t_s, y=ys, name=name, mode="lines", line=style), row=1, col=1)
    for side, colour in (("BUY", "#2e8b57"), ("SELL", "#c0392b")):
        xs, ys = series.quotes[side]
        fig.add_trace(go.Scatter(x=xs, y=ys, name=f"our {'bid' if side == 'BUY' else 'ask'} quotes", mode="markers",
                                 marker={"size": 3, "color": colour, "opacity": 0.45}), row=1, col=1)
    for maker, shape in ((True, "triangle-up"), (False, "x")):
        chosen = [f for f in fills if f["symbol"] == series.symbol and f["maker"] is maker]
        if chosen:
            fig.add_trace(go.Scatter(
                x=[f["t_s"] for f in chosen], y=[f["price_ticks"] * tick for f in chosen], mode="markers",
                name=f"our {'maker' if maker else 'taker'} fills",
                marker={"size": 9, "symbol": shape, "line": {"width": 1},
                        "color": ["#2e8b57" if f["side"] == "BUY" else "#c0392b" for f in chosen]},
                text=[f"{f['side']} {f['qty_lots'] * lot:g} @ {f['price_ticks'] * tick:.2f}, "
                      f"{f['queue_ahead_lots'] if f['queue_ahead_lots'] is not None else '-'} lots ahead"
                      for f in chosen], hoverinfo="text+x"), row=1, col=1)
    spread = [a - b for b, a in zip(series.bid, series.ask, strict=True)]
    fig.add_trace(go.Scatter(x=series.t_s, y=spread, name="recorded spread", mode="lines",
                             line={"width": 1, "shape": "hv"}), row=2, col=1)
    fig.update_layout(title=f"{series.symbol}: the recorded market and our orders on it", height=560,
                      margin={"t": 50, "b": 40, "l": 70, "r": 20}, hovermode="closest")
    fig.update_xaxes(title_text="simulated seconds", row=2, col=1)
    fig.update_yaxes(title_text="price", row=1, col=1)
    fig.update_yaxes(title_text="price units", row=2, col=1)
    return fig


def _markout_figure(payload: Mapping[str, Any]) -> go.Figure:
    fig = go.Figure()
    fills = payload.get("fills") or []
    every = [m for f in fills for m in f["markout_bps"] if m is not None]
    low, high = (min(every), max(every)) if every else (0.0, 1.0)
    bins = {"start": low, "end": high + 1e-9, "size": max((high - low) / 40, 1e-6)}  # one grid for every horizon
    for j, h in enumerate(payload.get("horizons_s") or []):
        values = [f["markout_bps"][j] for f in fills if f["markout_bps"][j] is not None]
        fig.add_trace(go.Histogram(x=values, name=f"{h:g} s (n={len(values)})", opacity=0.55, xbins=bins,
                                   autobinx=False))
    fig.add_vline(x=0, line={"color": "#333", "width": 1})
    fig.update_layout(title="markouts of our fills against the recorded mid (bps; > 0: the fill earned)",
                      barmode="overlay", xaxis_title="markout (bps)", yaxis_title="fills", height=360,
                      margin={"t": 50, "b": 40, "l": 60, "r": 20})
    return fig


def replay_figures(series: Mapping[str, RecordedSeries], payload: Mapping[str, Any]) -> list[tuple[str, go.Figure]]:
    """``(div id, figure)``: one recorded-book chart per symbol, then the markout histogram."""
    fills = payload.get("fills") or []
    out = []
    for symbol, s in series.items():
        spec = symbol_spec(symbol)
        out.append((f"chart-replay-{symbol}", _book_figure(s, fills, float(spec.tick_size), float(spec.step_size))))
    out.append(("chart-replay-markouts", _markout_figure(payload)))
    return out
