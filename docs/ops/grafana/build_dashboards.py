"""Writes the three MM-Bot Grafana dashboards (Performance, Risk, Edge) as JSON next to this file.

Run ``python docs/ops/grafana/build_dashboards.py`` after changing a panel; ``tests/unit/test_ops_rules.py``
checks that the JSON files match this script and that every PromQL expression names metrics ``BotMetrics``
exports. Dashboards import with a Prometheus data source chosen at import time (``${DS_PROMETHEUS}``) and a
``symbol`` variable.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DS = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
SYM = 'symbol=~"$symbol"'
Panel = tuple[str, str, list[tuple[str, str]]]  # title, unit, [(expr, legend)]


def _quantile(q: float, metric: str, by: str, matcher: str = "") -> str:
    selector = f"{metric}_bucket{{{matcher}}}" if matcher else f"{metric}_bucket"
    return f"histogram_quantile({q}, sum by (le, {by}) (rate({selector}[5m])))"


def _mean(metric: str, by: str, matcher: str = "") -> str:
    sel = f"{{{matcher}}}" if matcher else ""
    return f"sum by ({by}) (rate({metric}_sum{sel}[5m])) / sum by ({by}) (rate({metric}_count{sel}[5m]))"


PERFORMANCE: list[Panel] = [
    ("Quote cycle latency p50 / p95 / p99", "ms", [
        (_quantile(0.5, "mmbot_quote_cycle_latency_ms", "symbol", SYM), "p50 {{symbol}}"),
        (_quantile(0.95, "mmbot_quote_cycle_latency_ms", "symbol", SYM), "p95 {{symbol}}"),
        (_quantile(0.99, "mmbot_quote_cycle_latency_ms", "symbol", SYM), "p99 {{symbol}}"),
    ]),
    ("Latency breakdown p95 by component", "ms", [
        (_quantile(0.95, "mmbot_latency_breakdown_ms", "component"), "{{component}}"),
    ]),
    ("Latency breakdown mean by component", "ms", [
        (_mean("mmbot_latency_breakdown_ms", "component"), "{{component}}"),
    ]),
    ("Decision latency p95 (all stages)", "ms", [
        (_quantile(0.95, "mmbot_decision_latency_ms", "symbol", SYM), "{{symbol}}"),
    ]),
    ("Venue request latency p95 by endpoint", "ms", [
        (_quantile(0.95, "mmbot_venue_request_latency_ms", "endpoint"), "{{endpoint}}"),
    ]),
    ("Venue request errors by code", "reqps", [
        ("sum by (endpoint, code) (rate(mmbot_venue_request_errors_total[5m]))", "{{endpoint}} {{code}}"),
    ]),
    ("Request weight used / limit", "short", [
        ("mmbot_venue_request_weight_used", "used {{venue}}"),
        ("mmbot_venue_request_weight_limit", "limit {{venue}}"),
    ]),
    ("Quote cycles per second", "ops", [
        (f"sum by (symbol) (rate(mmbot_quote_cycle_latency_ms_count{{{SYM}}}[5m]))", "{{symbol}}"),
    ]),
]

RISK: list[Panel] = [
    ("Risk level (0 OK, 1 SOFT, 2 HARD)", "short", [("max(mmbot_risk_level)", "level")]),
    ("Circuit breaker (0 CLOSED, 1 HALF_OPEN, 2 OPEN)", "short", [("max(mmbot_circuit_state)", "state")]),
    ("Guard triggers (5 min) by reason and threshold", "short", [
        ("sum by (level, reason, threshold_breached) (increase(mmbot_guard_triggers_total[5m]))",
         "{{level}} {{reason}} {{threshold_breached}}"),
    ]),
    ("Inventory vs hard limit (base units)", "short", [
        (f"mmbot_inventory_base{{{SYM}}}", "inventory {{symbol}}"),
        (f"mmbot_inventory_limit_base{{{SYM}}}", "limit {{symbol}}"),
        (f"-mmbot_inventory_limit_base{{{SYM}}}", "-limit {{symbol}}"),
    ]),
    ("Inventory utilisation of the hard limit", "percentunit", [
        (f"abs(mmbot_inventory_base{{{SYM}}}) / mmbot_inventory_limit_base{{{SYM}}}", "{{symbol}}"),
    ]),
    ("Taker share of fills (1 h)", "percentunit", [
        (f'sum by (symbol) (rate(mmbot_fills_total{{liquidity="taker",{SYM}}}[1h])) '
         f"/ sum by (symbol) (rate(mmbot_fills_total{{{SYM}}}[1h]))", "{{symbol}}"),
    ]),
    ("Taker fills in the last hour vs dynamic cap", "short", [
        ('sum(increase(mmbot_fills_total{liquidity="taker"}[1h]))', "taker fills"),
        ("max(mmbot_taker_fills_limit_per_hour)", "cap"),
    ]),
    ("Drawdown (quote)", "short", [(f"mmbot_drawdown_quote{{{SYM}}}", "{{symbol}}")]),
    ("Rejects by reason", "reqps", [
        ("sum by (reason) (rate(mmbot_orders_rejected_total[5m]))", "{{reason}}"),
    ]),
    ("Venue up and reconnects", "short", [
        ("min by (venue) (mmbot_venue_up)", "up {{venue}}"),
        ("sum by (venue, stream) (increase(mmbot_venue_reconnects_total[10m]))", "reconnects {{venue}} {{stream}}"),
    ]),
]

EDGE: list[Panel] = [
    ("Net edge (bps of traded notional)", "short", [(f"mmbot_net_bps{{{SYM}}}", "{{symbol}}")]),
    ("Net PnL (quote)", "short", [(f"mmbot_pnl_net_quote{{{SYM}}}", "{{symbol}}")]),
    ("Fees paid (quote)", "short", [(f"mmbot_fees_paid_quote{{{SYM}}}", "{{symbol}}")]),
    ("Average taker slippage (bps of taker notional)", "short", [
        (f"mmbot_taker_slippage_bps{{{SYM}}}", "{{symbol}}"),
    ]),
    ("Taker slippage median / p95 (bps)", "short", [
        (_quantile(0.5, "mmbot_fill_slippage_bps", "symbol", SYM), "p50 {{symbol}}"),
        (_quantile(0.95, "mmbot_fill_slippage_bps", "symbol", SYM), "p95 {{symbol}}"),
    ]),
    ("Quoted spread (bps)", "short", [(f"mmbot_quoted_spread_bps{{{SYM}}}", "{{symbol}}")]),
    ("Adaptive spread scores", "short", [
        (f"mmbot_adaptive_spread_score{{{SYM}}}", "{{symbol}} {{score_type}}"),
    ]),
    ("Traded notional per second by liquidity (quote)", "short", [
        (f"sum by (symbol, liquidity) (rate(mmbot_fill_notional_quote_total{{{SYM}}}[5m]))",
         "{{symbol}} {{liquidity}}"),
    ]),
    ("Order flow", "ops", [
        (f"sum by (symbol) (rate(mmbot_orders_placed_total{{{SYM}}}[5m]))", "placed {{symbol}}"),
        (f"sum by (symbol) (rate(mmbot_orders_cancelled_total{{{SYM}}}[5m]))", "cancelled {{symbol}}"),
        (f"sum by (symbol) (rate(mmbot_fills_total{{{SYM}}}[5m]))", "fills {{symbol}}"),
    ]),
]

DASHBOARDS: dict[str, tuple[str, str, list[Panel]]] = {
    "mmbot-performance.json": ("MM-Bot Performance", "Latency breakdown per component, cycle and venue.", PERFORMANCE),
    "mmbot-risk.json": ("MM-Bot Risk", "Guards, inventory, taker share, venue health.", RISK),
    "mmbot-edge.json": ("MM-Bot Edge", "Net bps, slippage, spread, order flow.", EDGE),
}


def _panel(index: int, title: str, unit: str, targets: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "datasource": DS,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
        "targets": [
            {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": chr(ord("A") + i)}
            for i, (expr, legend) in enumerate(targets)
        ],
    }


def dashboard(uid: str, title: str, description: str, panels: list[Panel]) -> dict[str, Any]:
    return {
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "type": "datasource",
                      "pluginId": "prometheus", "pluginName": "Prometheus"}],
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["mmbot"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{
            "name": "symbol", "label": "Symbol", "type": "query", "datasource": DS,
            "query": {"query": "label_values(mmbot_quote_cycle_latency_ms_count, symbol)", "refId": "symbols"},
            "definition": "label_values(mmbot_quote_cycle_latency_ms_count, symbol)",
            "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2,
            "current": {"text": "All", "value": "$__all"},
        }]},
        "panels": [_panel(i, *panel) for i, panel in enumerate(panels)],
    }


def render_all() -> dict[str, str]:
    """File name -> JSON text of every dashboard."""
    return {
        name: json.dumps(dashboard(name.removesuffix(".json"), title, description, panels), indent=2) + "\n"
        for name, (title, description, panels) in DASHBOARDS.items()
    }


if __name__ == "__main__":
    for name, text in render_all().items():
        (HERE / name).write_text(text)
        print(f"wrote {HERE / name}")
