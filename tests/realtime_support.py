"""Helpers for real-time e2e tests: the unchanged bot through ``BinanceConnector`` against a loopback server."""

from __future__ import annotations

import io
import logging
from typing import Any

from bot.config import BotConfig, load_config
from bot.connectors.binance.config import BinanceConfig, Credentials, Endpoints, SecretStr
from bot.connectors.binance.connector import BinanceConnector
from bot.execution.state import StateStore
from bot.live import LiveSummary, run_realtime
from exchange_sim.engine.types import decimal_to_atoms
from exchange_sim.server import DEMO_API_KEY, DEMO_SECRET
from exchange_sim.server.config import DEMO_ACCOUNT
from exchange_sim.server.state import ServerState
from harness.sim_account import priced_for_sim
from tests.server_support import Server

ACCOUNT = DEMO_ACCOUNT.name


class ServerLogRecorder:
    """The bot's records written into the server's event log at the server's clock (what the checker reads)."""

    enabled = True

    def __init__(self, state: ServerState, account: str = ACCOUNT) -> None:
        self._state = state
        self._account = account

    def record(self, kind: str, fields: dict[str, Any]) -> None:
        self._state.log.record(self._state.driver.now_us(), kind, {"a": self._account, **fields})


def connector(server: Server, *, api_key: str = DEMO_API_KEY, secret: str = DEMO_SECRET) -> BinanceConnector:
    port = int(server.base.rsplit(":", 1)[1])
    config = BinanceConfig(endpoints=Endpoints.local(port=port), name="binance-local", request_timeout_s=2.0)
    return BinanceConnector(config, Credentials(api_key=api_key, api_secret=SecretStr(secret)))


def bot_config() -> BotConfig:
    """The bundled config priced at the simulator's start prices: the local server's, so the checker's limits
    (``check_config_for``) convert the notional default as the bot does at the server's start."""
    return priced_for_sim(load_config(None))


def initial_atoms() -> dict[str, dict[str, int]]:
    return {ACCOUNT: {asset: decimal_to_atoms(v) for asset, v in DEMO_ACCOUNT.balances.items()}}


async def run_bot(server: Server, seconds: float, *, logs: io.StringIO | None = None, **kwargs: Any) -> LiveSummary:
    """Run the bot for ``seconds`` against ``server`` (in-memory state, no signal handlers, JSON logs to ``logs``)."""
    venue = kwargs.pop("venue", None) or connector(server)
    handler = logging.StreamHandler(logs if logs is not None else io.StringIO())
    store = StateStore(":memory:")
    try:
        return await run_realtime(bot_config(), venue, duration_s=seconds, store=store, log_handler=handler,
                                  handle_signals=False, on_summary=None, **kwargs)
    finally:
        store.close()
