"""The ``/metrics`` endpoint: an aiohttp app serving one ``BotMetrics`` in the Prometheus text format.

``create_app(metrics)`` is the app factory; ``MetricsServer`` runs it on the bot's own event loop
(``AppRunner`` + ``TCPSite``), bound to 127.0.0.1 by default: metrics reveal positions and PnL, so exposing
them beyond the host is an explicit choice. ``start`` returns the bound port (``port=0`` picks a free one);
``stop`` is idempotent. ``start`` twice raises ``RuntimeError``; a port in use raises ``OSError``.

Only for live and local modes: a simulation samples ``BotMetrics.snapshot`` into its event log instead (a
socket inside a virtual-time loop would break it, DESIGN section 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from bot.metrics.registry import BotMetrics

__all__ = ["CONTENT_TYPE", "METRICS_KEY", "MetricsServer", "MetricsServerConfig", "create_app"]

METRICS_KEY = web.AppKey("metrics", BotMetrics)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The classic text format ``generate_latest`` writes; Prometheus 2.x and 3.x both read it (newer clients announce
``version=1.0.0``, which Prometheus 2 does not know)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsServerConfig:
    """``host``: the address to bind (default 127.0.0.1, loopback only). ``port``: 9464 by default (the
    conventional port of OpenTelemetry's Prometheus exporter); 0 picks a free port."""

    host: str = "127.0.0.1"
    port: int = 9464

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError(f"MetricsServerConfig.port must be in [0, 65535], got {self.port}")


async def _metrics(request: web.Request) -> web.Response:
    body = request.app[METRICS_KEY].render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def _healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


def create_app(metrics: BotMetrics) -> web.Application:
    """``GET /metrics`` (exposition format) and ``GET /healthz`` (``ok``)."""
    app = web.Application()
    app[METRICS_KEY] = metrics
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/healthz", _healthz)
    return app


class MetricsServer:
    """Serves ``/metrics`` while started. Also an async context manager (start on enter, stop on exit)."""

    def __init__(self, metrics: BotMetrics, config: MetricsServerConfig | None = None) -> None:
        self.metrics = metrics
        self.config = config or MetricsServerConfig()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """``http://host:port/metrics`` once started."""
        if self.port is None:
            raise RuntimeError("MetricsServer is not started")
        return f"http://{self.config.host}:{self.port}/metrics"

    async def start(self) -> int:
        if self._runner is not None:
            raise RuntimeError("MetricsServer already started")
        runner = web.AppRunner(create_app(self.metrics), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])  # the bound (host, port): differs from config when port=0
        return self.port

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self.port = None

    async def __aenter__(self) -> MetricsServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
