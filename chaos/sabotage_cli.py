"""``mmbot chaos sabotage``: the general swarm against each realistic one-line bug; catch rates, readable in a CI log.

    mmbot chaos sabotage [--only NAME,...] [--seeds N] [--first-seed S] [--minutes M] [--jobs J] [--json F]

Prints its parameters first, then one block per sabotage as it finishes: catch rate (seeds with a new violation /
seeds), the invariants that fired, how many sessions the bug changed at all, and a replay line for the first
catching seed; then the control's failing seeds (seeds that fail without any bug never count as catches) and a
summary line. Plain lines, no tables to cut. Exit status 1 when a sabotage not marked ``expected_escape``
escapes every seed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from chaos.sabotage_mutations import select
from chaos.sabotage_suite import SabotageResult, measure


def replay_line(result: SabotageResult, minutes: float) -> str:
    seed = result.caught[0] if result.caught else result.seeds[0]
    return (f"mmbot chaos sabotage --only {result.mutation.name} --first-seed {seed} --seeds 1 "
            f"--minutes {minutes:g}")


def describe(result: SabotageResult, minutes: float) -> list[str]:
    """The block printed for one sabotage."""
    m = result.mutation
    verdict = "ESCAPED" if result.escaped else "caught"
    if result.escaped and m.expected_escape:
        verdict = "escaped (expected)"
    fired = ", ".join(f"{name} x{n}" for name, n in sorted(result.fired.items())) or "none"
    lines = [f"{m.name}: {verdict} {len(result.caught)}/{len(result.seeds)} seeds ({result.rate:.0%})",
             f"    bug: {m.description} [{m.path}]",
             f"    fired: {fired}; expected: {m.invariant}; sessions changed: {result.changed}/{len(result.seeds)}"]
    if m.expected_escape:
        lines.append(f"    marked expected_escape: {m.expected_escape}")
    if result.caught:
        lines.append(f"    caught on seeds {', '.join(map(str, result.caught[:12]))}"
                     f"{' ...' if len(result.caught) > 12 else ''}")
    if result.caught:
        seed = result.caught[0]
        lines += [f"    seed {seed}: {detail}" for detail in result.first_catch]
        lines.append(f"    seed {seed} digest {result.digests[seed]}")
    lines.append(f"    replay: {replay_line(result, minutes)}")
    return lines


def sabotage(
    only: Annotated[str | None, typer.Option(help="comma-separated sabotage names (default: all)")] = None,
    seeds: Annotated[int, typer.Option(min=1, help="general-swarm sessions per sabotage, one per seed")] = 40,
    first_seed: Annotated[int, typer.Option(help="the first seed")] = 0,
    minutes: Annotated[float, typer.Option(min=0.1, help="simulated minutes per session")] = 5.0,
    jobs: Annotated[int, typer.Option(min=1, help="local worker processes per swarm")] = 2,
    summary_json: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
) -> None:
    """Run the general all-fault swarm against each sabotage, each on its own mutated copy of the code."""
    try:
        mutations = select(only)
    except KeyError as error:
        raise typer.BadParameter(str(error.args[0]), param_hint="--only") from None
    typer.echo(f"sabotage: {len(mutations)} mutations, seeds {first_seed}..{first_seed + seeds - 1}, "
               f"{minutes:g} simulated minutes each, all fault kinds, {jobs} jobs")
    started = time.perf_counter()
    control, results = measure(mutations, range(first_seed, first_seed + seeds), minutes=minutes, jobs=jobs,
                               on_result=lambda r: typer.echo("\n".join(describe(r, minutes))))
    wall_s = time.perf_counter() - started
    failing = [f"{o.seed} ({', '.join(o.invariants)})" for o in control if o.invariants]
    typer.echo(f"control (no sabotage): {len(failing)}/{len(control)} seeds fail: {'; '.join(failing) or 'none'}")
    escaped = [r.mutation.name for r in results if r.escaped and not r.mutation.expected_escape]
    expected = [r.mutation.name for r in results if r.escaped and r.mutation.expected_escape]
    caught = sum(not r.escaped for r in results)
    typer.echo(f"{caught}/{len(results)} sabotages caught in {wall_s:.0f}s wall; escaped: "
               f"{', '.join(escaped) or 'none'}; expected escapes: {', '.join(expected) or 'none'}")
    if summary_json is not None:
        payload = {"seeds": seeds, "first_seed": first_seed, "minutes": minutes, "wall_s": wall_s,
                   "control": [{"seed": o.seed, "invariants": list(o.invariants), "digest": o.digest}
                               for o in control],
                   "sabotages": [r.as_dict() for r in results]}
        summary_json.write_text(json.dumps(payload, indent=2) + "\n")
    if escaped:
        raise typer.Exit(1)
