"""The calibration report: the objective's surface over the grid, the successive-halving rungs, the held-out check.

One self-contained HTML file (plotly.js inlined). Input is the JSON-ready dict ``mmbot calibrate`` writes.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

__all__ = ["render_calibration_report", "surface_figure"]


def surface_figure(grid: list[dict[str, Any]]) -> go.Figure | None:
    if not grid:
        return None
    names = list(grid[0]["params"])
    if len(names) != 2:
        return None
    xs = sorted({g["params"][names[0]] for g in grid})
    ys = sorted({g["params"][names[1]] for g in grid})
    z = [[next((g["score_bps"] for g in grid if g["params"][names[0]] == x and g["params"][names[1]] == y), None)
          for x in xs] for y in ys]
    # the grid's values as categories: one labelled tick per cell (a numeric axis puts round-number ticks
    # between unevenly spaced grid values, which then read as the wrong cells)
    fig = go.Figure(go.Heatmap(x=[f"{x:g}" for x in xs], y=[f"{y:g}" for y in ys], z=z, colorscale="RdYlGn",
                               colorbar={"title": "bps"},
                               text=[[f"{v:.2f}" if v is not None else "" for v in row] for row in z],
                               texttemplate="%{text}"))
    fig.update_layout(title="pooled net_bps over the grid", xaxis_title=names[0], yaxis_title=names[1], height=480)
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def _table(rows: list[dict[str, Any]]) -> str:
    head = "<tr><th>params</th><th>pooled bps</th><th>sessions</th><th>net PnL</th><th>notional</th></tr>"
    body = "".join(
        f"<tr><td>{html.escape(json.dumps(r['params']))}</td><td>{r['score_bps']:.3f}</td><td>{r['sessions']}</td>"
        f"<td>{r['net_pnl_quote']:.2f}</td><td>{r['traded_notional_quote']:,.0f}</td></tr>" for r in rows)
    return f"<table>{head}{body}</table>"


def render_calibration_report(result: dict[str, Any], path: Path | str) -> Path:
    """Write the report of ``result`` (grid, rungs, holdout, settings) to ``path``."""
    parts = [f"<h1>Adaptive-spread calibration</h1><p><code>{html.escape(result.get('command', ''))}</code></p>",
             f"<p>{html.escape(json.dumps(result.get('settings', {})))}</p>"]
    fig = surface_figure(result.get("grid", []))
    if fig is not None:
        parts.append(fig.to_html(full_html=False, include_plotlyjs=False, div_id="chart-surface"))
    if result.get("grid"):
        parts.append("<h2>Grid</h2>" + _table(result["grid"]))
    for i, rung in enumerate(result.get("rungs", [])):
        parts.append(f"<h2>Successive halving, rung {i}</h2>" + _table(rung))
    if result.get("holdout"):
        parts.append("<h2>Held-out seeds</h2>" + _table(result["holdout"]))
    page = ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>MM-Bot calibration</title>"
            "<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:1.5rem auto}"
            "td,th{border-bottom:1px solid #ddd;padding:.2rem .6rem}</style>"
            f"<script>{get_plotlyjs()}</script></head><body>{''.join(parts)}</body></html>")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
