"""``mmbot market check`` and ``mmbot market fit``: the realism checklist of a synthetic regime or a fitted
profile (beside a recording's figures with ``--against``), in the terminal, as JSON or as an HTML section; and
the fit of a profile to a recording (exchange_sim.market.fit)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from exchange_sim.market.profile import load_profile, profile_names
from exchange_sim.market.realism.checklist import check
from exchange_sim.market.realism.compare import mean_figures, recording_figures, side_by_side
from exchange_sim.market.regimes import REGIMES, regime_params

market_app = typer.Typer(help="The synthetic market's realism, and profiles fitted to recordings.",
                         no_args_is_help=True, pretty_exceptions_show_locals=False)
_WIDE = 200  # columns when stdout is not a terminal (a pipe, a file, CI): tables are not squeezed to 80


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else _WIDE)


def _band(low: float | None, high: float | None) -> str:
    if high is None:
        return f">= {low:g}" if low is not None else "any"
    if low is None:
        return f"<= {high:g}"
    return f"{low:g} .. {high:g}"


def _table(result: dict[str, Any]) -> Table:
    against = result.get("against")
    table = Table(title=f"realism checklist: {result['regime']}, seeds {result['seeds']}, {result['hours']:g} h each")
    columns = ["#", "item", "mean"] + (["recording"] if against else []) + ["band", "verdict"]
    for column in columns:
        table.add_column(column, justify="right" if column in ("#", "mean", "recording") else "left")
    for item in result["items"]:
        verdict = ("pass" if item["passed"] else "[bold red]FAIL[/]") if item["judged"] else "[dim]reported[/]"
        row = [str(item["item"]), item["name"], f"{item['value']:.3f}"]
        if against:
            value = against["figures"].get(item["key"])
            row.append("" if value is None else f"{value:.3f}")
        table.add_row(*row, _band(item["low"], item["high"]), verdict)
    return table


def _side_table(against: dict[str, Any]) -> Table:
    table = Table(title=f"synthetic beside the recording {against['path']}")
    for column in ("figure", "synthetic", "recording", "tolerance", "holds"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    for row in against["side_by_side"]:
        table.add_row(row["name"], f"{row['synthetic']:,.3f}", f"{row['recording']:,.3f}", row["tolerance"],
                      "yes" if row["holds"] else "[bold red]no[/]")
    return table


def _target(regime: str | None, profile: str | None) -> tuple[str, str]:
    """(regime name for the checklist, symbol) from ``--regime`` / ``--profile``."""
    if profile is not None:
        if regime is not None:
            raise typer.BadParameter("give --profile or --regime, not both", param_hint="--profile")
        try:
            found = load_profile(profile)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--profile") from None
        return (profile if profile.endswith(".json") else found.name), found.symbol
    try:
        return regime_params(regime or "calm").name, "BTCUSDT"
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--regime") from None


@market_app.command("check")
def market_check(
    regime: Annotated[str | None, typer.Option(help=f"market regime: {', '.join(sorted(REGIMES))} (default calm)")]
    = None,
    profile: Annotated[str | None, typer.Option(
        help=f"a fitted market profile instead of a regime: {', '.join(profile_names())}, or a profile .json")] = None,
    against: Annotated[Path | None, typer.Option(
        help="a recording (replay format): its figures beside the synthetic ones, and the fit's tolerances")] = None,
    seeds: Annotated[int, typer.Option(min=1, help="how many seeds (1, 2, ...)")] = 3,
    hours: Annotated[float, typer.Option(min=0.05, help="simulated hours per seed")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON instead of a table")] = False,
    html: Annotated[Path | None, typer.Option(help="also write the result as an HTML section (page) here")] = None,
    impact: Annotated[bool, typer.Option(
        help="run the metaorder experiment (item 8: two 14-minute runs per seed)")] = True,
) -> None:
    """Measure the realism checklist of docs/market-model.md on synthetic runs; exit 1 if a judged item fails
    (the side-by-side tolerances of --against are reported, not judged)."""
    name, symbol = _target(regime, profile)
    recorded: dict[str, Any] | None = None
    if against is not None:
        try:
            recorded = recording_figures(against)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--against") from None
    result = check(name, seeds=seeds, hours=hours, symbol=symbol, impact=impact)
    if recorded is not None:
        synthetic = mean_figures(result["per_seed"])
        result["against"] = {"path": str(against), "figures": recorded,
                             "side_by_side": side_by_side(synthetic, recorded)}
    if as_json:
        typer.echo(json.dumps(result, indent=2, allow_nan=False, default=float))
    else:
        console = _console()
        console.print(_table(result))
        if recorded is not None:
            console.print(_side_table(result["against"]))
        typer.echo("all judged items pass" if result["passed"] else "some judged items FAIL")
    if html is not None:
        if _HTML_RENDERER is None:
            raise typer.BadParameter("no HTML renderer is installed (run it as `mmbot market check`)",
                                     param_hint="--html")
        _HTML_RENDERER[0](result, html)
    if not result["passed"]:
        raise typer.Exit(1)


_HTML_RENDERER: list[Callable[[dict[str, Any], Path], object]] | None = None


def install_html_renderer(render: Callable[[dict[str, Any], Path], object]) -> None:
    """The composition root (``mmbot``) installs the report's renderer for ``--html``: the simulator's package
    never imports ``reports`` (no package cycle; tests/unit/test_imports.py)."""
    global _HTML_RENDERER  # noqa: PLW0603 (set once by the composition root)
    _HTML_RENDERER = [render]


@market_app.command("fit")
def market_fit(
    path: Annotated[Path, typer.Argument(help="a recording in the replay format (.gz or text)")],
    name: Annotated[str | None, typer.Option(help="profile name (default fit-<symbol>)")] = None,
    out: Annotated[Path | None, typer.Option(help="write the profile JSON here (default: print it)")] = None,
    symbol: Annotated[str | None, typer.Option(help="the symbol to fit when the recording holds several")] = None,
    rounds: Annotated[int, typer.Option(min=0, help="calibration rounds by simulated moments")] = 5,
    minutes: Annotated[float, typer.Option(min=0.5, help="simulated minutes per seed and calibration round")]
    = 10.0,
    seeds: Annotated[int, typer.Option(min=1, help="calibration seeds (1..N): each round's figures are their mean")]
    = 3,
) -> None:
    """Estimate the synthetic market's parameters from a recording and write a market profile."""
    from exchange_sim.market.fit import COMPARED, fit  # noqa: PLC0415 (loads the replay reader)

    console = _console()

    def progress(i: int, sim: dict[str, Any]) -> None:
        console.print(f"round {i + 1}/{rounds}: " + ", ".join(f"{k} {sim[k]:.3g}" for k in COMPARED),
                      highlight=False)

    try:
        profile = fit(path, name=name, symbol=symbol, rounds=rounds, minutes=minutes,
                      seeds=tuple(range(1, seeds + 1)), progress=progress)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="PATH") from None
    console.print("recording: " + ", ".join(f"{k} {profile.observed[k]:.3g}" for k in COMPARED), highlight=False)
    if out is None:
        typer.echo(profile.dump())
    else:
        out.write_text(profile.dump(), encoding="utf-8")
        console.print(f"profile {profile.name} ({profile.symbol}): {out}")
