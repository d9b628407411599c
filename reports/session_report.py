"""The bot session report: ONE self-contained HTML file (plotly.js inlined, no CDN) for a run directory.

Sections: summary with pass/fail badges (the audit gates, per-regime floors from the baseline) and every metric
that moved beyond its tolerance against the baseline; PnL and inventory over time; quotes against mid with
maker/taker fills; spread (and adaptive-spread scores when recorded); latency per component; guard timeline
(or, when no guard ever left OK, the words "no guard events"); for a replayed run only, the replayed market
(``reports.replay_section``: the recorded book with our quotes and fills, each fill's queue position at entry and
wait, markouts at 1, 10 and 60 s); chaos results with replay commands; the config and seed that produced the run.

Every number in the summary tables is the summary's own value: the cell's text is formatted from it and its
``data-value`` attribute holds it exactly (``repr``), and the whole summary is embedded as JSON
(``<script id="summary-json">``). Charts come from the event log (``reports.eventseries``); without one the
report still renders the summary, latency, guards and chaos sections.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs

from reports import charts
from reports.baseline import AUDIT_GATES, Baseline, check_gates, compare, session_metrics
from reports.chaos import chaos_table
from reports.eventseries import SessionSeries, derive_series, iter_events
from reports.replay_section import NO_REACTION, markout_stats, recorded_series, replay_figures, symbol_spec
from reports.rundir import RunDir

__all__ = ["Cell", "render_session_report", "summary_cells"]


@dataclass(frozen=True, slots=True)
class Cell:
    """One summary number: label, text shown, the exact value (``data-value``) and its key in summary.json."""

    label: str
    text: str
    value: str
    key: str


def _fmt(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def _counts(d: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"


def summary_cells(summary: Mapping[str, Any]) -> list[Cell]:
    """The head table: (label, formatted value, exact value, key) for the summary's top-level numbers."""
    spec = [
        ("seed", "seed", "d"), ("strategy", "strategy", ""), ("regime", "regime", ""),
        ("simulated hours", "hours", "g"), ("net PnL (quote)", "net_pnl_quote", ",.4f"),
        ("net_bps (PnL / traded notional)", "net_bps", ".4f"),
        ("traded notional (quote)", "traded_notional_quote", ",.2f"), ("maker fills", "maker_fills", "d"),
        ("taker fills", "taker_fills", "d"), ("orders placed", "orders_placed", "d"),
        ("orders cancelled", "orders_cancelled", "d"), ("stop verified (nothing open)", "stop_verified", ""),
        ("wall time (s)", "wall_s", ".2f"), ("speed-up over real time", "speedup", ",.0f"),
        ("book events", "book_events", ","), ("event-log digest", "digest", ""),
    ]
    cells = [Cell(label, _fmt(summary[key], fmt), repr(summary[key]), key)
             for label, key, fmt in spec if key in summary]
    for label, key in (("guard triggers", "guard_triggers"), ("strategy halts", "halts"),
                       ("quote pulls", "pulls"), ("venue errors", "errors")):
        cells.append(Cell(label, _counts(summary.get(key) or {}), json.dumps(summary.get(key) or {}), key))
    return cells


_SYMBOL_COLUMNS = (
    ("net PnL", "net_pnl_quote", ",.4f"), ("net_bps", "net_bps", ".4f"), ("maker", "maker_fills", "d"),
    ("taker", "taker_fills", "d"), ("slippage bps", "slippage_bps", ".4f"),
    ("max |inv| lots", "max_abs_inventory_lots", "d"), ("hard limit lots", "hard_limit_lots", "d"),
    ("final inv lots", "final_inventory_lots", "d"), ("venue position lots", "venue_position_lots", "d"),
    ("drawdown", "drawdown_quote", ",.4f"), ("decisions", "decisions", ","), ("cycles", "cycles", ","),
)


def _figure_html(fig: go.Figure, div_id: str) -> str:
    html: str = fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                            config={"responsive": True, "displaylogo": False, "scrollZoom": True})
    return html


def _series(run: RunDir, summary: Mapping[str, Any], account: str | None) -> SessionSeries | None:
    events = run.events_path
    if events is None:
        return None
    symbols = [s["symbol"] for s in summary.get("symbols", [])] or None
    replayed = (summary.get("replay") or {}).get("symbols") or []
    specs = {s: symbol_spec(s) for s in replayed}
    scales = {s: (float(spec.tick_size), float(spec.step_size)) for s, spec in specs.items()}
    return derive_series(iter_events(events), account=account, symbols=symbols,
                         duration_s=float(summary.get("hours", 0)) * 3600 or None, max_points=3000,
                         scales=scales or None)


