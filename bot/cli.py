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
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.config import load_config, parse_config
from bot.core.console import cli_console
from bot.core.errors import BotError
from bot.guards_cli import register as register_guards
from bot.live_cli import register as register_live
from bot.session import SessionSummary, run_sim_session
from bot.tools.cli import load_raw_with
from bot.tools.cli import register as register_tools
from chaos.cli import chaos_app
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.realism.cli import market_app
from exchange_sim.market.regimes import REGIMES, regime_params
from exchange_sim.market.symbols import DEFAULT_SYMBOLS
from exchange_sim.server.cli import serve as serve_exchange
from exchange_sim.simulate import SimulationSummary, simulate_market
from reports.baseline import load_baseline
from reports.lab import run_point, write_run_dir
from reports.market_report import render_market_report, summary_rows
from reports.session_report import render_session_report

app = typer.Typer(help="MM-Bot: a market-making bot and its deterministic chaos-and-simulation harness.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)
exchange_app = typer.Typer(help="The simulated exchange.", no_args_is_help=True, pretty_exceptions_show_locals=False)
app.add_typer(exchange_app, name="exchange")
app.add_typer(chaos_app, name="chaos")
app.add_typer(market_app, name="market")
console = cli_console()


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


@exchange_app.command("serve")
def exchange_serve(
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port on 127.0.0.1")] = 8765,
    seed: Annotated[int, typer.Option(help="root seed of the market model and the fault draws")] = 7,
    scenario: Annotated[Path | None, typer.Option(help="fault scenario (YAML), times from server start")] = None,
    symbols: Annotated[str, typer.Option(help="comma-separated symbols")] = "BTCUSDT",
    log: Annotated[Path | None, typer.Option(help="write the event log (JSON lines) here")] = None,
) -> None:
    """Serve the simulated exchange over Binance's REST and WebSocket protocol on 127.0.0.1, in real time."""
    serve_exchange(port, seed, scenario, [s.strip() for s in symbols.split(",") if s.strip()], log)


def _session_tables(summary: SessionSummary) -> list[Table]:
    head = Table(title=f"simulated session, seed {summary.seed}: {summary.strategy} strategy, {summary.regime} market")
    head.add_column("metric")
    head.add_column("value", justify="right", overflow="fold")
    rows = [
        ("net PnL (quote)", f"{summary.net_pnl_quote:,.2f}"),
        ("net_bps (PnL / traded notional)", f"{summary.net_bps:.2f}"),
        ("traded notional (quote)", f"{summary.traded_notional_quote:,.0f}"),
        ("maker / taker fills", f"{summary.maker_fills} / {summary.taker_fills}"),
        ("orders placed / cancelled", f"{summary.orders_placed} / {summary.orders_cancelled}"),
        ("guard triggers", ", ".join(f"{k} {v}" for k, v in summary.guard_triggers.items()) or "none"),
        ("strategy halts", ", ".join(f"{k} {v}" for k, v in summary.halts.items()) or "none"),
        ("quote pulls (market data)", ", ".join(f"{k} {v}" for k, v in summary.pulls.items()) or "none"),
        ("venue errors", ", ".join(f"{k} {v}" for k, v in summary.errors.items()) or "none"),
        ("stop verified (nothing open)", "yes" if summary.stop_verified else "NO"),
        ("wall time / speed-up", f"{summary.wall_s:.1f} s / {summary.speedup:,.0f}x"),
        ("event-log digest", summary.digest),
    ]
    for name, value in rows:
        head.add_row(name, value)
    per_symbol = Table(title="per symbol")
    for column in ("symbol", "net PnL", "net_bps", "maker/taker", "slippage bps", "max |inv|", "hard limit",
                   "decisions"):
        per_symbol.add_column(column, justify="right")
    for s in summary.symbols:
        per_symbol.add_row(
            s.symbol, f"{s.net_pnl_quote:,.2f}", f"{s.net_bps:.2f}", f"{s.maker_fills}/{s.taker_fills}",
            f"{s.slippage_bps:.2f}", f"{s.max_abs_inventory_base:g} ({s.max_abs_inventory_lots} lots)",
            f"{s.hard_limit_lots} lots", f"{s.decisions:,}/{s.cycles:,}",
        )
    latency = Table(title="latency by component (stages: CPU us; rest/ws: ms on the session clock)")
    for column in ("component", "count", "p50", "p95", "p99", "max"):
        latency.add_column(column, justify="right")
    for name, q in summary.latency.items():
        latency.add_row(name, f"{q['count']:,.0f}", f"{q['p50']:.2f}", f"{q['p95']:.2f}", f"{q['p99']:.2f}",
                        f"{q['max']:.2f}")
    return [head, per_symbol, latency]


@app.command("sim")
def sim(
    seed: Annotated[int, typer.Option(help="root seed: every random draw derives from it")] = 7,
    hours: Annotated[float, typer.Option(min=0.001, help="simulated hours")] = 1.0,
    symbols: Annotated[str | None, typer.Option(help="comma-separated symbols (default: the config's)")] = None,
    config: Annotated[Path | None, typer.Option(help="bot config.yaml (default: the bundled one)")] = None,
    regime: Annotated[str, typer.Option(help=f"market regime: {', '.join(sorted(REGIMES))}")] = "calm",
    switching: Annotated[bool, typer.Option(help="seeded regime switches during the session")] = False,
    strategy: Annotated[str | None, typer.Option(
        help="override strategy.kind: reference, fixed_spread, avellaneda_stoikov")] = None,
    log: Annotated[Path | None, typer.Option(help="write the event log (JSON lines) here")] = None,
    summary_json: Annotated[Path | None, typer.Option("--json", help="write the summary as JSON here")] = None,
    run_dir: Annotated[Path | None, typer.Option(
        help="write summary.json, events.jsonl, config.yaml and report.html into this run directory")] = None,
    report: Annotated[bool, typer.Option(help="with --run-dir: render report.html")] = True,
) -> None:
    """Run the bot on the simulated exchange in virtual time and print what it earned, risked and spent."""
    console.print(f"seed {seed}")
    try:
        bot_config = load_config(config)
    except BotError as error:
        console.print(f"[red]config error:[/red] {error.message}")
        raise typer.Exit(2) from None
    updates: dict[str, object] = {}
    if symbols is not None:
        names = tuple(s.strip().upper() for s in symbols.split(",") if s.strip())
        updates["symbols"] = names
    if strategy is not None:
        updates["strategy"] = {**bot_config.strategy.model_dump(), "kind": strategy}
    if updates:
        try:
            bot_config = parse_config({**bot_config.model_dump(mode="json"), **updates}, source="--symbols/--strategy")
        except BotError as error:
            raise typer.BadParameter(error.message) from None
    market = _market_config(regime, ",".join(bot_config.symbols), switching)
    total_s = hours * 3600.0
    with Progress(
        TextColumn("[bold]simulating"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as progress:
        task = progress.add_task("session", total=total_s)
        if run_dir is not None and log is None:
            log = run_dir / "events.jsonl"
        summary = run_sim_session(bot_config, seed=seed, hours=hours, market=market, log_path=log,
                                  progress=lambda t: progress.update(task, completed=t))
    for table in _session_tables(summary):
        console.print(table)
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.as_dict(), indent=2, sort_keys=True) + "\n")
    if run_dir is not None:
        write_run_dir(run_dir, summary.as_dict(), bot_config,
                      command="mmbot " + " ".join(shlex.quote(a) for a in sys.argv[1:]))
        if report:
            console.print(f"report: {render_session_report(run_dir, baseline=load_baseline())}")


register_tools(app, run_point, load_raw_with(load_config, lambda c: c.model_dump(mode="json")))
register_live(app)
register_guards(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
