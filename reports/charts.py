"""The session report's plotly figures, one function per chart, each from ``SessionSeries`` or the summary.

Every figure uses SVG traces (``go.Scatter``, not WebGL), so the report draws in any browser, headless ones
included; series are already bounded by ``reports.eventseries``. Interactivity (zoom, pan, hover) is plotly's.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from reports.eventseries import SessionSeries

__all__ = ["NO_GUARD_EVENTS", "guard_figure", "latency_figures", "pnl_figure", "quotes_figure", "spread_figure"]

_LEVELS = {"OK": 0, "SOFT": 1, "HARD": 2}
NO_GUARD_EVENTS = "no guard events: every guard stayed OK for the whole run"
_LAYOUT: dict[str, Any] = {"margin": {"t": 50, "b": 40, "l": 60, "r": 20}, "hovermode": "x unified"}


def _hours(ts: Sequence[float]) -> list[float]:
    return [t / 3600 for t in ts]


def pnl_figure(series: SessionSeries) -> go.Figure:
    """Net PnL (marked to the replayed mid) and inventory over time, per symbol, sharing the time axis."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("net PnL (quote, marked to mid)", "inventory (base)"))
    for symbol, s in series.symbols.items():
        fig.add_trace(go.Scatter(x=_hours(s.pnl_t), y=s.pnl, name=f"{symbol} PnL", mode="lines",
                                 line={"shape": "hv"}), row=1, col=1)
        fig.add_trace(go.Scatter(x=_hours(s.pnl_t), y=s.inventory, name=f"{symbol} inventory", mode="lines",
                                 line={"shape": "hv"}), row=2, col=1)
    fig.update_layout(title="PnL and inventory over time", height=520, **_LAYOUT)
    fig.update_xaxes(title_text="simulated hours", row=2, col=1)
    return fig


def quotes_figure(series: SessionSeries, symbol: str) -> go.Figure:
    """The bot's quotes (at placement) against the replayed mid, with its maker and taker fills."""
    s = series.symbols[symbol]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=_hours(s.mid_t), y=s.mid, name="mid", mode="lines", line={"width": 1, "color": "#444"}))
    for side, colour in (("BUY", "#2e8b57"), ("SELL", "#c0392b")):
        xs, ys = s.quotes[side]
        fig.add_trace(go.Scatter(x=_hours(xs), y=ys, name=f"{'bid' if side == 'BUY' else 'ask'} quotes",
                                 mode="markers", marker={"size": 3, "color": colour, "opacity": 0.5}))
    for maker, symbol_shape in ((True, "triangle-up"), (False, "x")):
        fills = [f for f in s.fills if f.maker is maker]
        if not fills:
            continue
        fig.add_trace(go.Scatter(
            x=[f.t_s / 3600 for f in fills], y=[f.price for f in fills], mode="markers",
            name=f"{'maker' if maker else 'taker'} fills",
            marker={"size": 8, "symbol": symbol_shape, "line": {"width": 1},
                    "color": ["#2e8b57" if f.side == "BUY" else "#c0392b" for f in fills]},
            text=[f"{f.side} {f.qty:g} @ {f.price:g}" for f in fills], hoverinfo="text+x",
        ))
    fig.update_layout(title=f"{symbol}: quotes against mid, and fills", xaxis_title="simulated hours",
                      yaxis_title="price", height=460, **_LAYOUT)
    return fig


