"""The fixed-seed chaos gate of CI: 100 drawn sessions of 10 simulated minutes, every invariant holding (but for
the open findings in ``KNOWN_FAILURES``, which must keep failing exactly as recorded until they are fixed).

The sessions run the production path (SQLite state store, default intervals), which costs about 1.7x the CPU of
the old in-memory, 4-cycles-a-second sessions once the bot quotes all session; CI therefore runs 100 seeds (was
200) to stay within its budget (docs/PERFORMANCE.md, "The chaos gate"). Every ``RECHECK_EVERY``-th seed runs
twice and must give the same digest (``12.determinism``).

The swarm is split into ``CHUNKS`` parametrised tests so pytest-xdist spreads it over its workers alongside the
rest of the suite (one test running its own process pool would compete with them for the same cores). A failing
chunk names every violation with its seed, invariant and the one-line command that replays that session.
Bigger swarms are ``chaos_deep`` (deselected by default; ``pytest -m chaos_deep chaos/test_swarm.py``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

from chaos.report import replay_command
from chaos.runner import SessionResult, run_swarm
from chaos.spec import SessionSpec

pytestmark = pytest.mark.chaos

CI_SEEDS = 100  # seeds 0..99: the CI gate
CI_MINUTES = 10.0
CHUNKS = 20  # parametrised chunks of CI_SEEDS // CHUNKS seeds each
RECHECK_EVERY = 20  # seeds 0, 20, 40, ... run twice: same digest or a 12.determinism violation
DEEP_SEEDS = 2_000  # the deep swarm: seeds CI_SEEDS .. CI_SEEDS + DEEP_SEEDS - 1

# Open findings of the gate on the bot (issue 16), each a real failure of the unmodified bot that the merged
# issue-16 swarm found and that is not fixed yet. Each seed must still break exactly these invariants (a strict
# expected failure): when a fix makes it pass, this test fails until the seed is removed here. Replay with
# ``mmbot chaos replay --seed S --minutes 10``; docs/PERFORMANCE.md ("The chaos gate") describes each.
KNOWN_FAILURES: dict[int, frozenset[str]] = {
    # a recoverable HARD (loss rate) that cannot recover: the bot holds inventory under HARD while the market moves
    # against it, so the loss-rate input never falls below SOFT and nothing unwinds (session 7, one connector)
    88: frozenset({"10.liveness"}),
    # the same class with SOFT at 0.2 of the hard limit (session 8, chaos.spec.SOFT_FRACTION): HARD on loss rate or
    # stale data while holding inventory (7, 13), and a latency HARD that does not clear (61)
    7: frozenset({"10.liveness"}),
    13: frozenset({"10.liveness"}),
    61: frozenset({"10.liveness"}),
}


def failure_report(results: Sequence[SessionResult]) -> str:
    """Every violation of ``results`` as ``seed S: invariant at t: detail`` with its replay command."""
    lines = []
    for result in results:
        if result.ok:
            continue
        replay = replay_command(result, None)
        for violation in result.violations:
            lines.append(f"seed {result.spec.seed}: {violation['invariant']} at {violation['t_s']:.3f}s: "
                         f"{violation['detail']}")
            lines.append(f"    replay: {replay}")
    failed = sum(not r.ok for r in results)
    return f"{failed} of {len(results)} sessions broke an invariant:\n" + "\n".join(lines)


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_ci_swarm_holds_every_invariant(chunk: int) -> None:
    per_chunk = CI_SEEDS // CHUNKS
    seeds = range(chunk * per_chunk, (chunk + 1) * per_chunk)
    results = run_swarm([SessionSpec(seed=seed, minutes=CI_MINUTES) for seed in seeds], recheck_every=RECHECK_EVERY)
    unexpected = [r for r in results if not r.ok and r.spec.seed not in KNOWN_FAILURES]
    assert not unexpected, failure_report(unexpected)
    for result in results:
        if result.spec.seed in KNOWN_FAILURES:
            assert set(result.invariants) == KNOWN_FAILURES[result.spec.seed], (
                f"seed {result.spec.seed} was a known failure ({sorted(KNOWN_FAILURES[result.spec.seed])}) and now "
                f"breaks {list(result.invariants) or 'nothing'}: update KNOWN_FAILURES\n" + failure_report([result]))
    assert all(r.digest for r in results)


@pytest.mark.chaos_deep
def test_deep_swarm_holds_every_invariant() -> None:
    specs = [SessionSpec(seed=seed, minutes=CI_MINUTES) for seed in range(CI_SEEDS, CI_SEEDS + DEEP_SEEDS)]
    results = run_swarm(specs, jobs=os.cpu_count() or 1, recheck_every=RECHECK_EVERY)
    assert all(r.ok for r in results), failure_report(results)


def test_a_failure_report_names_the_seed_the_invariant_and_the_replay_command() -> None:
    spec = SessionSpec(seed=42, minutes=10.0)
    failing = SessionResult(spec=spec, schedule=(), scenario_yaml="faults: []\n", digest="d",
                            violations=({"invariant": "8.hard_guard", "t_s": 12.5, "orders": [], "detail": "open"},))
    report = failure_report([failing])
    assert "seed 42: 8.hard_guard at 12.500s: open" in report
    assert "replay: mmbot chaos replay --seed 42 --minutes 10" in report
