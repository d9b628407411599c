"""docs/ops: alert rules and Grafana dashboards refer only to metrics BotMetrics exports, and they are valid."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.metrics.registry import AUDIT_NAMES, BotMetrics
from tests.metrics_support import (
    ALERTS,
    DASHBOARDS,
    OPS,
    RECORDING,
    dashboard_expressions,
    exported_sample_names,
    feed_everything,
    promql_metric_names,
    recorded_names,
    rule_expressions,
)


@pytest.fixture(scope="module")
def exported() -> set[str]:
    metrics = BotMetrics()
    feed_everything(metrics)
    return exported_sample_names(metrics)


def test_the_extractor_finds_metric_names_and_nothing_else() -> None:
    expr = ('histogram_quantile(0.95, sum by (le, symbol) (rate(a_ms_bucket{symbol=~"$symbol", x="y z"}[5m])))'
            " / on (symbol) group_left b_total offset 5m > bool 1e-3 and c unless abs(d)")
    assert promql_metric_names(expr) == {"a_ms_bucket", "b_total", "c", "d"}


def test_every_alert_expression_uses_exported_metrics(exported: set[str]) -> None:
    for name, expr in rule_expressions(ALERTS).items():
        unknown = promql_metric_names(expr) - exported
        assert not unknown, f"alert {name} refers to {unknown}, which BotMetrics does not export"


def test_every_recording_rule_uses_exported_metrics(exported: set[str]) -> None:
    for name, expr in rule_expressions(RECORDING).items():
        assert promql_metric_names(expr) <= exported, name


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_dashboard_expression_uses_exported_metrics(exported: set[str], path: Path) -> None:
    expressions = dashboard_expressions(path)
    assert len(expressions) >= 6
    for title, expr in expressions.items():
        unknown = promql_metric_names(expr) - exported - recorded_names()
        assert not unknown, f"{path.name}: {title} refers to {unknown}"


def test_the_three_dashboards_of_the_audit_exist() -> None:
    titles = {json.loads(p.read_text())["title"] for p in DASHBOARDS}
    assert titles == {"MM-Bot Performance", "MM-Bot Risk", "MM-Bot Edge"}
    performance = json.loads((OPS / "grafana" / "mmbot-performance.json").read_text())
    assert any("mmbot_latency_breakdown_ms" in t["expr"] for p in performance["panels"] for t in p["targets"])


def test_dashboards_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("build_dashboards", OPS / "grafana" / "build_dashboards.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rendered = module.render_all()
    assert sorted(rendered) == sorted(p.name for p in DASHBOARDS)
    for path in DASHBOARDS:
        assert path.read_text() == rendered[path.name], f"{path.name} is stale: run build_dashboards.py"


def test_alerts_cover_edge_latency_guards_rejects_and_venue() -> None:
    alerts = set(rule_expressions(ALERTS))
    assert {"MMBotNetBpsDegraded", "MMBotQuoteCycleLatencyP95High", "MMBotGuardStorm", "MMBotRejectRateHigh",
            "MMBotVenueDown"} <= alerts


def test_recording_rules_provide_the_seed_audit_names() -> None:
    recorded = recorded_names()
    assert {"guard_trigger_details", "adaptive_spread_score", "latency_breakdown_ms_bucket"} <= recorded
    for audit_name, family in AUDIT_NAMES.items():
        record = audit_name + "_bucket" if audit_name == "latency_breakdown_ms" else audit_name
        assert family.removesuffix("_total") in rule_expressions(RECORDING)[record]


@pytest.mark.skipif(shutil.which("promtool") is None,
                    reason="promtool not on PATH (CI installs the Debian 'prometheus' package)")
def test_promtool_accepts_the_rules() -> None:
    result = subprocess.run(["promtool", "check", "rules", str(ALERTS), str(RECORDING)],
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docs_describe_every_metric_and_no_other() -> None:
    text = (OPS.parent / "metrics.md").read_text()
    documented = set(re.findall(r"^\| `(mmbot_[a-z0-9_]+)` \|", text, flags=re.MULTILINE))
    assert documented == set(BotMetrics().family_names())
