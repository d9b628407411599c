"""``mmbot chaos``: run a seeded swarm of checked sessions, shrink what fails, print replayable commands.

    mmbot chaos --seeds 1000 [--faults partition,clock_skew] [--minutes 10] [--jobs N] [--scheduler ADDR] [--json F]
                [--recheck-every 20]
    mmbot chaos replay --seed S --minutes M (--scenario FILE | --faults K,...)

The swarm prints its parameters (and the code fingerprint) first, shows a progress bar, then a table per fault
kind (drawn / hit / broke, reactions) with the coverage line (median quoting fraction, hit targets) and, for each
failing seed, its (shrunk) schedule, the broken invariants and a one-line replay command; the shrunk schedule is
written to ``--corpus`` headed by the code fingerprint (kept, so failing seeds are re-run on every change). Exit
status 1 when any invariant broke (a seed re-run for determinism with another digest: ``12.determinism``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_support import progress
from bot.core.console import cli_console
from chaos.fingerprint import SHORT, code_fingerprint
from chaos.report import as_json, corpus_text, fault_table, reaction_table, replay_command
from chaos.runner import SessionResult, map_ordered, recheck_specs, run_spec, run_swarm
from chaos.sabotage import SABOTAGES
from chaos.sabotage_cli import sabotage as sabotage_command
from chaos.shrink import shrink
from chaos.spec import SessionSpec, parse_kinds
from exchange_sim.faults.scenario import ScenarioError, load_scenario

chaos_app = typer.Typer(help="The chaos gate: seeded swarms of checked sessions under drawn faults.",
                        invoke_without_command=True, no_args_is_help=False,
                        pretty_exceptions_show_locals=False)
console = cli_console()
chaos_app.command("sabotage")(sabotage_command)  # realistic one-line bugs vs the general swarm (chaos/sabotage_cli)


def _kinds(faults: str | None) -> tuple[str, ...]:
    try:
        return tuple(k.value for k in parse_kinds(faults))
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--faults") from None


def _check_sabotage(sabotage: str | None) -> None:
    if sabotage is not None and sabotage not in SABOTAGES:
        raise typer.BadParameter(f"unknown sabotage {sabotage!r}; known: {', '.join(SABOTAGES)}",
                                 param_hint="--sabotage")


def _report_failures(failing: list[SessionResult], corpus: Path, fingerprint: str) -> list[tuple[SessionResult, str]]:
    """Write each failing schedule to the corpus and print it with its violations and replay command."""
    rows: list[tuple[SessionResult, str]] = []
    if failing:
        corpus.mkdir(parents=True, exist_ok=True)
    for result in failing:
        path = corpus / f"seed-{result.spec.seed}.yaml"
        path.write_text(corpus_text(result, fingerprint))
        replay = replay_command(result, path)
        rows.append((result, replay))
        console.print(f"[red]seed {result.spec.seed}[/red]: {', '.join(result.invariants)}")
        for fault in result.schedule:
            console.print(f"    {json.dumps(fault, sort_keys=True)}")
        for violation in result.violations[:5]:
            console.print(f"    {violation['invariant']} at {violation['t_s']:.3f}s: {violation['detail']}")
        console.print(f"    replay: {replay}")
    return rows


@chaos_app.callback()
def swarm(
    ctx: typer.Context,
    seeds: Annotated[int, typer.Option(min=1, help="sessions, one per seed")] = 200,
    first_seed: Annotated[int, typer.Option(help="the first seed (seeds first_seed .. first_seed+seeds-1)")] = 0,
    faults: Annotated[str | None, typer.Option(help="comma-separated fault kinds to draw from (default: all)")] = None,
    minutes: Annotated[float, typer.Option(min=0.1, help="simulated minutes per session")] = 10.0,
    jobs: Annotated[int, typer.Option(min=1, help="local worker processes")] = os.cpu_count() or 1,
    scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address (instead of local processes)")] = None,
    summary_json: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
    corpus: Annotated[Path, typer.Option(help="directory for the shrunk schedules of failing seeds")] = Path(
        "chaos-corpus"),
    shrink_failures: Annotated[bool, typer.Option("--shrink/--no-shrink", help="minimise failing schedules")] = True,
    recheck_every: Annotated[int, typer.Option(
        min=0, help="re-run every seed divisible by this and compare digests (12.determinism); 0: none")] = 20,
    sabotage: Annotated[str | None, typer.Option(hidden=True, help="test only: switch a safety mechanism off")] = None,
    market: Annotated[str | None, typer.Option(
        help="replay:PATH[,PATH...]: run on recorded markets (sessions last at most the recording); "
             "profile:NAME: the synthetic market of a fitted profile (binance-btcusdt, ...)")] = None,
) -> None:
    """Run the swarm (module docstring)."""
    if ctx.invoked_subcommand is not None:
        return
    kinds = _kinds(faults)
    _check_sabotage(sabotage)
    fingerprint = code_fingerprint()
    specs = [SessionSpec(seed=s, minutes=minutes, kinds=kinds, sabotage=sabotage, market=market)
             for s in range(first_seed, first_seed + seeds)]
    rechecks = len(recheck_specs(specs, recheck_every))
    console.print(f"seeds {first_seed}..{first_seed + seeds - 1}, {minutes:g} simulated minutes each, faults "
                  f"{','.join(kinds) or 'all'}, {'scheduler ' + scheduler if scheduler else f'{jobs} jobs'}, "
                  f"{rechecks} re-run for determinism, code {fingerprint[:SHORT]}")
    started = time.perf_counter()
    with progress(console, "sessions", len(specs) + rechecks, "sessions") as update:  # ETA; plain lines in a log
        done = [0]

        def advance(result: SessionResult) -> None:
            done[0] += 1
            update(done[0])

        results = run_swarm(specs, jobs=jobs, scheduler=scheduler, progress=advance, recheck_every=recheck_every)
        failing = [r for r in results if not r.ok]
        if failing and shrink_failures:
            console.print(f"shrinking {len(failing)} failing session(s)")
            failing = map_ordered(shrink, failing, jobs=jobs, scheduler=scheduler)
    wall_s = time.perf_counter() - started
    console.print(fault_table(results))
    console.print(reaction_table(results))
    rows = _report_failures(failing, corpus, fingerprint)
    console.print(f"{len(results)} sessions in {wall_s:.1f}s wall ({wall_s / len(results):.2f}s each), "
                  f"{len(failing)} failing")
    if summary_json is not None:
        command = "mmbot " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        payload = as_json(results, rows, command=command, minutes=minutes, wall_s=wall_s, fingerprint=fingerprint)
        summary_json.write_text(json.dumps(payload, indent=2) + "\n")
    if failing:
        raise typer.Exit(1)


@chaos_app.command("replay")
def replay(
    seed: Annotated[int, typer.Option(help="the session's seed")],
    minutes: Annotated[float, typer.Option(min=0.1, help="simulated minutes")] = 10.0,
    faults: Annotated[str | None, typer.Option(help="fault kinds the seed's draw used (default: all)")] = None,
    scenario: Annotated[Path | None, typer.Option(help="explicit fault schedule (YAML), e.g. a shrunk one")] = None,
    summary_json: Annotated[Path | None, typer.Option("--json", help="write the result as JSON here")] = None,
    sabotage: Annotated[str | None, typer.Option(hidden=True, help="test only: switch a safety mechanism off")] = None,
    market: Annotated[str | None, typer.Option(
        help="replay:PATH[,PATH...]: run on recorded markets (sessions last at most the recording); "
             "profile:NAME: the synthetic market of a fitted profile (binance-btcusdt, ...)")] = None,
) -> None:
    """Run one session exactly as the swarm did; print its violations and event-log digest."""
    _check_sabotage(sabotage)
    console.print(f"seed {seed}")
    if scenario is not None:
        try:
            load_scenario(scenario)  # a missing or malformed file: one line naming it, exit 2
        except ScenarioError as error:
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(2) from None
    spec = SessionSpec(seed=seed, minutes=minutes, kinds=_kinds(faults), sabotage=sabotage, market=market,
                       scenario_yaml=scenario.read_text() if scenario is not None else None)
    result = run_spec(spec)
    for fault in result.schedule:
        console.print(f"    {json.dumps(fault, sort_keys=True)}")
    for violation in result.violations:
        console.print(f"{violation['invariant']} at {violation['t_s']:.3f}s: {violation['detail']}")
    console.print(f"digest {result.digest}")
    console.print(f"code fingerprint {result.fingerprint}")
    if summary_json is not None:
        payload = {"seed": seed, "ok": result.ok, "invariants": list(result.invariants), "digest": result.digest,
                   "violations": list(result.violations), "reactions": result.reactions,
                   "spec": dataclasses.asdict(spec), "fingerprint": result.fingerprint,
                   "coverage": result.coverage.as_dict() if result.coverage is not None else None}
        summary_json.write_text(json.dumps(payload, indent=2) + "\n")
    if not result.ok:
        raise typer.Exit(1)
