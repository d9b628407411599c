"""The ``mmbot`` command line: one entry point for the simulator, the bot and the harness.

Commands that run in simulation print the seed first; everything they do follows from it. A user error (a missing
or malformed file, an unknown symbol, a port in use) is one line on stderr naming the file, field or port, exit 2,
never a traceback; ``main`` is the last line of that defence. Ctrl-C in ``mmbot sim`` ends the session the orderly
way and still writes its (partial) summary and report, exit 130.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.metadata
import json
import platform
import shlex
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from bot.cli_support import INTERRUPTED_EXIT, Interrupt, fail, progress
from bot.config import BotConfig, load_config, parse_config
from bot.config_cli import config_app, load_effective
from bot.core.console import cli_console
from bot.core.errors import BotError
from bot.guards_cli import register as register_guards
from bot.live_cli import register as register_live
from chaos.cli import chaos_app
from exchange_sim.eventlog import read_events
from exchange_sim.faults.scenario import ScenarioError
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.profile import MarketProfile, load_profile
from exchange_sim.market.realism.cli import install_html_renderer, market_app
from exchange_sim.market.regimes import REGIMES, regime_params
from exchange_sim.market.symbols import DEFAULT_SYMBOLS
from exchange_sim.replay.fills import payload as replay_fills
from exchange_sim.replay.fills import report_rows
from exchange_sim.replay.recorder import record_market, venue_urls
from exchange_sim.replay.source import load_replay
from exchange_sim.server.cli import ServeError
from exchange_sim.server.cli import serve as serve_exchange
from exchange_sim.simulate import SimulationSummary, simulate_market
from harness.lab import run_point, write_run_dir
from harness.session import SessionSummary, run_sim_session
from mmbot.tools_cli import load_raw_with
from mmbot.tools_cli import register as register_tools
from reports.baseline import load_baseline
from reports.market_check_section import render_market_check
from reports.market_report import render_market_report, summary_rows
from reports.session_report import render_session_report

app = typer.Typer(help="MM-Bot: a market-making bot and its deterministic chaos-and-simulation harness.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False)
exchange_app = typer.Typer(help="The simulated exchange.", no_args_is_help=True, pretty_exceptions_show_locals=False)
app.add_typer(exchange_app, name="exchange")
app.add_typer(chaos_app, name="chaos")
app.add_typer(config_app, name="config")
app.add_typer(market_app, name="market")
install_html_renderer(render_market_check)
console = cli_console()


def version_text() -> str:
    """``mmbot <version> (Python <version>)``; the version of the installed distribution."""
    try:
        version = importlib.metadata.version("mmbot")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown (not installed)"
    return f"mmbot {version} (Python {platform.python_version()})"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="print the version and exit")] = False,
) -> None:
    """MM-Bot: a market-making bot and its deterministic chaos-and-simulation harness."""


def _profile(profile: str | None) -> MarketProfile | None:
    try:
        return load_profile(profile) if profile is not None else None
    except ValueError as error:
        raise fail(f"--profile: {error}") from None


def _market_config(regime: str, symbols: str, switching: bool, profile: str | None = None) -> MarketConfig:
    fitted = _profile(profile)
    if fitted is not None:  # a fitted market: its own symbol and filters (exchange_sim.market.profile)
        name = profile if profile is not None and profile.endswith(".json") else fitted.name
        return MarketConfig(symbols=(fitted.symbol,), regime=name)
    try:
        regime_params(regime)
    except ValueError as error:
        raise fail(f"--regime: {error}") from None
    names = tuple(s.strip().upper() for s in symbols.split(",") if s.strip())
    unknown = [n for n in names if n not in DEFAULT_SYMBOLS]
    if unknown or not names:
        raise fail(f"--symbols: unknown symbol(s) {', '.join(unknown) or repr(symbols)}; "
                   f"choose from {', '.join(sorted(DEFAULT_SYMBOLS))}")
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
    profile: Annotated[str | None, typer.Option(help=(
        "a market profile fitted to a recording instead of --regime (binance-btcusdt, binance-ethusdt, or a "
        "profile .json): its symbol, filters and flow"))] = None,
    log: Annotated[Path | None, typer.Option(help="write the event log (JSON lines) here")] = None,
    summary_json: Annotated[Path | None, typer.Option("--json", help="write the summary as JSON here")] = None,
    report: Annotated[Path | None, typer.Option(help="write a self-contained HTML report here")] = None,
) -> None:
    """Run the simulated market alone and print events, events/s and the speed-up over real time."""
    console.print(f"seed {seed}")
    config = _market_config(regime, symbols, switching, profile)
    with progress(console, "simulating", hours * 3600.0, "h", scale=3600.0) as update:
        summary = simulate_market(seed=seed, hours=hours, market=config, log_path=log, progress=update)
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
    accounts: Annotated[Path | None, typer.Option(
        help="YAML/JSON list of more accounts: name, api_key(_env), api_secret(_env), balances")] = None,
) -> None:
    """Serve the simulated exchange over Binance's REST and WebSocket protocol on 127.0.0.1, in real time."""
    try:
        serve_exchange(port, seed, scenario, symbols.split(","), log, accounts)
    except ServeError as error:
        raise fail(str(error)) from None


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
    profile: Annotated[str | None, typer.Option(help=(
        "a market profile fitted to a recording instead of --regime (binance-btcusdt, binance-ethusdt, or a "
        "profile .json): its symbol, filters and flow"))] = None,
    strategy: Annotated[str | None, typer.Option(
        help="override strategy.kind: reference, fixed_spread, avellaneda_stoikov")] = None,
    log: Annotated[Path | None, typer.Option(help="write the event log (JSON lines) here")] = None,
    summary_json: Annotated[Path | None, typer.Option("--json", help="write the summary as JSON here")] = None,
    run_dir: Annotated[Path | None, typer.Option(
        help="write summary.json, events.jsonl, config.yaml and report.html into this run directory")] = None,
    report: Annotated[bool, typer.Option(help="with --run-dir: render report.html")] = True,
    market_spec: Annotated[str | None, typer.Option("--market", help=(
        "replay:PATH[,PATH...]: replay recorded Binance markets instead of the synthetic one (symbols and "
        "filters from the recordings; the session lasts at most the recording)"))] = None,
    queue_model: Annotated[str, typer.Option(help="replay queue model: risk_averse, power, log")] = "risk_averse",
) -> None:
    """Run the bot on the simulated exchange in virtual time and print what it earned, risked and spent.

    Ctrl-C stops the session the orderly way at the next minute of simulated time; the partial summary, run
    directory and report are still written, then the command exits with status 130."""
    console.print(f"seed {seed}")
    try:
        replay = load_replay(market_spec, queue=queue_model) if market_spec is not None else None
    except ValueError as error:
        raise fail(f"--market/--queue-model: {error}") from None
    if symbols is None and replay is not None:
        symbols = ",".join(replay.symbols)
    fitted = _profile(profile)
    if fitted is not None:
        symbols = fitted.symbol
    bot_config = load_effective(config, symbols)
    if strategy is not None:
        try:
            bot_config = parse_config({**bot_config.model_dump(mode="json"),
                                       "strategy": {**bot_config.strategy.model_dump(mode="json"), "kind": strategy}},
                                      source="--strategy")
        except BotError as error:
            raise fail(error.message) from None
    market = _market_config(regime, ",".join(bot_config.symbols), switching, profile) if replay is None else None
    total_s = hours * 3600.0 if replay is None else min(hours * 3600.0, replay.duration_s)
    if run_dir is not None and log is None:
        log = run_dir / "events.jsonl"
    scratch = tempfile.mkdtemp(prefix="mmbot-replay-") if replay is not None and log is None else None
    if scratch is not None:  # a replay's fill report (queue at entry, markouts) is read from its event log
        log = Path(scratch) / "events.jsonl"
    reached_s = [0.0]
    with Interrupt() as interrupt, progress(console, "simulating", total_s, "h", scale=3600.0) as update:
        def on_progress(t: float) -> None:
            reached_s[0] = t
            update(t)
        try:
            summary = run_sim_session(bot_config, seed=seed, hours=hours, market=market, log_path=log,
                                      progress=on_progress, stop_requested=lambda: interrupt.requested,
                                      replay=replay)
        except BotError as error:
            raise fail(error.message) from None
    if interrupt.requested:
        summary = dataclasses.replace(summary, hours=reached_s[0] / 3600.0)
        console.print(f"interrupted: partial session of {summary.hours:.3f} h (of {hours:g} h requested)")
    _write_session(summary, bot_config, summary_json, run_dir)
    if replay is not None and log is not None:
        _replay_fills(log, bot_config, replay, run_dir)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    if run_dir is not None and report:  # after replay_fills.json: the report's replayed-market section reads it
        console.print(f"report: {render_session_report(run_dir, baseline=load_baseline())}")
    if interrupt.requested:
        raise typer.Exit(INTERRUPTED_EXIT)


