"""OpenTelemetry spans of the running bot: each decided quote cycle is one tree of stage and venue-call spans.

The unchanged bot runs against the loopback server with an in-memory span exporter; the test reads the spans
and checks the tree: ``quote_cycle`` (with the symbol) is the parent of ``stage.<name>`` spans for the
reference pipeline's stages and of ``venue.place``/``venue.cancel`` spans for the orders it sent.
"""

from __future__ import annotations

from collections import Counter

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bot.metrics.tracing import BotTracer
from tests.realtime_support import run_bot
from tests.server_support import running_server

pytestmark = pytest.mark.e2e


async def test_each_quote_cycle_is_a_span_tree_of_stages_and_venue_calls() -> None:
    exporter = InMemorySpanExporter()
    tracer = BotTracer(span_exporter=exporter)
    async with running_server() as server:
        summary = await run_bot(server, 8.0, tracer=tracer)
    tracer.shutdown()
    assert summary.stop_verified
    spans = exporter.get_finished_spans()
    cycles = {s.context.span_id: s for s in spans if s.name == "quote_cycle"}
    assert cycles, "no quote cycle was traced"
    assert all(s.attributes["mmbot.symbol"] == "BTCUSDT" for s in cycles.values())
    children = Counter(s.name for s in spans if s.parent is not None and s.parent.span_id in cycles)
    for stage in ("stage.guard", "stage.adaptive_spread", "stage.inventory_skew", "stage.ladder"):
        assert children[stage] > 0, stage
    assert children["venue.place"] > 0
    trace_ids = {s.context.trace_id for s in cycles.values()}
    assert len(trace_ids) == len(cycles)  # one trace per cycle
