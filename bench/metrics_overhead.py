"""Cost per quote cycle of recording its metrics and spans, in wall-clock microseconds.

One cycle records what the reference quote loop records: ``observe_quote_cycle`` (cycle and decision latency,
one latency-breakdown component per stage of the default pipeline plus ``rest``, the quoted spread, 4
adaptive-spread scores), ``set_inventory``, ``set_pnl``, one ``record_guards`` (no change), and the spans
``quote_cycle`` > one ``stage.*`` per default stage + 1 ``venue.place``. Figures
(best of ``repeats`` runs of ``n`` cycles, the empty loop subtracted):

* ``metrics_us``: BotMetrics alone;
* ``spans_none_us`` / ``spans_inmemory_us``: BotTracer with the default ``none`` exporter / the SDK with an
  in-memory exporter (the cost of real spans, without I/O);
* ``cycle_none_us`` / ``cycle_inmemory_us``: both together, as the bot pays them;
* ``cycle_sampled_1pct_us``: both, tracing one cycle in 100 (``TracingConfig(sample_every=100)``);
* ``prometheus_client_metrics_us``: the same 16 updates on stock ``prometheus_client`` metrics (cached
  children), the reference ``bot.metrics.instruments`` is measured against.

``python -m bench.metrics_overhead [n]`` prints them; the budget is well under 70 us per simulated cycle.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry, Gauge, Histogram

from bench.decision import CONFIG, INFO, PRICE, contexts, measure
from bot.metrics.registry import LATENCY_BUCKETS_MS, BotMetrics
from bot.metrics.tracing import BotTracer, TracingConfig
from bot.quoting.tracing import trace_strategy
from bot.strategy import build_strategy
from bot.strategy.config import StrategyConfig

STAGES = StrategyConfig().stages  # the default reference pipeline, in order
COMPONENTS = {"guards": 0.004, "taker_cap": 0.001, "spread": 0.006, "skew": 0.003, "fair_value": 0.002,
              "queue": 0.004, "fast_cancel": 0.002, "ladder": 0.008, "band": 0.001, "rest": 12.5}
SCORES = {"vol": 0.4, "liq": 0.7, "lat": 0.1, "pnl": 0.5}


def _metrics_step(metrics: BotMetrics) -> Callable[[int], None]:
    def step(i: int) -> None:
        metrics.observe_quote_cycle("BTCUSDT", cycle_ms=12.5 + (i & 7), decision_ms=0.03,
                                    components_ms=COMPONENTS, spread_bps=2.2, scores=SCORES)
        metrics.set_inventory("BTCUSDT", lots=i & 1023, base=(i & 1023) * 1e-5)
        metrics.set_pnl("BTCUSDT", net_quote=1.5, fees_quote=0.2, drawdown_quote=0.4, net_bps=2.3)
        metrics.record_guards(0, ())

    return step


def _spans_step(tracer: BotTracer) -> Callable[[int], None]:
    def step(i: int) -> None:
        with tracer.cycle("BTCUSDT", i):
            for name in STAGES:
                with tracer.stage(name):
                    pass
            with tracer.venue_call("place"):
                pass

    return step


def _prometheus_client_step() -> Callable[[int], None]:
    registry = CollectorRegistry()
    hist = Histogram("h_ms", "h", ["k"], registry=registry, buckets=LATENCY_BUCKETS_MS)
    gauge = Gauge("g", "g", ["k"], registry=registry)
    cycle, decision = hist.labels("cycle"), hist.labels("decision")
    parts = {name: hist.labels(name) for name in COMPONENTS}
    spread, scores = gauge.labels("spread"), {name: gauge.labels(name) for name in SCORES}

    def step(i: int) -> None:
        cycle.observe(12.5 + (i & 7))
        decision.observe(0.03)
        for name, value in COMPONENTS.items():
            parts[name].observe(value)
        spread.set(2.2)
        for name, value in SCORES.items():
            scores[name].set(value)

    return step


def _per_call_us(step: Callable[[int], None], n: int, repeats: int, clear: Callable[[], None] | None = None) -> float:
    best = float("inf")
    for _ in range(repeats):
        if clear is not None:
            clear()
        start = time.perf_counter()
        for i in range(n):
            step(i)
        best = min(best, time.perf_counter() - start)
    return best / n * 1e6


def _decision_with_and_without(n: int) -> dict[str, float]:
    """Decision latency (reference pipeline, mean us) with instrumentation off and on: plain ``decide``; with
    the cycle's metrics recorded; inside a traced cycle with a span per stage (in-memory exporter)."""
    pool = contexts(2_000, 1)
    plain = build_strategy(CONFIG, INFO, price=PRICE)
    exporter = InMemorySpanExporter()
    tracer = BotTracer(span_exporter=exporter)
    traced = trace_strategy(build_strategy(CONFIG, INFO, price=PRICE), tracer)
    metrics = BotMetrics()
    metrics_step = _metrics_step(metrics)

    class _Metered:
        name = "metered"

        def decide(self, ctx: Any) -> Any:
            out = plain.decide(ctx)
            metrics_step(0)
            return out

    class _Traced:
        name = "traced"

        def __init__(self) -> None:
            self.i = 0

        def decide(self, ctx: Any) -> Any:
            self.i += 1
            with tracer.cycle("BTCUSDT", self.i):
                out = traced.decide(ctx)
            metrics_step(self.i)
            return out

    calls = max(2_000, n // 4)
    results = {
        "decision_plain_us": measure(plain, pool, calls)["mean_us"],
        "decision_with_metrics_us": measure(_Metered(), pool, calls)["mean_us"],
        "decision_with_metrics_and_tracing_us": measure(_Traced(), pool, calls)["mean_us"],
    }
    exporter.clear()
    tracer.shutdown()
    return results


def run(n: int = 20_000, repeats: int = 3) -> dict[str, Any]:
    """The figures in the module docstring, in microseconds per cycle (rounded to 0.01)."""
    exporter = InMemorySpanExporter()
    none_tracer, sdk_tracer = BotTracer(), BotTracer(span_exporter=exporter)
    metrics_step = _metrics_step(BotMetrics())
    sampled_tracer = BotTracer(TracingConfig(sample_every=100), span_exporter=exporter)
    none_step, sdk_step = _spans_step(none_tracer), _spans_step(sdk_tracer)

    def both(spans: Callable[[int], None]) -> Callable[[int], None]:
        def step(i: int) -> None:
            spans(i)
            metrics_step(i)

        return step

    empty = _per_call_us(lambda i: None, n, repeats)
    figures = {
        "metrics_us": _per_call_us(metrics_step, n, repeats),
        "spans_none_us": _per_call_us(none_step, n, repeats),
        "spans_inmemory_us": _per_call_us(sdk_step, n, repeats, exporter.clear),
        "cycle_none_us": _per_call_us(both(none_step), n, repeats),
        "cycle_inmemory_us": _per_call_us(both(sdk_step), n, repeats, exporter.clear),
        "cycle_sampled_1pct_us": _per_call_us(both(_spans_step(sampled_tracer)), n, repeats, exporter.clear),
        "prometheus_client_metrics_us": _per_call_us(_prometheus_client_step(), n, repeats),
    }
    figures |= _decision_with_and_without(n)
    sdk_tracer.shutdown()
    sampled_tracer.shutdown()
    out: dict[str, Any] = {key: round(max(value - empty, 0.0), 2) for key, value in figures.items()}
    # values: cycle + decision, the breakdown, spread, scores, inventory (2) and PnL (4)
    out |= {"cycles": n, "repeats": repeats,
            "values_per_cycle": 2 + len(COMPONENTS) + 1 + len(SCORES) + 6, "spans_per_cycle": 1 + len(STAGES) + 1}
    return out


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000), indent=2))