def _replay_fills(log: Path, bot_config: BotConfig, replay: Any, run_dir: Path | None) -> None:
    """The replay's own table (recorded market, queue ahead at entry, markouts), and replay_fills.json."""
    fills = Table(title="replayed market: our fills against the recording")
    fills.add_column("metric")
    fills.add_column("value", justify="right")
    for name, value in report_rows(read_events(log), bot_config.venue.account, replay):
        fills.add_row(name, value)
    console.print(fills)
    if run_dir is not None:
        fills_json = replay_fills(read_events(log), bot_config.venue.account, replay)
        (run_dir / "replay_fills.json").write_text(json.dumps(fills_json, indent=2) + "\n")


def _write_session(summary: SessionSummary, bot_config: BotConfig, summary_json: Path | None,
                   run_dir: Path | None) -> None:
    for table in _session_tables(summary):
        console.print(table)
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.as_dict(), indent=2, sort_keys=True) + "\n")
    if run_dir is not None:
        write_run_dir(run_dir, summary.as_dict(), bot_config,
                      command="mmbot " + " ".join(shlex.quote(a) for a in sys.argv[1:]))


@app.command("record")
def record(
    out: Annotated[Path, typer.Option(help="the recording to write (.gz: gzip)")],
    symbols: Annotated[str, typer.Option(help="comma-separated symbols")] = "BTCUSDT",
    seconds: Annotated[float, typer.Option(min=1.0, help="how long to record (wall seconds)")] = 60.0,
    minutes: Annotated[float | None, typer.Option(min=0.02, help="how long to record, in minutes (overrides "
                                                  "--seconds)")] = None,
    venue: Annotated[str, typer.Option(help="local (mmbot exchange serve on --port) or binance (public, no key)")]
    = "local",
    port: Annotated[int, typer.Option(min=1, max=65535, help="the loopback server's port")] = 8765,
) -> None:
    """Record a venue's public depth diffs, trades and best bid/ask plus a REST snapshot, in the replay format."""
    try:
        rest_base, ws_base = venue_urls(venue, port)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--venue") from None
    names = [s.strip().upper() for s in symbols.split(",") if s.strip()]
    duration_s = minutes * 60.0 if minutes is not None else seconds
    result = asyncio.run(record_market(rest_base=rest_base, ws_base=ws_base, symbols=names, seconds=duration_s,
                                       out=out))
    console.print(f"recorded {result.lines:,} lines ({result.snapshots} snapshots) to {result.path}; "
                  f"replay it with: mmbot sim --market replay:{result.path}")


register_tools(app, run_point, load_raw_with(load_config, lambda c: c.model_dump(mode="json")))
register_live(app)
register_guards(app)


def main(argv: list[str] | None = None) -> None:
    """Run ``mmbot``; an error a command did not turn into one line still ends as one line (exit 2), never a
    traceback; Ctrl-C outside ``mmbot sim`` exits 130 quietly."""
    try:
        app(args=argv, prog_name="mmbot")
    except (BotError, ScenarioError, ServeError) as error:
        typer.echo(f"error: {getattr(error, 'message', None) or error}", err=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(INTERRUPTED_EXIT) from None


if __name__ == "__main__":
    main()
