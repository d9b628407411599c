"""A real Prometheus scrapes BotMetrics' /metrics: every metric has series, every rule and panel query evaluates.

Starts the ``prometheus`` binary on 127.0.0.1 (a free port, a temporary TSDB) with a config that scrapes a
``MetricsServer`` this test runs, every second, and loads docs/ops/alerts.yml and recording.yml. Every wait is
bounded (``DEADLINE_S``); the process is always terminated. Skipped when the binary is missing (CI installs the
Debian ``prometheus`` package).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import yaml

from bot.metrics.http import MetricsServer, MetricsServerConfig
from bot.metrics.registry import BotMetrics
from tests.metrics_support import (
    ALERTS,
    DASHBOARDS,
    RECORDING,
    dashboard_expressions,
    exported_sample_names,
    feed_everything,
    rule_expressions,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(shutil.which("prometheus") is None,
                       reason="prometheus binary not on PATH (CI installs the Debian 'prometheus' package)"),
]

DEADLINE_S = 300.0  # a bound on waiting, not on speed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Prom:
    """The HTTP API of a running Prometheus."""

    def __init__(self, http: aiohttp.ClientSession, base: str) -> None:
        self.http, self.base = http, base

    async def query(self, expr: str) -> dict[str, Any]:
        async with self.http.get(f"{self.base}/api/v1/query", params={"query": expr}) as response:
            body: dict[str, Any] = await response.json()
            return body

    async def until(self, what: str, check: Any) -> Any:
        """Poll ``check()`` (async, returns a value or None) until it returns a value or the deadline passes."""
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            try:
                value = await check()
            except aiohttp.ClientError:
                value = None
            if value:
                return value
            await asyncio.sleep(0.5)
        pytest.fail(f"Prometheus: {what} not within {DEADLINE_S:.0f} s")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def prometheus(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Prom, BotMetrics]]:
    """One Prometheus for the module (starting it and waiting for scrapes is the slow part)."""
    tmp_path = tmp_path_factory.mktemp("prometheus")
    metrics = BotMetrics()
    feed_everything(metrics)
    server = MetricsServer(metrics, MetricsServerConfig(port=0))
    target_port = await server.start()
    web_port = free_port()
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS), str(RECORDING)],
        "scrape_configs": [{"job_name": "mmbot", "static_configs": [{"targets": [f"127.0.0.1:{target_port}"]}]}],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{web_port}"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            prom = Prom(http, f"http://127.0.0.1:{web_port}")

            async def ready() -> bool:
                if process.poll() is not None:
                    pytest.fail(f"prometheus exited: {(tmp_path / 'prometheus.log').read_text()[-2000:]}")
                async with http.get(f"{prom.base}/-/ready") as response:
                    return response.status == 200

            await prom.until("ready", ready)
            yield prom, metrics
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()
        await server.stop()


async def test_every_exported_series_reaches_prometheus_and_every_expression_evaluates(
    prometheus: tuple[Prom, BotMetrics],
) -> None:
    prom, metrics = prometheus
    expected = exported_sample_names(metrics)

    async def scraped_names() -> set[str] | None:
        body = await prom.query('group by (__name__) ({__name__=~"mmbot_.+", job="mmbot"})')
        names = {series["metric"]["__name__"] for series in body["data"]["result"]}
        return names if names >= expected else None

    await prom.until("every exported metric scraped", scraped_names)

    async def enough_samples_for_rates() -> bool:  # rate() needs two scrapes in its window
        body = await prom.query('count_over_time(mmbot_venue_up{job="mmbot"}[1m])')
        return bool(body["data"]["result"]) and float(body["data"]["result"][0]["value"][1]) >= 3

    await prom.until("three scrapes", enough_samples_for_rates)

    expressions = {f"alert {k}": v for k, v in rule_expressions(ALERTS).items()}
    expressions |= {f"record {k}": v for k, v in rule_expressions(RECORDING).items()}
    for path in DASHBOARDS:
        expressions |= {f"{path.name}: {k}": v.replace("$symbol", ".*")
                        for k, v in dashboard_expressions(path).items()}
    failures = {}
    for name, expr in expressions.items():
        body = await prom.query(expr)
        if body.get("status") != "success":
            failures[name] = body.get("error")
    assert not failures

    # the cycle p95 of the one observation (12 ms) lands in its bucket (10, 25]
    body = await prom.query('histogram_quantile(0.95, sum by (le) (mmbot_quote_cycle_latency_ms_bucket))')
    assert 10 < float(body["data"]["result"][0]["value"][1]) <= 25


async def test_recording_rules_publish_the_seed_audit_names(prometheus: tuple[Prom, BotMetrics]) -> None:
    prom, _ = prometheus

    async def audit_series() -> dict[str, int] | None:
        counts = {}
        for name in ("latency_breakdown_ms_bucket", "guard_trigger_details", "adaptive_spread_score"):
            counts[name] = len((await prom.query(name))["data"]["result"])
        return counts if all(counts.values()) else None

    counts = await prom.until("seed-audit recording rules evaluated", audit_series)
    assert counts["adaptive_spread_score"] == 4  # vol, liq, lat, pnl for BTCUSDT
    components = await prom.query("count by (component) (latency_breakdown_ms_count)")
    assert {r["metric"]["component"] for r in components["data"]["result"]} >= {"guards", "spread", "skew",
                                                                                 "queue", "rest", "ws"}
