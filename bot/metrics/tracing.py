"""BotTracer: OpenTelemetry spans around each quote cycle, each pipeline stage and each venue call.

Span tree of one cycle::

    quote_cycle {mmbot.symbol, mmbot.cycle_id}
      ├── stage.<name> {mmbot.symbol, mmbot.cycle_id, mmbot.stage}     (one per pipeline stage)
      └── venue.<endpoint> {mmbot.symbol, mmbot.endpoint[, mmbot.client_order_id]}

The exporter is chosen by a frozen ``TracingConfig``: ``none`` (default) builds no SDK objects at all and every
helper is a near-free context manager that only sets the correlation ids (``bot.metrics.correlation``) that logs
read; ``console`` prints spans; ``otlp`` ships them to a collector and needs the
``opentelemetry-exporter-otlp-proto-http`` (or ``-grpc``) package: without it, building the tracer raises
``BotError(CONFIG_INVALID)`` naming the package. Tests pass their own ``SpanExporter`` (e.g. the in-memory one).

Each ``BotTracer`` owns its ``TracerProvider``; the process-global provider is never set, so several tracers
coexist (one per test). Spans carry wall-clock timestamps: they measure real CPU and I/O time, also in a
simulation (whose virtual time lives in the event log). An exception leaving a span marks it ERROR and is
re-raised unchanged.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.trace import Tracer, get_current_span

from bot.core.errors import BotError, ErrorCode
from bot.metrics.correlation import client_order_id_var, cycle_id_var, symbol_var

__all__ = ["BotTracer", "ExporterKind", "TracingConfig"]

ExporterKind = Literal["none", "console", "otlp"]
_EXPORTERS: tuple[str, ...] = ("none", "console", "otlp")


@dataclass(frozen=True, slots=True, kw_only=True)
class TracingConfig:
    """Where spans go.

    ``exporter``: ``none`` (default: no spans, near-zero cost), ``console`` (stderr, beside the JSON logs) or ``otlp``.
    ``otlp_endpoint``: the collector URL; ``None`` uses the exporter's default (or ``OTEL_EXPORTER_OTLP_*``).
    ``service_name``: the ``service.name`` resource attribute (default ``mmbot``).
    ``sample_every``: trace one quote cycle in N, chosen by ``cycle_id % N == 0`` (default 1: every cycle). A
    span costs tens of microseconds in the Python SDK, even unsampled by an SDK sampler
    (``bench/metrics_overhead.py``), so the decision is made here, per cycle: an untraced cycle costs what the
    ``none`` exporter costs, and its stage and venue spans are skipped with it.
    """

    exporter: ExporterKind = "none"
    otlp_endpoint: str | None = None
    service_name: str = "mmbot"
    sample_every: int = 1

    def __post_init__(self) -> None:
        if self.exporter not in _EXPORTERS:
            raise ValueError(f"TracingConfig.exporter must be one of {list(_EXPORTERS)}, got {self.exporter!r}")
        if not self.service_name:
            raise ValueError("TracingConfig.service_name must not be empty")
        if self.sample_every < 1:
            raise ValueError(f"TracingConfig.sample_every must be >= 1, got {self.sample_every}")


_traced_var: ContextVar[bool] = ContextVar("mmbot_traced", default=True)
"""False inside a cycle that is not sampled: its stage and venue spans are skipped."""


class _Correlated:
    """An untraced cycle: sets symbol and cycle id for the body, nothing else (a class, not a generator: cheaper)."""

    __slots__ = ("_cycle_id", "_symbol", "_tokens", "_traced", "_traced_token")

    def __init__(self, symbol: str, cycle_id: int, *, traced: bool = True) -> None:
        self._symbol = symbol
        self._cycle_id = cycle_id
        self._traced = traced
        self._tokens: tuple[Token[str | None], Token[int | None]] | None = None
        self._traced_token: Token[bool] | None = None

    def __enter__(self) -> None:
        self._tokens = (symbol_var.set(self._symbol), cycle_id_var.set(self._cycle_id))
        if not self._traced:
            self._traced_token = _traced_var.set(False)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._traced_token is not None:
            _traced_var.reset(self._traced_token)
            self._traced_token = None
        if self._tokens is not None:
            cycle_id_var.reset(self._tokens[1])
            symbol_var.reset(self._tokens[0])
            self._tokens = None


class _Nothing:
    """A reusable context manager that does nothing (stages and venue calls when tracing is off)."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


_NOTHING = _Nothing()


