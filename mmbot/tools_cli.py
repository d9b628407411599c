"""``mmbot report | regress | calibrate | tools soak|profile|drift``: the analysis commands, registered on the app.

``register(app, runner, load_raw)`` adds the commands; ``runner`` runs one session from plain data (the
composition root passes ``harness.lab.run_point``) and ``load_raw`` loads a config file (None: the bundled one) as a
JSON-ready mapping. Exit codes: 0 pass, 1 a gate failed or an anomaly/drift alarm of error severity, 2 bad input.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.table import Table

from bot.cli_support import fail, session_counter
from bot.core.console import cli_console
from bot.core.errors import BotError
from exchange_sim.market.profile import find_profile
from exchange_sim.replay.source import load_replay
from harness.tools import SessionRunner
from harness.tools.calibrate import DEFAULT_GRID, grid_search, holdout, successive_halving, with_params
from harness.tools.drift import detect_drift
from harness.tools.profile import hot_spots, profile_session
from harness.tools.regress import DEFAULT_HOURS, DEFAULT_SEEDS, REGIMES, run_regression
from harness.tools.soak import analyse_soak
from reports.baseline import DEFAULT_BASELINE_PATH, Baseline, build_baseline, load_baseline, merge_baseline
from reports.calibration_report import render_calibration_report
from reports.eventseries import iter_events
from reports.rundir import RunDir
from reports.session_report import render_session_report

__all__ = ["register"]

console = cli_console()
ConfigLoader = Callable[[Path | None], dict[str, Any]]


def _ints(text: str, option: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise fail(f"{option}: comma-separated integers expected, got {text!r}") from None
    if not values:
        raise fail(f"{option}: at least one seed is needed")
    return values


def _names(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = [n for n in names if n not in REGIMES and find_profile(n) is None]  # or a fitted market profile
    if unknown or not names:
        raise fail(f"--regimes: unknown regime(s) {', '.join(unknown) or repr(text)}; choose from {', '.join(REGIMES)}")
    return names


def _baseline(path: Path | None) -> Baseline | None:
    try:
        return load_baseline(path)
    except ValueError as error:
        raise fail(str(error)) from None


def _raw(load_raw: ConfigLoader, path: Path | None) -> dict[str, Any]:
    try:
        return load_raw(path)
    except BotError as error:
        raise fail(f"config: {error.message}") from None


def _command() -> str:
    return "mmbot " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def _open_run(run_dir: Path) -> RunDir:
    try:
        return RunDir.open(run_dir)
    except FileNotFoundError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from None


def _report(run_dir: Path, output: Path | None, baseline_path: Path | None) -> None:
    """Render a run directory to one self-contained HTML file."""
    run = _open_run(run_dir)
    baseline = _baseline(baseline_path)
    path = render_session_report(run.path, output, baseline=baseline)
    console.print(f"report: {path}")


def _write_json(path: Path | None, payload: Mapping[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def _regress_table(results: list[Any], mode: str) -> Table:
    where = "sim: latency is rest_ms p95 on the virtual clock" if mode == "sim" else mode
    table = Table(title=f"regression gates ({where})")
    for col in ("regime", "net_bps (mean)", "floor", "latency p95 ms", "slippage bps", "gates", "drift"):
        table.add_column(col, justify="right")
    for r in results:
        g = {x.name: x for x in r.gates}
        table.add_row(r.regime, f"{r.mean['net_bps']:.2f}", f"{g['net_bps'].limit:.2f}",
                      f"{r.mean['latency_p95_ms']:.1f}", f"{r.mean['slippage_bps']:.2f}",
                      "[green]PASS[/green]" if r.passed else "[red]FAIL[/red]",
                      "no baseline entry" if r.baseline_missing else
                      ", ".join(f"s{seed}:{d.metric} {d.status}" for seed, d in r.flagged) or "-")
    return table


def _market_regimes(market: str | None, regimes: str) -> list[str]:
    """``--market replay:PATH[,PATH...]``: the recording(s) as the one regime (checked now, loaded per worker);
    otherwise the ``--regimes`` names."""
    if market is None:
        return _names(regimes)
    try:
        load_replay(market)  # a bad spec or file is one line now, not a traceback in a worker
    except ValueError as error:
        raise fail(f"--market: {error}") from None
    return [market]


def _write_baseline(path: Path, new: Baseline, market: str | None) -> None:
    """Write ``new``; with ``--market``, add its entry to the existing baseline at ``path`` instead."""
    if market is not None and path.is_file():
        existing = _baseline(path)
        try:
            new = merge_baseline(existing, new) if existing is not None else new
        except ValueError as error:
            raise fail(f"--update-baseline: {path}: {error}") from None
    path.write_text(new.to_json(), encoding="utf-8")
    console.print(f"baseline written: {path}")


def register(app: typer.Typer, runner: SessionRunner, load_raw: ConfigLoader) -> None:
    """Add the analysis commands to ``app``."""
    tools_app = typer.Typer(help="Analysis tools over run directories.", no_args_is_help=True,
                            pretty_exceptions_show_locals=False)
    app.add_typer(tools_app, name="tools")

    @app.command("report")
    def report(
        run_dir: Annotated[Path, typer.Argument(help="run directory (mmbot sim --run-dir)")],
        output: Annotated[Path | None, typer.Option(
            "-o", "--output", help="HTML file (default RUN_DIR/report.html)")] = None,
        baseline: Annotated[Path | None, typer.Option(help="baseline JSON (default reports/baseline.json)")] = None,
    ) -> None:
        """Render a run directory as ONE self-contained HTML report (opens offline)."""
        _report(run_dir, output, baseline)

    @app.command("regress")
    def regress(
        seeds: Annotated[str, typer.Option(help="comma-separated seeds")] = ",".join(map(str, DEFAULT_SEEDS)),
        regimes: Annotated[str, typer.Option(help="comma-separated regimes")] = ",".join(REGIMES),
        hours: Annotated[float, typer.Option(min=0.001, help="simulated hours per session")] = DEFAULT_HOURS,
        config: Annotated[Path | None, typer.Option(help="bot config.yaml (default: the bundled one)")] = None,
        baseline: Annotated[Path, typer.Option(help="baseline JSON")] = DEFAULT_BASELINE_PATH,
        update_baseline: Annotated[bool, typer.Option("--update-baseline",
                                                      help="write the baseline from this run")] = False,
        workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 2,
        scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local'")] = None,
        json_out: Annotated[Path | None, typer.Option("--json", help="write the results as JSON here")] = None,
        market: Annotated[str | None, typer.Option(help=(
            "replay:PATH[,PATH...]: run the seeds on the recorded market(s) instead of the regimes (baseline "
            "key replay:<file names>; --update-baseline adds it to the existing baseline)"))] = None,
    ) -> None:
        """Run the reference on fixed seeds across regimes (or a recorded market); gate net_bps, p95 latency and
        slippage; compare with the baseline."""
        seed_list, regime_list = _ints(seeds, "--seeds"), _market_regimes(market, regimes)
        console.print(f"seeds {seed_list}")
        raw = _raw(load_raw, config)
        stored = None if update_baseline else _baseline(baseline)
        results = run_regression(runner, raw, seeds=seed_list, regimes=regime_list, hours=hours, baseline=stored,
                                 workers=workers, scheduler=scheduler, progress=session_counter(console, "regress"))
        console.print(_regress_table(results, "sim"))
        if stored is None and not update_baseline:
            console.print(f"no baseline at {baseline}: gated on the absolute limits, nothing compared")
        for r in results:
            if r.baseline_missing:
                console.print(f"{r.regime}: no entry in the baseline {baseline} (gated on the absolute limits, not "
                              f"compared); add one with --update-baseline")
        if json_out is not None:
            json_out.write_text(json.dumps([{"regime": r.regime, "mean": r.mean, "metrics": r.metrics,
                                             "gates": [dataclasses.asdict(g) for g in r.gates],
                                             "baseline_missing": r.baseline_missing,
                                             "flagged": [[s, dataclasses.asdict(d)] for s, d in r.flagged]}
                                            for r in results], indent=2) + "\n")
        if update_baseline:
            symbols = sorted({s["symbol"] for r in results for summary in r.summaries.values()
                              for s in summary.get("symbols", [])}) if market else list(raw.get("symbols", ["BTCUSDT"]))
            new = build_baseline({r.regime: [r.summaries[s] for s in seed_list] for r in results}, hours=hours,
                                 seeds=seed_list, symbols=symbols, command=_command())
            _write_baseline(baseline, new, market)
            return
        if not all(r.passed for r in results) or any(r.flagged for r in results):
            raise typer.Exit(1)

    @app.command("calibrate")
    def calibrate(
        seeds: Annotated[str, typer.Option(help="training seeds")] = "1,2,3",
        holdout_seeds: Annotated[str, typer.Option(help="held-out seeds (never searched on)")] = "101,102,103",
        regimes: Annotated[str, typer.Option(help="regimes in the objective")] = "calm,volatile",
        hours: Annotated[float, typer.Option(min=0.001, help="simulated hours per session")] = 0.1,
        method: Annotated[str, typer.Option(help="grid, halving or both")] = "both",
        candidates: Annotated[int, typer.Option(min=2, help="successive-halving candidates")] = 9,
        config: Annotated[Path | None, typer.Option(help="base config.yaml")] = None,
        out_dir: Annotated[Path, typer.Option("--out", help="output directory")] = Path("runs/calibration"),
        workers: Annotated[int, typer.Option(min=1, help="worker processes")] = 2,
        scheduler: Annotated[str | None, typer.Option(help="Dask scheduler address, or 'local'")] = None,
    ) -> None:
        """Search the adaptive-spread sensitivities on fixed seeds; check the winner on held-out seeds."""
        train, held, regime_list = _ints(seeds, "--seeds"), _ints(holdout_seeds, "--holdout-seeds"), _names(regimes)
        if method not in ("grid", "halving", "both"):
            raise fail(f"--method: grid, halving or both, got {method!r}")
        console.print(f"seeds {train} (held out {held})")
        raw = _raw(load_raw, config)
        common: dict[str, Any] = {"regimes": regime_list, "hours": hours, "workers": workers,
                                  "scheduler": scheduler, "progress": session_counter(console, "calibrate")}
        result: dict[str, Any] = {"command": _command(), "settings": {"seeds": train, "holdout": held,
                                                                      "regimes": regime_list, "hours": hours}}
        best: list[Any] = []
        if method in ("grid", "both"):
            grid = grid_search(runner, raw, grid=DEFAULT_GRID, seeds=train, **common)
            result["grid"] = [dataclasses.asdict(e) for e in grid]
            best.append(grid[0])
        if method in ("halving", "both"):
            rungs = successive_halving(runner, raw, seeds=train, n=candidates, **common)
            result["rungs"] = [[dataclasses.asdict(e) for e in rung] for rung in rungs]
            best.append(rungs[-1][0])
        chosen = max(best, key=lambda e: (e.sessions, e.score_bps))  # the most-tested winner
        base, tuned = holdout(runner, raw, chosen.params, seeds=held, **common)
        result["holdout"] = [{**dataclasses.asdict(base), "name": "defaults"},
                             {**dataclasses.asdict(tuned), "name": "calibrated"}]
        out_dir.mkdir(parents=True, exist_ok=True)
        final = with_params(raw, chosen.params) if tuned.score_bps >= base.score_bps else dict(raw)
        (out_dir / "config.yaml").write_text(yaml.safe_dump(final, sort_keys=False), encoding="utf-8")
        (out_dir / "calibration.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
        render_calibration_report(result, out_dir / "calibration.html")
        table = Table(title="held-out seeds: pooled net_bps")
        for col in ("settings", "params", "pooled bps", "net PnL", "sessions"):
            table.add_column(col)
        for name, e in (("defaults", base), ("calibrated", tuned)):
            table.add_row(name, json.dumps(e.params), f"{e.score_bps:.3f}", f"{e.net_pnl_quote:.2f}", str(e.sessions))
        console.print(table)
        kept = "calibrated" if tuned.score_bps >= base.score_bps else "defaults (the search did not generalise)"
        console.print(f"config: {out_dir / 'config.yaml'} ({kept}); report: {out_dir / 'calibration.html'}")

    @tools_app.command("soak")
    def soak(run_dir: Annotated[Path, typer.Argument(help="run directory")],
             window_s: Annotated[float, typer.Option(help="window (simulated s)")] = 600.0,
             json_out: Annotated[Path | None, typer.Option("--json", help="write the anomalies as JSON here")] = None,
             ) -> None:
        """Anomalies over a (long) session from its summary and event log."""
        run = _open_run(run_dir)
        events = iter_events(run.events_path) if run.events_path is not None else None
        found = analyse_soak(run.load_summary(), events, window_s=window_s)
        _write_json(json_out, {"anomalies": [dataclasses.asdict(a) for a in found]})
        table = Table(title=f"soak anomalies: {len(found)}")
        for col in ("severity", "kind", "window", "detail"):
            table.add_column(col)
        for a in found:
            window = f"{a.start_s:.0f}-{a.end_s:.0f} s" if a.start_s is not None else ""
            table.add_row(a.severity, a.kind, window, a.detail)
        console.print(table)
        if any(a.severity == "error" for a in found):
            raise typer.Exit(1)

    @tools_app.command("profile")
    def profile(run_dir: Annotated[Path, typer.Argument(help="run directory")],
                cprofile_hours: Annotated[float, typer.Option(
                    "--cprofile-hours", help="also cProfile a session this long (0: off)")] = 0.0,
                json_out: Annotated[Path | None, typer.Option("--json", help="write the hot spots as JSON here")
                                    ] = None) -> None:
        """Hot spots per component from the run's latency; optionally cProfile a short session of its config."""
        run = _open_run(run_dir)
        summary = run.load_summary()
        _write_json(json_out, {"hot_spots": [dataclasses.asdict(h) for h in hot_spots(summary.get("latency") or {})]})
        table = Table(title="latency hot spots (stages: share of decision CPU)")
        for col in ("component", "count", "mean", "p50", "p95", "p99", "CPU share", "flags"):
            table.add_column(col, justify="right")
        for h in hot_spots(summary.get("latency") or {}):
            table.add_row(h.component, f"{h.count:,}", f"{h.mean:.2f}", f"{h.p50:.2f}", f"{h.p95:.2f}",
                          f"{h.p99:.2f}", f"{h.share:.1%}" if h.share is not None else "", ", ".join(h.flags))
        console.print(table)
        if cprofile_hours > 0:
            text = run.load_config_text()
            raw = yaml.safe_load(text) if text else load_raw(None)
            packages = profile_session(lambda: runner(raw, int(summary.get("seed", 7)),
                                                      str(summary.get("regime", "calm")), cprofile_hours))
            ptable = Table(title=f"cProfile of a {cprofile_hours:g} h session: own time by package")
            for col in ("package", "own s", "share", "top functions"):
                ptable.add_column(col)
            for p in packages[:12]:
                ptable.add_row(p.package, f"{p.own_s:.2f}", f"{p.share:.1%}",
                               "; ".join(f"{f} {s:.2f}s" for f, s in p.top[:3]))
            console.print(ptable)

    @tools_app.command("drift")
    def drift(run_dir: Annotated[Path, typer.Argument(help="run directory")],
              window_s: Annotated[float, typer.Option(help="window (simulated s)")] = 600.0,
              markout_s: Annotated[float, typer.Option(help="markout horizon (s)")] = 10.0,
              json_out: Annotated[Path | None, typer.Option("--json", help="write windows and alarms as JSON here")
                                  ] = None) -> None:
        """Edge per time window from the fills in the event log; alarm on decay (CUSUM) or a run of windows
        below the net_bps floor (reports.baseline.NET_BPS_FLOOR, the regression gate's and the alert's)."""
        run = _open_run(run_dir)
        if run.events_path is None:
            console.print("[red]no events.jsonl in the run directory[/red]")
            raise typer.Exit(2)
        summary = run.load_summary()
        found = detect_drift(iter_events(run.events_path), duration_s=float(summary.get("hours", 0)) * 3600 or None,
                             window_s=window_s, markout_s=markout_s)
        ref = "none" if found.reference_bps is None else f"{found.reference_bps:.2f} bps"
        table = Table(title=f"edge by window (reference {ref})")
        for col in ("window", "fills", "notional", "PnL", "net_bps", "capture bps", "markout bps", "cusum"):
            table.add_column(col, justify="right")
        for w in found.windows:
            def f(x: float | None) -> str:
                return "-" if x is None else f"{x:.2f}"
            table.add_row(f"{w.start_s / 3600:.2f}-{w.end_s / 3600:.2f} h", str(w.fills), f"{w.notional_quote:,.0f}",
                          f"{w.pnl_quote:.2f}", f(w.net_bps), f(w.capture_bps), f(w.markout_bps), f"{w.cusum:.2f}")
        console.print(table)
        for alarm in found.alarms:
            console.print(f"[red]drift:[/red] {alarm}")
        _write_json(json_out, {"reference_bps": found.reference_bps, "alarms": found.alarms,
                               "windows": [dataclasses.asdict(w) for w in found.windows]})
        if found.drifting:
            raise typer.Exit(1)


def load_raw_with(load: Callable[[Path | None], Any], dump: Callable[[Any], Mapping[str, Any]]) -> ConfigLoader:
    """A ``ConfigLoader`` from a config loader and a dumper (kept generic: tools never import bot.config)."""
    def loader(path: Path | None) -> dict[str, Any]:
        return dict(dump(load(path)))
    return loader
