"""BotTracer: span tree of a quote cycle, attributes, isolation between tracers, the cheap disabled path."""

from __future__ import annotations

import importlib.util

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from bot.core.errors import BotError, ErrorCode
from bot.metrics.correlation import current
from bot.metrics.tracing import BotTracer, TracingConfig


def traced() -> tuple[BotTracer, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    return BotTracer(span_exporter=exporter), exporter


def run_cycle(tracer: BotTracer, symbol: str = "BTCUSDT", cycle_id: int = 7) -> None:
    with tracer.cycle(symbol, cycle_id):
        for stage in ("guard", "adaptive_spread", "inventory_skew"):
            with tracer.stage(stage):
                pass
        with tracer.venue_call("place", client_order_id="mm-1"):
            pass


def test_the_cycle_span_is_the_parent_of_every_stage_and_venue_span() -> None:
    tracer, exporter = traced()
    run_cycle(tracer)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"quote_cycle", "stage.guard", "stage.adaptive_spread", "stage.inventory_skew",
                          "venue.place"}
    cycle = spans.pop("quote_cycle")
    assert cycle.parent is None
    for span in spans.values():
        assert span.parent is not None and span.parent.span_id == cycle.context.span_id
        assert span.context.trace_id == cycle.context.trace_id


def test_spans_carry_symbol_cycle_stage_and_order_attributes() -> None:
    tracer, exporter = traced()
    run_cycle(tracer, "ETHUSDT", 42)
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["quote_cycle"].attributes == {"mmbot.symbol": "ETHUSDT", "mmbot.cycle_id": 42}
    assert spans["stage.guard"].attributes == {"mmbot.stage": "guard", "mmbot.symbol": "ETHUSDT", "mmbot.cycle_id": 42}
    place = spans["venue.place"].attributes
    assert place is not None
    assert (place["mmbot.endpoint"], place["mmbot.client_order_id"], place["mmbot.symbol"]) == (
        "place", "mm-1", "ETHUSDT")


def test_consecutive_cycles_are_separate_traces() -> None:
    tracer, exporter = traced()
    run_cycle(tracer, cycle_id=1)
    run_cycle(tracer, cycle_id=2)
    roots = [s for s in exporter.get_finished_spans() if s.name == "quote_cycle"]
    assert len({s.context.trace_id for s in roots}) == 2


def test_sampling_traces_one_cycle_in_n_with_all_its_stages() -> None:
    exporter = InMemorySpanExporter()
    tracer = BotTracer(TracingConfig(sample_every=5), span_exporter=exporter)
    for cycle_id in range(10):
        run_cycle(tracer, cycle_id=cycle_id)
    spans = exporter.get_finished_spans()
    cycles = sorted(s.attributes["mmbot.cycle_id"] for s in spans if s.name == "quote_cycle" and s.attributes)
    assert cycles == [0, 5]
    assert len(spans) == 2 * 5


def test_an_untraced_cycle_still_sets_correlation_ids() -> None:
    tracer = BotTracer(TracingConfig(sample_every=2), span_exporter=InMemorySpanExporter())
    with tracer.cycle("BTCUSDT", 1):
        assert current() == {"symbol": "BTCUSDT", "cycle_id": 1}
    assert current() == {}


def test_an_exception_marks_the_span_as_error_and_propagates() -> None:
    tracer, exporter = traced()
    with pytest.raises(ZeroDivisionError), tracer.cycle("BTCUSDT", 1), tracer.stage("ladder"):
        _ = 1 / 0
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["stage.ladder"].status.status_code is StatusCode.ERROR
    assert spans["quote_cycle"].status.status_code is StatusCode.ERROR


def test_two_tracers_in_one_process_export_only_their_own_spans() -> None:
    (first, first_spans), (_second, second_spans) = traced(), traced()
    run_cycle(first)
    assert len(first_spans.get_finished_spans()) == 5
    assert second_spans.get_finished_spans() == ()
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def test_the_none_exporter_records_nothing_but_still_sets_correlation_ids() -> None:
    tracer = BotTracer(TracingConfig())
    assert not tracer.enabled
    with tracer.cycle("BTCUSDT", 9):
        assert current() == {"symbol": "BTCUSDT", "cycle_id": 9}
        with tracer.stage("guard"), tracer.venue_call("cancel"):
            tracer.annotate("halted", True)
    assert current() == {}


def test_the_cycle_sets_correlation_ids_when_enabled_too() -> None:
    tracer, _ = traced()
    with tracer.cycle("SOLUSDT", 3):
        assert current() == {"symbol": "SOLUSDT", "cycle_id": 3}
    assert current() == {}


def test_console_exporter_prints_spans(capsys: pytest.CaptureFixture[str]) -> None:
    tracer = BotTracer(TracingConfig(exporter="console"))
    run_cycle(tracer)
    tracer.shutdown()
    assert '"name": "quote_cycle"' in capsys.readouterr().err  # stderr: stdout carries the run summary


def test_otlp_without_its_package_is_a_clear_config_error() -> None:
    if importlib.util.find_spec("opentelemetry.exporter") is not None:
        pytest.skip("an OTLP exporter package is installed")
    with pytest.raises(BotError, match="opentelemetry-exporter-otlp") as err:
        BotTracer(TracingConfig(exporter="otlp"))
    assert err.value.code is ErrorCode.CONFIG_INVALID


def test_config_rejects_unknown_exporters_and_bad_sampling() -> None:
    with pytest.raises(ValueError, match="exporter"):
        TracingConfig(exporter="jaeger")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sample_every"):
        TracingConfig(sample_every=0)