def spread_figure(series: SessionSeries, metrics: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Market spread and the bot's quoted spread from its resting quotes (bps, ``reports.eventseries``), plus
    adaptive-spread scores when they were recorded."""
    samples = [*series.spread_scores, *metrics]
    has_scores = any("scores" in m or "vol" in m for m in samples)
    fig = make_subplots(rows=2 if has_scores else 1, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=("spread (bps of mid)", "adaptive-spread scores")[: 2 if has_scores else 1])
    for symbol, s in series.symbols.items():
        fig.add_trace(go.Scatter(x=_hours(s.mid_t), y=s.market_spread_bps, name=f"{symbol} market spread",
                                 mode="lines", line={"width": 1}), row=1, col=1)
        fig.add_trace(go.Scatter(x=_hours(s.quoted_spread_t), y=s.quoted_spread_bps, mode="lines",
                                 name=f"{symbol} quoted spread (resting)", line={"width": 1, "shape": "hv"}),
                      row=1, col=1)
    recorded = [m for m in samples if "spread_bps" in m]
    if recorded:
        fig.add_trace(go.Scatter(x=[m["t_s"] / 3600 for m in recorded], y=[m["spread_bps"] for m in recorded],
                                 name="adaptive spread (recorded)", mode="lines"), row=1, col=1)
    if has_scores:
        names = sorted({k for m in samples for k in (m.get("scores") or {})} |
                       {k for m in samples for k in ("vol", "liq", "lat", "pnl") if k in m})
        for name in names:
            pts = [(m["t_s"] / 3600, (m.get("scores") or m).get(name)) for m in samples]
            pts = [(x, y) for x, y in pts if y is not None]
            fig.add_trace(go.Scatter(x=[p[0] for p in pts], y=[p[1] for p in pts], name=f"{name} score",
                                     mode="lines"), row=2, col=1)
    fig.update_layout(title="spread" + (" and adaptive-spread scores" if has_scores else
                                        " (adaptive-spread scores not recorded in this run)"),
                      height=520 if has_scores else 360, **_LAYOUT)
    return fig


def latency_figures(latency: Mapping[str, Mapping[str, float]]) -> list[go.Figure]:
    """Per-component latency as horizontal bars of its p50, p95 and p99, stages in us and I/O in ms.

    The summary keeps log-bucket quantiles, not raw samples. Bars stop at p99 so that a few pause spikes (the
    max) do not flatten the rest: the max is a marker on a log axis, and hover shows every number exactly.
    Components are rows, so their names read horizontally whatever their number; every axis tick carries its full
    value (``log_ticks``).
    """
    figs = []
    for unit, title in (("_us", "pipeline stages: CPU per decision"), ("_ms", "venue I/O on the session clock")):
        names = sorted((n for n in latency if n.endswith(unit)), key=lambda n: latency[n]["p50"])
        if not names:
            continue
        labels = [n.removesuffix(unit) for n in names]
        fig = go.Figure()
        for q, colour in (("p50", "#4c78a8"), ("p95", "#f58518"), ("p99", "#e45756")):
            fig.add_trace(go.Bar(
                y=labels, x=[latency[n][q] for n in names], name=q, orientation="h", marker={"color": colour},
                customdata=[[latency[n]["count"]] for n in names],
                hovertemplate=f"%{{y}} {q}: %{{x:.3g}} {unit[1:]}<br>count %{{customdata[0]:,}}<extra></extra>"))
        fig.add_trace(go.Scatter(
            y=labels, x=[latency[n]["max"] for n in names], name="max", mode="markers",
            marker={"symbol": "line-ns-open", "size": 14, "color": "#333"},
            hovertemplate=f"%{{y}} max: %{{x:.3g}} {unit[1:]}<extra></extra>"))
        fig.update_layout(title=f"latency by component, {title} ({unit[1:]}): p50, p95, p99 bars, max marker",
                          barmode="group", height=140 + 60 * len(names), margin={**_LAYOUT["margin"], "l": 120},
                          legend={"orientation": "h", "y": -0.15})
        values = [latency[n][q] for n in names for q in ("p50", "max") if latency[n][q] > 0]
        ticks, labels = log_ticks(min(values), max(values)) if values else ([], [])
        fig.update_xaxes(type="log", title_text=f"{unit[1:]} (log scale)", tickvals=ticks, ticktext=labels)
        figs.append(fig)
    return figs


def log_ticks(low: float, high: float) -> tuple[list[float], list[str]]:
    """Ticks of a log axis over [low, high] (both > 0), each labelled with its whole value ("20", "500", "10k"):
    ``m * 10^d`` for ``m`` in 1, 2, 5 when ``high / low < 1000`` (under three decades), else one per decade, from
    the decade at or below ``low`` to the one at or above ``high``. (Plotly's own "D2" ticks label 20 and 50 as a
    small "2" and "5", which reads as 2 and 5.)"""
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    steps = (1, 2, 5) if high / low < 1000 else (1,)
    ticks = [m * 10.0**d for d in range(first, last + 1) for m in steps if m * 10.0**d <= 10.0**last]
    return ticks, [_short(t) for t in ticks]


def _short(value: float) -> str:
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


def guard_figure(series: SessionSeries, guard_triggers: Mapping[str, int]) -> go.Figure:
    """Guard level over time with reasons (``bot.guard`` records, when any left OK); without them, triggers by
    reason; with neither, the explicit statement ``NO_GUARD_EVENTS`` (an empty chart would read as missing data,
    and a flat OK line as a chart of nothing)."""
    fig = go.Figure()
    if any(level.upper() != "OK" for _, level, _ in series.guards):
        end = series.duration_s
        xs = [t / 3600 for t, _, _ in series.guards] + [end / 3600]
        ys = [_LEVELS.get(level.upper(), 1) for _, level, _ in series.guards]
        ys.append(ys[-1])
        text = [f"{level}: {reason}" for _, level, reason in series.guards] + [""]
        fig.add_trace(go.Scatter(x=[0.0, *xs], y=[0, *ys], text=["start", *text], mode="lines+markers",
                                 line={"shape": "hv"}, name="guard level", hoverinfo="text+x"))
        fig.update_yaxes(tickvals=[0, 1, 2], ticktext=["OK", "SOFT", "HARD"], range=[-0.3, 2.3])
        fig.update_layout(title="guard timeline (hover for reasons)", xaxis_title="simulated hours")
    elif any(guard_triggers.values()):
        names = list(guard_triggers)
        fig.add_trace(go.Bar(x=names, y=[guard_triggers[n] for n in names], name="triggers",
                             text=[str(guard_triggers[n]) for n in names], textposition="outside"))
        fig.update_layout(title="guard triggers by level:reason (no bot.guard records in the event log)")
    else:
        fig.add_annotation(text=NO_GUARD_EVENTS, showarrow=False, font={"size": 16}, x=0.5, y=0.5,
                           xref="paper", yref="paper")
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        fig.update_layout(title="guards: no guard events")
    fig.update_layout(height=320, margin=_LAYOUT["margin"])
    return fig
