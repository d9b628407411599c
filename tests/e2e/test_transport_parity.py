"""The same fault schedule through both transports gives the same invariant verdicts (issue 17, ADR 0014).

Each schedule runs twice with the unchanged bot and the one connector: over real loopback sockets against the
wire server in real time (``AiohttpTransport``, ``ServerFaults``), and in virtual time through the in-process
transport (``run_sim_session``, the ``FaultInjector``). Both apply the fault effects written once in
``exchange_sim.faults`` (``timing``, ``effects``, ``frames``). Both event logs are judged by the same checker with
the bot's configured limits.

The CI subset: three swarm seeds - ``draw_scenario(seed)`` over the kinds both transports carry (``paths``:
request, response and stream; market and process kinds act in process only), shifted past a warm-up so the bot
has started - each for ``SWARM_SECONDS`` (under a minute of CI in all; no assertion reads the wall clock). They
replace session 7's one hand-written schedule (partition, latency, feed gap, timeout after processing), whose
kinds they cover.

What must agree: the set of invariants broken (none, for a healthy bot); the schedule itself, i.e. every
fault's ``start`` and ``end`` records (id, kind, phase); that faults hit the bot's traffic and that the bot
traded, on both paths. What may differ, and is not compared (``MAY_DIFFER``): every timestamp and so the digest,
because on loopback requests and messages are timed by the wall clock and the socket stack and the market
advances with the wall clock; hence the market's path and its records, the bot's request and order sequence and
fills, which requests and messages a fault meets (``fault_hit`` records, the ``hits`` count and a trigger's
moment in ``fault`` records; each transport also draws toxicity from its own random streams).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from exchange_sim.checker import VenueState, check_session
from exchange_sim.eventlog import read_events
from exchange_sim.faults.model import CATALOGUE, FaultKind, Scenario
from exchange_sim.faults.paths import APPLIES, TRANSPORT_PATHS, WIRE
from exchange_sim.faults.scenario import draw_scenario
from harness.check_config import check_config_for
from harness.session import run_sim_session
from tests.realtime_support import ACCOUNT, ServerLogRecorder, bot_config, initial_atoms, run_bot
from tests.server_support import running_server

pytestmark = [pytest.mark.e2e]

MAY_DIFFER = {
    "every record": "t (wall clock on loopback), hence the event-log digest",
    "request, reject": "which requests, when (sent, rcv), their order and answers",
    "order, fill, trade, depth, regime": "the market's path and the bot's orders in it",
    "fault_hit": "which requests and messages a fault meets (traffic timing, each transport's own draws)",
    "fault": "hits, fired and the trigger moment (the start and end of each fault must agree)",
}
SWARM_SECONDS = 15.0
WARM_UP_S = 3.0  # the bot starts (rules, time sync, snapshot, user stream) before the first drawn fault
SWARM_SPAN_S = 10.0  # faults are drawn over this span after the warm-up (healed by 80 % of it)
SWARM_SEEDS = (0, 2, 3, 6, 9)  # between them: every kind the hand-written schedule of session 7 had, and more
WIRE_KINDS = tuple(k for k in CATALOGUE if APPLIES[k] <= TRANSPORT_PATHS[WIRE])


def swarm(seed: int) -> Scenario:
    """Swarm seed ``seed``'s schedule over the kinds both transports carry, after the warm-up."""
    drawn = draw_scenario(seed, SWARM_SPAN_S, WIRE_KINDS)
    return Scenario(tuple(dataclasses.replace(f, start_s=round(f.start_s + WARM_UP_S, 3)) for f in drawn.faults))


