"""Observability: Prometheus metrics (``BotMetrics``), the ``/metrics`` endpoint, OpenTelemetry spans and JSON logs.

Modules: ``registry`` (every metric behind typed methods), ``instruments`` (cheap metric families),
``http`` (``MetricsServer``), ``tracing`` (``BotTracer``), ``logs`` (``JsonFormatter``, ``RedactingFilter``),
``correlation`` (symbol / cycle id / client order id in contextvars). This package imports only ``bot.core``.
"""

from bot.metrics.registry import BotMetrics, MetricsConfig
from bot.metrics.tracing import BotTracer, TracingConfig

__all__ = ["BotMetrics", "BotTracer", "MetricsConfig", "TracingConfig"]
