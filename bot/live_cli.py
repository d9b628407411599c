"""``mmbot run``: the bot in real time on the simulator's server (local), Binance Spot testnet, or mainnet.

Safety rules, checked before any connection is opened (a refusal sends nothing):

* ``--venue local`` talks to the ``exchange_sim`` server on 127.0.0.1 only, with its demo account keys unless
  ``MMBOT_API_KEY`` / ``MMBOT_API_SECRET`` are set;
* ``--venue binance-testnet`` needs ``MMBOT_API_KEY`` and ``MMBOT_API_SECRET`` (refused, naming them, otherwise);
* ``--venue binance`` (mainnet, real money) needs ``--i-understand-real-money`` AND a confirmation of the symbols
  and limits: ``--confirm`` equal to ``confirmation_text(config)`` (``BTCUSDT:max_notional=60000,...``), or the same
  text typed at an interactive prompt. Anything else is refused with the text to type.

Output: the summary (JSON) on stdout; on stderr the logs and the operator events (guard changes, quote pulls,
partitions) and a status line every ``--status-every`` seconds (position, PnL, open orders, guard state per
symbol), ISO-8601 UTC timestamps: plain lines (no colour, no width limit: they read the same in a CI log), or one
JSON object per line with ``--log-json``.

Exit codes: 0 after a stop by duration or signal, 1 when a task crashed, 2 for a refusal, a bad config or a
``--metrics-port`` already in use (checked before anything is sent; the default is ``MetricsServerConfig``'s 9464,
the port docs/ops scrapes).
"""

from __future__ import annotations

import asyncio
import errno
import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.config import BotConfig
from bot.config_cli import load_effective
from bot.connectors.binance.config import API_KEY_ENV, API_SECRET_ENV, BinanceConfig, Credentials, SecretStr
from bot.connectors.binance.connector import BinanceConnector
from bot.core.errors import BotError
from bot.execution.state import StateStore
from bot.live import run_realtime
from bot.metrics.http import MetricsServerConfig
from bot.metrics.logs_events import EventWriter
from bot.metrics.tracing import BotTracer, TracingConfig

__all__ = ["REAL_MONEY_FLAG", "confirmation_text", "register"]

REAL_MONEY_FLAG = "--i-understand-real-money"
VENUES = ("local", "binance-testnet", "binance")
LOCAL_HOST = "127.0.0.1"
_DEMO_KEY = "mmbot-demo-api-key"  # exchange_sim.server.config.DEMO_API_KEY (bot does not import the simulator)
_DEMO_SECRET = "mmbot-demo-secret"  # exchange_sim.server.config.DEMO_SECRET


def confirmation_text(config: BotConfig) -> str:
    """What an operator confirms before mainnet: every symbol with its hard inventory limit as configured, in base
    units (``max_inventory=1``) or as the notional converted at the venue's mid at start (``max_notional=60000``)."""
    inventory = config.risk.inventory
    return ",".join(
        f"{s}:max_notional={inventory.default_hard_max_quote.normalize():f}"
        if inventory.limit_source(s) == "default_hard_max_quote"
        else f"{s}:max_inventory={inventory.hard_max_for(s).normalize():f}" for s in config.symbols)


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"refused: {message}", err=True)
    return typer.Exit(2)


def _credentials(venue: str) -> Credentials:
    key, secret = os.environ.get(API_KEY_ENV, ""), os.environ.get(API_SECRET_ENV, "")
    if venue == "local" and not (key and secret):
        return Credentials(api_key=_DEMO_KEY, api_secret=SecretStr(_DEMO_SECRET))
    try:
        return Credentials.from_env()
    except BotError as error:
        raise _refuse(f"{error.message}; --venue {venue} reads the API key and secret from "
                      f"{API_KEY_ENV} and {API_SECRET_ENV}") from None


def _check_mainnet(config: BotConfig, real_money: bool, confirm: str | None) -> None:
    expected = confirmation_text(config)
    if not real_money:
        raise _refuse(f"--venue binance trades real money; pass {REAL_MONEY_FLAG} and confirm the symbols and "
                      f'limits with --confirm "{expected}"')
    if confirm is None and sys.stdin.isatty():
        confirm = typer.prompt(f'type "{expected}" to trade these symbols and limits with real money')
    if confirm is None or confirm.replace(" ", "") != expected:
        raise _refuse(f'the confirmation does not match the config; expected --confirm "{expected}"')


