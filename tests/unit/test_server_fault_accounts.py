"""The wire server names the account its fault hits and Retry-After rejects bind, as the in-process path does, so
the checker judges both transports alike (transport parity seed 6)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from exchange_sim.eventlog import read_events
from exchange_sim.faults import Fault, FaultKind, Scenario
from tests.server_support import running_server

RATE_LIMITED = Fault(FaultKind.RATE_LIMIT, "rest", 0.0, 60.0, {"weight_limit": 0.0})  # every request refused


def test_a_rate_limited_public_request_binds_the_account_signing_from_its_ip(tmp_path: Path) -> None:
    """Binance counts request weight per IP: a 429 on the public depth endpoint blocks the account that signs from
    that IP. Logged without the account, the checker never saw the Retry-After during which the bot could not
    cancel, and judged its stop as if it could (parity seed 6, 13.closed_at_end on loopback only)."""
    log = tmp_path / "events.jsonl"
    statuses: list[int] = []

    async def run() -> None:
        async with running_server(scenario=Scenario((RATE_LIMITED,)), log_path=log) as server:
            depth = "symbol=BTCUSDT&limit=5"
            for call in (server.get("/api/v3/depth", depth, api_key=None),  # no account known yet on this IP
                         server.signed("GET", "/api/v3/account", {}),  # the demo account signs from it
                         server.get("/api/v3/depth", depth, api_key=None)):
                status, _, _ = await call
                statuses.append(status)

    asyncio.run(run())
    events: list[dict[str, Any]] = [e for e in read_events(log) if e["k"] in ("fault_hit", "reject")]
    assert statuses[0] == 429 and all(s in (429, 418) for s in statuses)
    hits = [e for e in events if e["k"] == "fault_hit"]
    assert [(h["op"], h.get("a")) for h in hits] == [("depth", None), ("account", "demo"), ("depth", "demo")]
    rejects = [e for e in events if e["k"] == "reject"]
    assert [(r["op"], r["a"], r["http"]) for r in rejects] == [("account", "demo", statuses[1]),
                                                             ("depth", "demo", statuses[2])]
    assert all(r["ra_ms"] >= 1_000 and r["rcv"] >= r["t"] for r in rejects)
