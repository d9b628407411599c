"""The market session report: one self-contained HTML file (plotly.js inlined, no CDN) for a simulated market.

It shows the summary numbers of ``SimulationSummary`` (the same values the CLI prints), the top of each book
against the latent fair price with the regime timeline shaded, and the spread distribution.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs

from exchange_sim.simulate import SimulationSummary

_REGIME_COLOURS = {
    "calm": "rgba(46,139,87,0.08)", "trending": "rgba(30,144,255,0.08)", "volatile": "rgba(255,140,0,0.12)",
    "illiquid": "rgba(128,128,128,0.12)", "flash_crash": "rgba(220,20,60,0.15)",
}


def _price_figure(summary: SimulationSummary, symbol: str) -> go.Figure:
    tick = float(Decimal(summary.symbols[symbol]["tick_size"]))
    rows = [s for s in summary.samples if s.symbol == symbol]
    hours = [s.t_s / 3600 for s in rows]
    fig = go.Figure()
    for name, values in (
        ("best bid", [s.bid_ticks * tick if s.bid_ticks is not None else None for s in rows]),
        ("best ask", [s.ask_ticks * tick if s.ask_ticks is not None else None for s in rows]),
        ("latent fair price", [s.fair_ticks * tick for s in rows]),
    ):
        fig.add_trace(go.Scattergl(x=hours, y=values, name=name, mode="lines", line={"width": 1}))
    ends = [start for start, _ in summary.regimes[1:]] + [summary.simulated_s]
    for (start, regime), end in zip(summary.regimes, ends, strict=True):
        fig.add_vrect(x0=start / 3600, x1=end / 3600, fillcolor=_REGIME_COLOURS.get(regime, "rgba(0,0,0,0.05)"),
                      line_width=0, annotation_text=regime, annotation_position="top left")
    fig.update_layout(title=f"{symbol}: top of book and latent fair price", xaxis_title="simulated hours",
                      yaxis_title="price", height=420, margin={"t": 50, "b": 40})
    return fig


def _spread_figure(summary: SimulationSummary) -> go.Figure:
    fig = go.Figure()
    for symbol in summary.symbols:
        spreads = Counter(
            s.ask_ticks - s.bid_ticks for s in summary.samples
            if s.symbol == symbol and s.bid_ticks is not None and s.ask_ticks is not None
        )
        xs = sorted(spreads)
        total = sum(spreads.values()) or 1
        fig.add_trace(go.Bar(x=xs, y=[spreads[x] / total for x in xs], name=symbol))
    fig.update_layout(title="spread distribution (share of samples)", xaxis_title="spread (ticks)",
                      yaxis_title="share", height=360, barmode="group", margin={"t": 50, "b": 40})
    return fig


def summary_rows(summary: SimulationSummary) -> list[tuple[str, str]]:
    """The numbers the report and the CLI both show."""
    return [
        ("seed", str(summary.seed)),
        ("simulated time", f"{summary.simulated_s / 3600:.2f} h"),
        ("wall time", f"{summary.wall_s:.2f} s"),
        ("book events (orders, cancels, trades)", f"{summary.book_events:,}"),
        ("book events / simulated s", f"{summary.events_per_sim_s:.1f}"),
        ("events / wall s", f"{summary.events_per_wall_s:,.0f}"),
        ("speed-up over real time", f"{summary.speedup:,.0f}x"),
        ("trades", f"{summary.trades:,}"),
        ("event-log records", f"{summary.log_records:,}"),
        ("event-log sha256", summary.digest),
    ]


def render_market_report(summary: SimulationSummary, path: Path | str, *, command: str) -> Path:
    """Write the report for ``summary`` to ``path``; ``command`` is the command line that reproduces it."""
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape())
    charts = [_price_figure(summary, symbol) for symbol in summary.symbols] + [_spread_figure(summary)]
    html = env.get_template("market.html.j2").render(
        summary=summary,
        rows=summary_rows(summary),
        command=command,
        regimes=[(f"{start / 3600:.2f} h", regime) for start, regime in summary.regimes],
        counts=sorted(summary.record_counts.items()),
        plotly_js=get_plotlyjs(),
        charts=[fig.to_html(full_html=False, include_plotlyjs=False, config={"responsive": True}) for fig in charts],
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