SCHEDULES: dict[str, Scenario] = {f"swarm_{seed}": swarm(seed) for seed in SWARM_SEEDS}
# Swarm seed 2 (partition both + reset_peer + stale_feed flushes + timeout_after_processing, 3-9 s) broke
# 14.one_per_intent over real sockets in two runs of two on the session-8 faults branch: a cancel lost upstream,
# its status queries lost too, and after the heal the bot placed the same BUY 100 @ 11998 again while the first
# still rested. Fixed in the bot (a doubtful order at a desired price counts as that quote); passes 3 of 3 since.
# Left out of CI: a rate-limit + 7 s clock-skew + reset schedule (3-19 s) that broke the same invariant once on
# loopback only (session 7), not reproduced since. Swarm seed 6 (rate-limit budgets up to 300 weight) was left out
# in session 8: over real sockets a 429 on the public depth endpoint blocks the bot's stop (Retry-After), and the
# wire server logged neither that reject nor its fault hit with the account, so the checker did not see the window
# and reported 13.closed_at_end (in process the reject carries the account and the stop is excused). Since session
# 9 the wire server names the account of a public request by its IP (the weight budget Binance keeps per IP) and
# logs the 429 as a reject with its Retry-After, as in process: seed 6 is back.


@dataclasses.dataclass(frozen=True)
class Run:
    """What one transport's run says: invariants broken, the schedule's lifecycle records, hits, orders placed."""

    broken: frozenset[str]
    lifecycle: frozenset[tuple[int, str, str]]
    hits: int
    placed: int


def _read(path: Path, broken: frozenset[str], account: str) -> Run:
    lifecycle: set[tuple[int, str, str]] = set()
    hits = placed = 0
    for event in read_events(path):
        kind = event["k"]
        if kind == "fault" and event.get("ph") in ("start", "end"):
            lifecycle.add((int(event["id"]), str(event["f"]), str(event["ph"])))
        hits += kind == "fault_hit"
        placed += kind == "order" and event.get("x") == "NEW" and event.get("a") == account
    return Run(broken, frozenset(lifecycle), hits, placed)


def _loopback(scenario: Scenario, seconds: float, path: Path) -> Run:
    async def run() -> Run:
        async with running_server(scenario=scenario, log_path=path) as server:
            summary = await run_bot(server, seconds, recorder=ServerLogRecorder(server.state))
            assert summary.orders["placed"] > 0
            venue_state = VenueState.capture(server.state.engine, [ACCOUNT], initial_atoms())
            config = bot_config()
            check = check_config_for(config, ACCOUNT, {s: server.state.spec(s).step_size for s in config.symbols})
        violations = check_session(read_events(path), venue_state, check)
        return _read(path, frozenset(v.invariant for v in violations), ACCOUNT)

    return asyncio.run(run())


def _in_process(scenario: Scenario, seconds: float, path: Path) -> Run:
    summary = run_sim_session(bot_config(), seed=7, hours=seconds / 3600.0, scenario=scenario, check=True,
                              log_path=path, timer=None)
    return _read(path, frozenset(v.invariant for v in summary.violations), bot_config().venue.account)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_in_process_and_loopback_runs_agree_on_every_invariant(name: str, tmp_path: Path) -> None:
    scenario = SCHEDULES[name]
    wire = _loopback(scenario, SWARM_SECONDS, tmp_path / "loopback.jsonl")
    sim = _in_process(scenario, SWARM_SECONDS, tmp_path / "in_process.jsonl")
    assert wire.broken == sim.broken, f"loopback broke {sorted(wire.broken)}, in-process {sorted(sim.broken)}"
    assert wire.broken == frozenset()  # a healthy bot keeps every invariant on both paths
    expected = {(i, f.kind.value, ph) for i, f in enumerate(scenario.faults) for ph in ("start", "end")}
    assert wire.lifecycle == sim.lifecycle == expected  # both ran the whole schedule
    assert wire.hits > 0 and sim.hits > 0  # the faults reached the bot's traffic on both paths
    assert wire.placed > 0 and sim.placed > 0


def test_the_swarm_subset_draws_only_kinds_both_transports_carry() -> None:
    covered = set().union(*(swarm(seed).kinds() for seed in SWARM_SEEDS))
    assert {FaultKind.PARTITION, FaultKind.LATENCY, FaultKind.FEED_GAP, FaultKind.TIMEOUT_AFTER_PROCESSING} <= covered
    for seed in SWARM_SEEDS:
        scenario = swarm(seed)
        assert scenario.faults and set(scenario.kinds()) <= set(WIRE_KINDS)
        assert min(f.start_s for f in scenario.faults) >= WARM_UP_S
        assert scenario.end_s <= WARM_UP_S + SWARM_SPAN_S < SWARM_SECONDS
