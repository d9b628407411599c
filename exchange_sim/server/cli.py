"""Run the wire server: `python -m exchange_sim.server --port 8765 --seed 7` or `mmbot exchange serve`.

Prints the seed first, then the address, the demo API key and secret, and the scenario's faults. Serves on
127.0.0.1 only, until interrupted.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aiohttp import web

from exchange_sim.faults.model import Scenario
from exchange_sim.faults.scenario import load_scenario
from exchange_sim.market.config import MarketConfig
from exchange_sim.server.app import create_app
from exchange_sim.server.config import DEMO_API_KEY, DEMO_SECRET, LOOPBACK, ServerConfig


def serve(port: int, seed: int, scenario: Path | None, symbols: list[str], log: Path | None) -> None:
    """Serve the simulated exchange on 127.0.0.1:``port`` in real time until interrupted."""
    faults = load_scenario(scenario) if scenario is not None else Scenario()
    config = ServerConfig(port=port, seed=seed, market=MarketConfig(symbols=tuple(s.upper() for s in symbols)),
                          scenario=faults, log_path=log)
    print(f"seed {seed}")
    print(f"exchange_sim server on http://{LOOPBACK}:{port} (REST /api/v3, streams /ws /stream, WS API /ws-api/v3)")
    print(f"demo account: api key {DEMO_API_KEY}  secret {DEMO_SECRET}")
    for fault in faults.faults:
        print(f"fault {fault.kind.value} on {fault.target} from {fault.start_s:g}s for {fault.duration_s:g}s")
    web.run_app(create_app(config), host=LOOPBACK, port=port, print=None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m exchange_sim.server", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--scenario", type=Path, default=None)
    parser.add_argument("--symbols", default="BTCUSDT")
    parser.add_argument("--log", type=Path, default=None)
    args = parser.parse_args(argv)
    serve(args.port, args.seed, args.scenario, [s for s in args.symbols.split(",") if s], args.log)

