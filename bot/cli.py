"""The ``mmbot`` command line: one entry point for the simulator, the bot and the harness.

Commands that run in simulation print the seed first; everything they do follows from it.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from exchange_sim.market.config import MarketConfig
from exchange_sim.market.regimes import REGIMES, regime_params
from exchange_sim.market.symbols import DEFAULT_SYMBOLS
from exchange_sim.simulate import SimulationSummary, simulate_market
from reports.market_report import render_market_report, summary_rows

app = typer.Typer(help="MM-Bot: a market-making bot and its deterministic chaos-and-simulation harness.",
                  no_args_is_help=True, add_completion=False)
exchange_app = typer.Typer(help="The simulated exchange.", no_args_is_help=True)
app.add_typer(exchange_app, name="exchange")
console = Console()


def _market_config(regime: str, symbols: str, switching: bool) -> MarketConfig:
    try:
        regime_params(regime)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--regime") from None
    names = tuple(s.strip().upper() for s in symbols.split(",") if s.strip())
    unknown = [n for n in names if n not in DEFAULT_SYMBOLS]
    if unknown or not names:
        raise typer.BadParameter(
            f"unknown symbols {unknown or symbols!r}; choose from {', '.join(sorted(DEFAULT_SYMBOLS))}",
            param_hint="--symbols",
        )
    return MarketConfig(symbols=names, regime=regime, switching=switching)


def _summary_table(summary: SimulationSummary) -> Table:
    table = Table(title=f"simulated market, seed {summary.seed}")
    table.add_column("metric")
    table.add_column("value", justify="right", overflow="fold")
    for name, value in summary_rows(summary):
        table.add_row(name, value)
    return table


@exchange_app.command("simulate")
def exchange_simulate(
    seed: Annotated[int, typer.Option(help="root seed: every random draw derives from it")] = 7,
    hours: Annotated[float, typer.Option(min=0.001, help="simulated hours")] = 1.0,
    regime: Annotated[str, typer.Option(help=f"market regime: {', '.join(sorted(REGIMES))}")] = "calm",
    symbols: Annotated[str, typer.Option(help="comma-separated symbols")] = "BTCUSDT",
    switching: Annotated[bool, typer.Option(help="seeded regime switches during the session")] = False,
    log: Annotated[Path | None, typer.Option(help="write the event log (JSON lines) here")] = None,
    summary_json: Annotated[Path | None, typer.Option("--json", help="write the summary as JSON here")] = None,
    report: Annotated[Path | None, typer.Option(help="write a self-contained HTML report here")] = None,
) -> None:
    """Run the simulated market alone and print events, events/s and the speed-up over real time."""
    console.print(f"seed {seed}")
    config = _market_config(regime, symbols, switching)
    total_s = hours * 3600.0
    with Progress(
        TextColumn("[bold]simulating"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as progress:
        task = progress.add_task("market", total=total_s)
        summary = simulate_market(
            seed=seed, hours=hours, market=config, log_path=log,
            progress=lambda t: progress.update(task, completed=t),
        )
    console.print(_summary_table(summary))
    if summary_json is not None:
        payload = {
            "seed": summary.seed, "simulated_s": summary.simulated_s, "wall_s": summary.wall_s,
            "book_events": summary.book_events, "events_per_sim_s": summary.events_per_sim_s,
            "events_per_wall_s": summary.events_per_wall_s, "speedup": summary.speedup,
            "trades": summary.trades, "digest": summary.digest, "record_counts": summary.record_counts,
        }
        summary_json.write_text(json.dumps(payload, indent=2) + "\n")
    if report is not None:
        command = "mmbot " + " ".join(shlex.quote(a) for a in sys.argv[1:])
        console.print(f"report: {render_market_report(summary, report, command=command)}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
