"""``mmbot market check``: the realism checklist of a synthetic regime, in the terminal or as JSON."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from exchange_sim.market.realism.checklist import check
from exchange_sim.market.regimes import REGIMES, regime_params

market_app = typer.Typer(help="The synthetic market's realism.", no_args_is_help=True,
                         pretty_exceptions_show_locals=False)


def _band(low: float | None, high: float | None) -> str:
    if high is None:
        return f">= {low:g}" if low is not None else "any"
    if low is None:
        return f"<= {high:g}"
    return f"{low:g} .. {high:g}"


def _table(result: dict[str, Any]) -> Table:
    table = Table(title=f"realism checklist: {result['regime']}, seeds {result['seeds']}, {result['hours']:g} h each")
    for column in ("#", "item", "mean", "band", "verdict"):
        table.add_column(column, justify="right" if column in ("#", "mean") else "left")
    for item in result["items"]:
        verdict = ("pass" if item["passed"] else "[bold red]FAIL[/]") if item["judged"] else "[dim]reported[/]"
        table.add_row(str(item["item"]), item["name"], f"{item['value']:.3f}", _band(item["low"], item["high"]),
                      verdict)
    return table


@market_app.command("check")
def market_check(
    regime: Annotated[str, typer.Option(help=f"market regime: {', '.join(sorted(REGIMES))}")] = "calm",
    seeds: Annotated[int, typer.Option(min=1, help="how many seeds (1, 2, ...)")] = 3,
    hours: Annotated[float, typer.Option(min=0.05, help="simulated hours per seed")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON instead of a table")] = False,
) -> None:
    """Measure the realism checklist of docs/market-model.md on synthetic runs; exit 1 if a judged item fails."""
    try:
        name = regime_params(regime).name
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--regime") from None
    result = check(name, seeds=seeds, hours=hours)
    if as_json:
        typer.echo(json.dumps(result, indent=2, allow_nan=False))
    else:
        Console().print(_table(result))
        typer.echo("all judged items pass" if result["passed"] else "some judged items FAIL")
    if not result["passed"]:
        raise typer.Exit(1)
