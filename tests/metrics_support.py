"""Shared by the metrics and ops tests: one sample of every metric, and the PromQL of the ops files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import yaml

from bot.metrics.registry import BotMetrics

ROOT = Path(__file__).resolve().parents[1]
OPS = ROOT / "docs" / "ops"
ALERTS = OPS / "alerts.yml"
RECORDING = OPS / "recording.yml"
DASHBOARDS = sorted((OPS / "grafana").glob("*.json"))


@dataclass(frozen=True)
class Signal:
    """A stand-in for ``bot.risk.guards.GuardSignal`` (the metrics package does not import risk)."""

    reason: str
    level: int
    threshold_breached: str
    subject: str = ""


def feed_everything(metrics: BotMetrics) -> None:
    """Call every recording method once, so every family has at least one series."""
    metrics.order_placed("BTCUSDT", "BUY")
    metrics.order_placed("BTCUSDT", "SELL")
    metrics.order_cancelled("BTCUSDT")
    metrics.order_filled("BTCUSDT", "BUY", maker=True, notional_quote=Decimal("600.5"))
    metrics.order_filled("BTCUSDT", "SELL", maker=False, notional_quote=300.0, slippage_bps=1.2)
    metrics.order_rejected("BTCUSDT", "WOULD_TAKE")
    metrics.set_pnl("BTCUSDT", net_quote=Decimal("12.5"), fees_quote=0.9, drawdown_quote=3.0, net_bps=2.4,
                      taker_slippage_bps=1.1)
    metrics.set_inventory("BTCUSDT", lots=1500, base=Decimal("0.015"), limit_base=Decimal("0.5"))
    metrics.observe_quote_cycle(
        "BTCUSDT", cycle_ms=12.0, decision_ms=0.04,
        components_ms={"guards": 0.005, "spread": 0.01, "skew": 0.008, "queue": 0.006, "rest": 11.0},
        spread_bps=2.2, scores={"vol": 0.4, "liq": 0.7, "lat": 0.1, "pnl": 0.5},
    )
    metrics.observe_component("ws", 3.5)
    metrics.observe_venue_request("place", 10.5)
    metrics.observe_venue_request("cancel", 9.0, error_code="UNKNOWN_ORDER")
    metrics.set_venue_up("sim", True)
    metrics.venue_reconnected("sim", "market")
    metrics.set_request_weight("sim", used=120, limit=6000)
    metrics.record_guards(1, [Signal("INVENTORY", 1, "inventory.soft_fraction", "BTCUSDT")])
    metrics.set_circuit_state("CLOSED")
    metrics.set_taker_cap(50)
    metrics.guard_triggered("HARD", "KILL_SWITCH", "kill_switch")


def exported_sample_names(metrics: BotMetrics) -> set[str]:
    """Every sample name in the exposition (``_bucket``, ``_sum``, ``_count`` of histograms included)."""
    names = set()
    for line in metrics.render().decode().splitlines():
        if line and not line.startswith("#"):
            names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


# -- PromQL ---------------------------------------------------------------------------------------------------------
_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless",
             "offset", "inf", "nan"}


def promql_metric_names(expr: str) -> set[str]:
    """Metric names an expression selects: identifiers that are not functions, keywords, labels or strings."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values, regexes)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range and subquery windows
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    text = re.sub(r"\$\w+", " ", text)  # Grafana variables
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word, rest = match.group(0), text[match.end():]
        if word.lower() in _KEYWORDS or re.match(r"\s*\(", rest):
            continue
        if re.fullmatch(r"\d+[smhdwy]", word) or (match.start() > 0 and text[match.start() - 1].isdigit()):
            continue  # durations and exponents like 1e-3
        names.add(word)
    return names


def rule_expressions(path: Path) -> dict[str, str]:
    """``alert``/``record`` name -> PromQL of a Prometheus rules file."""
    doc = yaml.safe_load(path.read_text())
    return {rule.get("alert") or rule["record"]: rule["expr"] for group in doc["groups"] for rule in group["rules"]}


def dashboard_expressions(path: Path) -> dict[str, str]:
    """``panel title [refId]`` -> PromQL of a Grafana dashboard, template-variable queries included."""
    doc = json.loads(path.read_text())
    out = {}
    for panel in doc["panels"]:
        for target in panel["targets"]:
            out[f"{panel['title']} [{target['refId']}]"] = target["expr"]
    for var in doc.get("templating", {}).get("list", []):
        query = var["query"]["query"] if isinstance(var.get("query"), dict) else var.get("query", "")
        inner = re.fullmatch(r"label_values\((.+),\s*\w+\)", query)
        if inner:
            out[f"variable {var['name']}"] = inner.group(1)
    return out


def recorded_names() -> set[str]:
    """Series names the recording rules create (they exist in Prometheus, not in the bot)."""
    return set(rule_expressions(RECORDING))