def _otlp_exporter(endpoint: str | None) -> SpanExporter:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found]  # noqa: PLC0415
            OTLPSpanExporter,
        )
    except ImportError:
        try:
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[import-not-found]  # noqa: PLC0415
                OTLPSpanExporter,
            )
        except ImportError as exc:
            raise BotError(
                ErrorCode.CONFIG_INVALID,
                "tracing exporter 'otlp' needs the opentelemetry-exporter-otlp-proto-http package "
                "(or -grpc): pip install opentelemetry-exporter-otlp-proto-http, or set exporter to 'none'",
                recoverable=False,
            ) from exc
    exporter: SpanExporter = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
    return exporter


class BotTracer:
    """Spans for the bot. ``enabled`` is False with the ``none`` exporter; call ``shutdown`` to flush at exit."""

    def __init__(self, config: TracingConfig | None = None, *, span_exporter: SpanExporter | None = None) -> None:
        """``span_exporter`` overrides ``config.exporter`` (tests: the in-memory exporter; spans export at once)."""
        self.config = config or TracingConfig()
        self._provider: TracerProvider | None = None
        self._tracer: Tracer | None = None
        if span_exporter is None and self.config.exporter == "none":
            return
        provider = TracerProvider(resource=Resource.create({"service.name": self.config.service_name}))
        if span_exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        elif self.config.exporter == "console":
            provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
        else:
            provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(self.config.otlp_endpoint)))
        self._provider = provider
        self._tracer = provider.get_tracer("bot.metrics.tracing")

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def cycle(self, symbol: str, cycle_id: int) -> AbstractContextManager[None]:
        """The span of one quote cycle; also sets the symbol and cycle id that logs and child spans read."""
        if self._tracer is None:
            return _Correlated(symbol, cycle_id)
        if cycle_id % self.config.sample_every:
            return _Correlated(symbol, cycle_id, traced=False)
        return self._cycle_span(self._tracer, symbol, cycle_id)

    def stage(self, name: str) -> AbstractContextManager[None]:
        """The span of one pipeline stage, a child of the current cycle span."""
        if self._tracer is None or not _traced_var.get():
            return _NOTHING
        return self._span(self._tracer, f"stage.{name}", {"mmbot.stage": name})

    def venue_call(
        self, endpoint: str, *, symbol: str | None = None, client_order_id: str | None = None
    ) -> AbstractContextManager[None]:
        """The span of one venue request (``endpoint``: place, cancel, query, book, ...)."""
        if self._tracer is None or not _traced_var.get():
            return _NOTHING
        attributes: dict[str, str | int] = {"mmbot.endpoint": endpoint}
        if symbol is not None:
            attributes["mmbot.symbol"] = symbol
        if client_order_id is not None:
            attributes["mmbot.client_order_id"] = client_order_id
        return self._span(self._tracer, f"venue.{endpoint}", attributes)

    def annotate(self, key: str, value: str | int | float | bool) -> None:
        """Set an attribute on the current span (no-op when tracing is off)."""
        if self._tracer is not None:
            get_current_span().set_attribute(f"mmbot.{key}", value)

    def shutdown(self) -> None:
        """Flush and close the exporter (idempotent)."""
        if self._provider is not None:
            self._provider.shutdown()
            self._provider = None
            self._tracer = None

    @staticmethod
    @contextmanager
    def _cycle_span(tracer: Tracer, symbol: str, cycle_id: int) -> Iterator[None]:
        symbol_token, cycle_token = symbol_var.set(symbol), cycle_id_var.set(cycle_id)
        traced_token = _traced_var.set(True)
        try:
            with tracer.start_as_current_span(
                "quote_cycle", attributes={"mmbot.symbol": symbol, "mmbot.cycle_id": cycle_id}
            ):
                yield
        finally:
            _traced_var.reset(traced_token)
            cycle_id_var.reset(cycle_token)
            symbol_var.reset(symbol_token)

    @staticmethod
    @contextmanager
    def _span(tracer: Tracer, name: str, attributes: dict[str, str | int]) -> Iterator[None]:
        symbol, cycle_id, coid = symbol_var.get(), cycle_id_var.get(), client_order_id_var.get()
        if symbol is not None:
            attributes.setdefault("mmbot.symbol", symbol)
        if cycle_id is not None:
            attributes.setdefault("mmbot.cycle_id", cycle_id)
        if coid is not None:
            attributes.setdefault("mmbot.client_order_id", coid)
        with tracer.start_as_current_span(name, attributes=attributes):
            yield
