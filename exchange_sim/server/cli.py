"""Run the wire server: `python -m exchange_sim.server --port 8765 --seed 7` or `mmbot exchange serve`.

Prints the seed first, then the address actually bound (``--port 0`` picks a free port), the demo API key and
secret, the accounts of an ``--accounts`` file (key and name; a secret read from the environment is never
printed) and the scenario's faults. Serves on 127.0.0.1 only, until SIGINT (Ctrl-C) or SIGTERM, then shuts down
cleanly (exit 0).

Errors: ``ServeError`` with one line naming the file, field, symbol or port (a missing or malformed scenario or
accounts file, an unknown symbol, a port in use); both command lines print it and exit with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import signal
import sys
from pathlib import Path

from aiohttp import web

from exchange_sim.faults.model import Scenario
from exchange_sim.faults.scenario import ScenarioError, load_scenario
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.symbols import DEFAULT_SYMBOLS
from exchange_sim.server.app import create_app
from exchange_sim.server.config import (
    DEMO_ACCOUNT,
    DEMO_API_KEY,
    DEMO_SECRET,
    LOOPBACK,
    AccountConfig,
    AccountsFileError,
    ServerConfig,
    load_accounts,
)

__all__ = ["ServeError", "main", "serve", "server_config"]


class ServeError(Exception):
    """The server cannot start; the message is one line naming what to fix."""


def server_config(port: int, seed: int, scenario: Path | None, symbols: list[str], log: Path | None,
                  accounts: Path | None = None) -> ServerConfig:
    """The ``ServerConfig`` of the command line's options, or ``ServeError`` naming the bad one."""
    names = tuple(s.strip().upper() for s in symbols if s.strip())
    unknown = [s for s in names if s not in DEFAULT_SYMBOLS]
    if unknown or not names:
        raise ServeError(f"--symbols: unknown symbol(s) {', '.join(unknown) or repr(','.join(symbols))}; "
                         f"choose from {', '.join(sorted(DEFAULT_SYMBOLS))}")
    try:
        faults = load_scenario(scenario) if scenario is not None else Scenario()
        extra = load_accounts(accounts, os.environ) if accounts is not None else ()
        return ServerConfig(port=port, seed=seed, market=MarketConfig(symbols=names), scenario=faults,
                            log_path=log, accounts=(DEMO_ACCOUNT, *extra))
    except (ScenarioError, AccountsFileError) as error:
        raise ServeError(str(error)) from None


def _describe(account: AccountConfig) -> str:
    balances = ", ".join(f"{asset} {amount:f}" for asset, amount in sorted(account.balances.items())) or "none"
    return f"account {account.name}: api key {account.api_key}  balances {balances}"


def serve(port: int, seed: int, scenario: Path | None, symbols: list[str], log: Path | None,
          accounts: Path | None = None) -> None:
    """Serve the simulated exchange on 127.0.0.1:``port`` (0: a free one, printed) in real time until SIGINT or
    SIGTERM, then shut down cleanly."""
    config = server_config(port, seed, scenario, symbols, log, accounts)
    print(f"seed {seed}", flush=True)
    try:
        asyncio.run(_serve(config))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise ServeError(f"--port {port}: {LOOPBACK}:{port} is already in use; stop what listens there or "
                             "choose another port (0 picks a free one)") from None
        if error.errno == errno.EACCES:
            raise ServeError(f"--port {port}: not allowed to listen on {LOOPBACK}:{port} (ports below 1024 need "
                             "privileges); choose another port") from None
        raise


async def _serve(config: ServerConfig) -> None:
    """Bind, print the address actually bound and the accounts, serve until a stop signal, clean up."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(create_app(config))
    await runner.setup()
    try:
        site = web.TCPSite(runner, LOOPBACK, config.port)
        await site.start()
        bound = runner.addresses[0][1]
        print(f"exchange_sim server on http://{LOOPBACK}:{bound} (REST /api/v3, streams /ws /stream, "
              "WS API /ws-api/v3)")
        print(f"demo account: api key {DEMO_API_KEY}  secret {DEMO_SECRET}")
        for account in config.accounts[1:]:
            print(_describe(account))
        for fault in config.scenario.faults:
            print(f"fault {fault.kind.value} on {fault.target} from {fault.start_s:g}s for {fault.duration_s:g}s")
        sys.stdout.flush()
        await stop.wait()
        print("stopping", flush=True)
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m exchange_sim.server", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scenario", type=Path, default=None)
    parser.add_argument("--symbols", default="BTCUSDT")
    parser.add_argument("--log", type=Path, default=None)
    parser.add_argument("--accounts", type=Path, default=None,
                        help="YAML/JSON accounts file (exchange_sim.server.config)")
    args = parser.parse_args(argv)
    try:
        serve(args.port, args.seed, args.scenario, args.symbols.split(","), args.log, args.accounts)
    except ServeError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
