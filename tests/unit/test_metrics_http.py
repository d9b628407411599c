"""MetricsServer: serves BotMetrics on 127.0.0.1 in the exposition format, starts and stops cleanly."""

from __future__ import annotations

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics.http import MetricsServer, MetricsServerConfig
from bot.metrics.registry import BotMetrics
from tests.metrics_support import feed_everything


async def test_scraping_metrics_returns_the_current_values() -> None:
    metrics = BotMetrics()
    feed_everything(metrics)
    async with MetricsServer(metrics, MetricsServerConfig(port=0)) as server, aiohttp.ClientSession() as http:
        assert server.url.startswith("http://127.0.0.1:")
        async with http.get(server.url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            first = await response.text()
        metrics.order_placed("BTCUSDT", "BUY")
        async with http.get(server.url) as response:
            second = await response.text()
    placed = 'mmbot_orders_placed_total{side="BUY",symbol="BTCUSDT"}'
    assert f"{placed} 1.0" in first
    assert f"{placed} 2.0" in second
    assert {f.name for f in text_string_to_metric_families(second)} >= {"mmbot_quote_cycle_latency_ms"}


async def test_healthz_answers_ok() -> None:
    async with (
        MetricsServer(BotMetrics(), MetricsServerConfig(port=0)) as server,
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{server.port}/healthz") as response,
    ):
        assert (response.status, await response.text()) == (200, "ok\n")


async def test_stop_closes_the_port_and_is_idempotent() -> None:
    server = MetricsServer(BotMetrics(), MetricsServerConfig(port=0))
    port = await server.start()
    await server.stop()
    await server.stop()
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ClientConnectionError):
            await http.get(f"http://127.0.0.1:{port}/metrics")
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url


async def test_starting_twice_is_refused() -> None:
    async with MetricsServer(BotMetrics(), MetricsServerConfig(port=0)) as server:
        with pytest.raises(RuntimeError, match="already started"):
            await server.start()


def test_config_binds_loopback_by_default_and_rejects_bad_ports() -> None:
    assert MetricsServerConfig().host == "127.0.0.1"
    with pytest.raises(ValueError, match="port"):
        MetricsServerConfig(port=70000)
