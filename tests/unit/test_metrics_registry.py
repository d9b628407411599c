"""BotMetrics: names and units, isolation between instances, bounded labels, snapshot and exposition."""

from __future__ import annotations

import re

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics.instruments import OVERFLOW, HistogramFamily
from bot.metrics.registry import AUDIT_NAMES, WALL_CLOCK_FAMILIES, BotMetrics, MetricsConfig
from bot.risk.guards import GuardLevel, GuardReason, GuardSignal
from tests.metrics_support import Signal, exported_sample_names, feed_everything

UNITS = ("_ms", "_bps", "_quote", "_base", "_lots", "_per_hour", "_used", "_limit", "_level", "_state", "_up",
         "_score")


def test_every_family_has_a_series_after_one_sample_of_everything() -> None:
    metrics = BotMetrics()
    feed_everything(metrics)
    exported = exported_sample_names(metrics)
    for family in metrics.family_names():
        stem = family.removesuffix("_total")
        assert any(name in (family, stem) or name.startswith(stem + "_") for name in exported), family


def test_names_follow_prometheus_conventions() -> None:
    metrics = BotMetrics()
    feed_everything(metrics)
    for family in text_string_to_metric_families(metrics.render().decode()):
        assert re.fullmatch(r"mmbot_[a-z0-9_]+", family.name), family.name
        if family.type == "counter":
            assert all(s.name.endswith("_total") for s in family.samples), family.name
        else:
            assert family.name.endswith(UNITS), f"{family.name}: unit (or dimensionless kind) last"


def test_seed_audit_families_exist_with_the_audit_labels() -> None:
    metrics = BotMetrics()
    feed_everything(metrics)
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    breakdown = families["mmbot_latency_breakdown_ms"]
    assert {s.labels["component"] for s in breakdown.samples} >= {"guards", "spread", "skew", "queue", "rest", "ws"}
    guards = families["mmbot_guard_triggers"]  # the parser drops _total from a counter family's name
    assert set(guards.samples[0].labels) == {"level", "reason", "threshold_breached"}
    scores = families["mmbot_adaptive_spread_score"]
    assert {s.labels["score_type"] for s in scores.samples} == {"vol", "liq", "lat", "pnl"}
    assert set(AUDIT_NAMES.values()) <= set(metrics.family_names())


def test_instances_are_isolated_and_never_touch_the_global_registry() -> None:
    before = set(REGISTRY._names_to_collectors)
    first, second = BotMetrics(), BotMetrics()
    first.order_placed("BTCUSDT", "BUY")
    assert first.snapshot()['mmbot_orders_placed_total{side="BUY",symbol="BTCUSDT"}'] == 1.0
    assert not [k for k in second.snapshot() if not k.startswith("mmbot_metrics_label_overflow_total")]
    assert set(REGISTRY._names_to_collectors) == before


def test_snapshot_is_sorted_and_leaves_out_buckets_unless_asked() -> None:
    metrics = BotMetrics()
    feed_everything(metrics)
    snap = metrics.snapshot()
    assert list(snap) == sorted(snap)
    assert not any("_bucket" in key for key in snap)
    assert snap['mmbot_quote_cycle_latency_ms_count{symbol="BTCUSDT"}'] == 1.0
    assert snap['mmbot_fill_notional_quote_total{liquidity="maker",symbol="BTCUSDT"}'] == 600.5
    assert any("_bucket" in key for key in metrics.snapshot(buckets=True))


def test_snapshot_can_exclude_wall_clock_families_for_a_deterministic_log() -> None:
    metrics = BotMetrics()
    feed_everything(metrics)
    snap = metrics.snapshot(exclude=WALL_CLOCK_FAMILIES)
    assert not any(key.startswith(tuple(WALL_CLOCK_FAMILIES)) for key in snap)
    assert 'mmbot_quote_cycle_latency_ms_sum{symbol="BTCUSDT"}' in snap


def test_histogram_buckets_are_cumulative_and_le_inclusive() -> None:
    family = HistogramFamily("h_ms", "h", (), 4, (1.0, 2.0))
    series = family.child()
    for value in (1.0, 1.5, 2.0, 9.0):
        series.observe(value)
    sample = {s.labels["le"]: s.value for s in family.to_metric().samples if s.name == "h_ms_bucket"}
    assert sample == {"1.0": 1.0, "2.0": 3.0, "+Inf": 4.0}
    assert series.sum == 13.5


def test_label_combinations_beyond_the_bound_fold_into_other_and_are_counted() -> None:
    metrics = BotMetrics(MetricsConfig(max_series=2))
    for symbol in ("A", "B", "C", "D"):
        metrics.order_cancelled(symbol)
    snap = metrics.snapshot()
    assert snap[f'mmbot_orders_cancelled_total{{symbol="{OVERFLOW}"}}'] == 2.0
    assert snap['mmbot_metrics_label_overflow_total{metric="mmbot_orders_cancelled_total"}'] == 2.0
    assert sum(1 for key in snap if key.startswith("mmbot_orders_cancelled_total")) == 2 + 1  # A, B, other


def test_guards_count_when_a_signal_appears_not_while_it_holds() -> None:
    metrics = BotMetrics()
    soft = Signal("DRAWDOWN", 1, "drawdown.soft_quote")
    hard = Signal("DRAWDOWN", 2, "drawdown.hard_quote")
    assert metrics.record_guards(1, [soft]) == 1
    assert metrics.record_guards(1, [soft]) == 0
    assert metrics.record_guards(2, [hard]) == 1
    assert metrics.record_guards(0, []) == 0
    assert metrics.record_guards(1, [soft]) == 1
    snap = metrics.snapshot()
    key = 'mmbot_guard_triggers_total{{level="{}",reason="DRAWDOWN",threshold_breached="drawdown.{}"}}'
    assert snap[key.format("SOFT", "soft_quote")] == 2.0
    assert snap[key.format("HARD", "hard_quote")] == 1.0
    assert snap["mmbot_risk_level"] == 1.0


def test_guard_signals_of_the_risk_layer_fit_record_guards() -> None:
    metrics = BotMetrics()
    signal = GuardSignal(GuardReason.INVENTORY, GuardLevel.HARD, 2.0, 1.0, "BTCUSDT")
    assert metrics.record_guards(GuardLevel.HARD, [signal]) == 1
    key = 'mmbot_guard_triggers_total{level="HARD",reason="INVENTORY",threshold_breached="inventory.hard_max_base"}'
    assert metrics.snapshot()[key] == 1.0


def test_risk_level_and_circuit_state_map_to_documented_numbers() -> None:
    metrics = BotMetrics()
    metrics.set_risk_level("HARD")
    metrics.set_circuit_state("HALF_OPEN")
    snap = metrics.snapshot()
    assert (snap["mmbot_circuit_state"], snap["mmbot_risk_level"]) == (1.0, 2.0)
    with pytest.raises(ValueError, match="unknown risk level"):
        metrics.set_risk_level("PANIC")
    with pytest.raises(ValueError, match="unknown circuit state"):
        metrics.set_circuit_state("AJAR")


def test_counters_refuse_to_go_down() -> None:
    metrics = BotMetrics()
    with pytest.raises(ValueError, match="only goes up"):
        metrics.order_filled("BTCUSDT", "BUY", maker=True, notional_quote=-1.0)


def test_render_parses_as_the_exposition_format() -> None:
    metrics = BotMetrics()
    feed_everything(metrics)
    families = list(text_string_to_metric_families(metrics.render().decode()))
    assert len(families) == len(metrics.family_names())