def _replay(run: RunDir, summary: Mapping[str, Any], account: str | None) -> dict[str, Any] | None:
    """The "Replayed market" section's data, or None for a synthetic run (``reports.replay_section``)."""
    info = summary.get("replay")
    if not info:
        return None
    payload = run.load_replay_fills()
    figures: list[tuple[str, go.Figure]] = []
    if run.events_path is not None and payload is not None:
        series = recorded_series(iter_events(run.events_path), account=account or "bot",
                                 symbols=list(info.get("symbols") or []),
                                 duration_s=float(summary.get("hours", 0)) * 3600)
        figures = replay_figures(series, payload)
    ticks = {s: float(symbol_spec(s).tick_size) for s in info.get("symbols") or []}
    lots = {s: float(symbol_spec(s).step_size) for s in info.get("symbols") or []}
    return {"info": info, "payload": payload, "charts": [_figure_html(f, div) for div, f in figures],
            "markouts": markout_stats(payload) if payload is not None else [], "ticks": ticks, "lots": lots,
            "no_reaction": NO_REACTION, "max_rows": 2000}


def _account(config_text: str | None) -> str | None:
    if not config_text:
        return None
    import yaml  # noqa: PLC0415 - only needed when a config is present

    raw = yaml.safe_load(config_text) or {}
    venue = raw.get("venue") or {}
    account = venue.get("account")
    return str(account) if account else None


def render_session_report(
    run_dir: Path | str, output: Path | str | None = None, *, baseline: Baseline | None = None,
) -> Path:
    """Render ``run_dir`` to ``output`` (default ``RUN_DIR/report.html``) and return the path written."""
    run = RunDir.open(run_dir)
    summary = run.load_summary()
    config_text = run.load_config_text()
    mode = str(summary.get("mode", "sim"))
    regime = str(summary.get("regime", "calm"))
    metrics = session_metrics(summary, mode=mode)
    gates = check_gates(metrics, regime=regime, baseline=baseline, mode=mode)
    drifts = compare(metrics, baseline, regime, seed=summary.get("seed"), hours=summary.get("hours"),
                     symbols=len(summary.get("symbols") or []) or None)
    series = _series(run, summary, _account(config_text))
    metric_rows = run.load_metrics()
    chaos_data = run.load_chaos()
    replay = _replay(run, summary, _account(config_text))

    figures: list[tuple[str, str, go.Figure]] = []  # (section, div id, figure)
    if series is not None and series.symbols:
        figures.append(("pnl", "chart-pnl", charts.pnl_figure(series)))
        for symbol in series.symbols:
            figures.append(("quotes", f"chart-quotes-{symbol}", charts.quotes_figure(series, symbol)))
        figures.append(("spread", "chart-spread", charts.spread_figure(series, metric_rows)))
    for i, fig in enumerate(charts.latency_figures(summary.get("latency") or {})):
        figures.append(("latency", f"chart-latency-{i}", fig))
    guard_events = sum((summary.get("guard_triggers") or {}).values()) + sum(
        1 for _, level, _ in (series.guards if series else []) if level.upper() != "OK")
    if guard_events:  # without any, the section says so in words (a chart of nothing reads as missing data)
        empty = SessionSeries("", float(summary.get("hours", 0)) * 3600, {}, [], [], [], {})
        figures.append(("guards", "chart-guards", charts.guard_figure(series or empty,
                                                                      summary.get("guard_triggers") or {})))
    sections: dict[str, list[str]] = {}
    for section, div_id, fig in figures:
        sections.setdefault(section, []).append(_figure_html(fig, div_id))

    curve_end = {sym: s.pnl[-1] for sym, s in series.symbols.items() if s.pnl} if series else {}
    env = Environment(loader=PackageLoader("reports", "templates"), autoescape=select_autoescape())
    html = env.get_template("session.html.j2").render(
        summary=summary, cells=summary_cells(summary), symbol_columns=_SYMBOL_COLUMNS, fmt=_fmt,
        latency=summary.get("latency") or {}, gates=gates, drifts=drifts, baseline=baseline, mode=mode,
        regime=regime, sections=sections, chart_count=len(figures), curve_end=curve_end,
        chaos=chaos_table(chaos_data) if chaos_data is not None else None,
        config_text=config_text, command=summary.get("command") or "",
        counts=sorted(series.counts.items()) if series else [], guards=series.guards[:500] if series else [],
        summary_json=json.dumps(summary, sort_keys=True).replace("</", "<\\/"), plotly_js=get_plotlyjs(),
        all_passed=all(g.passed for g in gates), flagged=[d for d in drifts if d.flagged],
        no_guard_events=charts.NO_GUARD_EVENTS, gate_limits=AUDIT_GATES,
        guard_events=guard_events, replay=replay,
    )
    out = Path(output) if output is not None else run.report_path
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
