"""Shrinking: a failing fault schedule made minimal while the session still breaks the same invariant.

Greedy, bounded (``max_runs`` sessions): drop faults one at a time (keep a drop when the session still fails
with one of the original invariants), then halve each remaining fault's duration while it still fails. The
session's seed is kept, so the market and latencies are the same; the result is an explicit scenario (YAML) whose
replay is ``mmbot chaos replay --seed S --minutes M --scenario FILE``. A ``12.determinism`` violation (two runs of
the same spec disagreed) is not a property of the schedule, so it is never shrunk for: a result with nothing
else broken keeps its whole schedule, written out explicitly.
"""

from __future__ import annotations

import dataclasses

from chaos.runner import SessionResult, run_spec
from exchange_sim.faults import Fault, Scenario, to_yaml

MAX_RUNS = 24  # sessions one shrink may spend
MIN_DURATION_S = 1.0  # durations are not halved below this
UNSHRINKABLE = frozenset({"12.determinism"})  # invariants one re-run cannot reproduce


def shrink(result: SessionResult, *, max_runs: int = MAX_RUNS) -> SessionResult:
    """The smallest failing variant of ``result``'s schedule found within ``max_runs`` sessions."""
    if result.ok:
        return result
    wanted = set(result.invariants) - UNSHRINKABLE
    best = result
    faults = list(result.spec.scenario().faults)
    runs = 0 if wanted else max_runs

    def attempt(candidate: list[Fault]) -> SessionResult | None:
        nonlocal runs
        runs += 1
        spec = dataclasses.replace(result.spec, scenario_yaml=to_yaml(Scenario(tuple(candidate))))
        outcome = run_spec(spec)
        return outcome if wanted & set(outcome.invariants) else None

    i = 0
    while i < len(faults) and runs < max_runs:
        trial = attempt(faults[:i] + faults[i + 1:])
        if trial is not None:
            faults, best = faults[:i] + faults[i + 1:], trial
        else:
            i += 1
    for i in range(len(faults)):
        while runs < max_runs and faults[i].duration_s / 2 >= MIN_DURATION_S:
            halved = dataclasses.replace(faults[i], duration_s=round(faults[i].duration_s / 2, 3))
            trial = attempt([*faults[:i], halved, *faults[i + 1:]])
            if trial is None:
                break
            faults[i], best = halved, trial
    if best is result:  # nothing dropped: still report the schedule explicitly
        spec = dataclasses.replace(result.spec, scenario_yaml=to_yaml(Scenario(tuple(faults))))
        best = dataclasses.replace(result, spec=spec)
    kept = tuple(v for v in result.violations if v["invariant"] in UNSHRINKABLE and v not in best.violations)
    return dataclasses.replace(best, violations=(*best.violations, *kept)) if kept else best