def _check_port_free(port: int) -> None:
    """Refuse (before any connection to the venue) when ``LOCAL_HOST:port`` cannot be bound for /metrics."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp's site binds: TIME_WAIT is free
        try:
            probe.bind((LOCAL_HOST, port))
        except OSError as error:
            why = "already in use" if error.errno == errno.EADDRINUSE else (error.strerror or str(error))
            raise _refuse(f"--metrics-port {port}: {LOCAL_HOST}:{port} {why}; choose another port "
                          "(0 picks a free one)") from None


def run(
    venue: Annotated[str, typer.Option(help="local (exchange_sim server), binance-testnet or binance")] = "local",
    port: Annotated[int, typer.Option(min=1, max=65535, help="local: the server's port on 127.0.0.1")] = 8765,
    config: Annotated[Path | None, typer.Option(help="bot config.yaml (default: the bundled one)")] = None,
    minutes: Annotated[float | None, typer.Option(min=0.01, help="stop after this many minutes")] = None,
    paper: Annotated[bool, typer.Option(help="paper mode: real market data, orders answered locally")] = False,
    symbols: Annotated[str | None, typer.Option(help="comma-separated symbols (override the config's)")] = None,
    metrics_port: Annotated[int, typer.Option(min=0, max=65535, help="/metrics on 127.0.0.1 (0: any port)")
                            ] = MetricsServerConfig().port,
    trace: Annotated[str, typer.Option(help="OpenTelemetry spans: none, console (stderr) or otlp")] = "none",
    trace_every: Annotated[int, typer.Option(min=1, help="trace one decided quote cycle in N")] = 1,
    otlp_endpoint: Annotated[str | None, typer.Option(help="OTLP collector URL (with --trace otlp)")] = None,
    state: Annotated[Path | None, typer.Option(help="order state file (default: the config's; local: memory)")] = None,
    real_money: Annotated[bool, typer.Option(REAL_MONEY_FLAG, help="required for --venue binance")] = False,
    confirm: Annotated[str | None, typer.Option(help="mainnet: the symbols and limits, e.g. BTCUSDT:max_notional=60000")
                       ] = None,
    status_every: Annotated[float, typer.Option(min=0, help="a status line every N seconds on stderr (0: none)")
                            ] = 30.0,
    log_json: Annotated[bool, typer.Option("--log-json", help="logs and events as one JSON object per line")
                        ] = False,
) -> None:
    """Run the bot in real time; Ctrl-C (SIGINT) or SIGTERM triggers the kill switch, then prints a summary."""
    if venue not in VENUES:
        raise _refuse(f"unknown venue {venue!r}; choose from {', '.join(VENUES)}")
    bot_config = load_effective(config, symbols)
    if venue == "binance":
        _check_mainnet(bot_config, real_money, confirm)
    credentials = _credentials(venue)
    _check_port_free(metrics_port)
    name = {"local": "local", "binance-testnet": "testnet", "binance": "mainnet"}[venue]
    binance_config = BinanceConfig.for_venue(name, host=LOCAL_HOST, port=port)  # type: ignore[arg-type]
    state_path = str(state) if state is not None else (":memory:" if venue == "local" else None)
    typer.echo(f"mmbot run: {venue}{' (paper)' if paper else ''} {binance_config.endpoints.rest_url}, symbols "
               f"{','.join(bot_config.symbols)}, key {credentials!r}", err=True)

    try:
        tracer = BotTracer(TracingConfig(exporter=trace, otlp_endpoint=otlp_endpoint,  # type: ignore[arg-type]
                                         sample_every=trace_every))
    except (ValueError, RuntimeError) as error:
        raise _refuse(f"--trace: {error}") from None

    async def main() -> int:
        connector = BinanceConnector(binance_config, credentials)
        store = StateStore(state_path) if state_path is not None else None
        try:
            summary = await run_realtime(
                bot_config, connector, duration_s=None if minutes is None else minutes * 60, paper=paper,
                metrics_port=metrics_port, secrets=[credentials.api_key, credentials.api_secret.get_secret_value()],
                store=store, tracer=tracer, log_json=log_json, events=EventWriter(sys.stderr, json_lines=log_json),
                status_every_s=status_every or None,
            )
        finally:
            tracer.shutdown()
            if store is not None:
                store.close()
        return 1 if summary.failed else 0

    try:
        code = asyncio.run(main())
    except BotError as error:
        typer.echo(f"error: {error.code.value}: {error.message}", err=True)
        raise typer.Exit(1) from None
    except OSError as error:  # the /metrics port taken between the check and the bind
        if error.errno != errno.EADDRINUSE:
            raise
        raise _refuse(f"--metrics-port {metrics_port}: {LOCAL_HOST}:{metrics_port} is already in use") from None
    raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    """Add ``mmbot run`` to the CLI."""
    app.command("run")(run)
