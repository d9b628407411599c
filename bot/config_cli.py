"""``mmbot config show|validate|init``: see, check and start a bot config without reading the source.

* ``show [--config FILE] [--symbols A,B] [--json]``: the effective config (the file, upgraded to the current
  version, every default filled in) as YAML, or JSON; what ``mmbot sim`` / ``mmbot run`` would use. Then every
  symbol's effective inventory limits in both units (``inventory_limits``): hard and soft in base units and as
  notional at the price that converts them (a YAML comment block, or the JSON key ``effective_inventory_limits``,
  which is not part of the config), and every symbol's quote size and inventory target in base units, notional and
  lots (``strategy_sizes``: converted by ``bot.strategy.sizes`` with the simulator's filters; JSON key
  ``effective_strategy_sizes``).
* ``validate FILE``: exit 0 and one line (version, symbols, migration notes) when the file loads; otherwise one
  line per problem naming the file and the field path (``risk.drawdown.hard_quote: ...``), exit 2.
* ``init [PATH] [--force]``: write the bundled, fully commented default config (``bot/default_config.yaml``) to
  PATH (default ``config.yaml``); an existing file is kept unless ``--force``.

``with_symbols(config, text)`` is the ``--symbols A,B`` override ``mmbot sim`` and ``mmbot run`` share. Exit codes:
0 done, 2 a bad file or option.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from bot.cli_support import fail
from bot.config import (
    CURRENT_VERSION,
    DEFAULT_CONFIG_RESOURCE,
    BotConfig,
    dump_config,
    load_config,
    parse_config,
    sim_symbol_info,
)
from bot.core.errors import BotError
from bot.strategy.sizes import symbol_sizes

__all__ = ["config_app", "inventory_limits", "load_effective", "strategy_sizes", "with_symbols"]

config_app = typer.Typer(help="Show, validate or create a bot config.yaml.", no_args_is_help=True,
                         pretty_exceptions_show_locals=False)


def with_symbols(config: BotConfig, text: str | None) -> BotConfig:
    """``config`` quoting the comma-separated ``text`` instead (None: unchanged); ``BotError`` naming the field."""
    if text is None:
        return config
    names = [s.strip().upper() for s in text.split(",") if s.strip()]
    return parse_config({**config.model_dump(mode="json"), "symbols": names}, source="--symbols")


def load_effective(path: Path | None, symbols: str | None = None) -> BotConfig:
    """The config a command runs with: ``path`` (None: bundled) with ``--symbols``; exits 2 with one line on error."""
    try:
        return with_symbols(load_config(path), symbols)
    except BotError as error:
        raise fail(f"config: {error.message}") from None


def inventory_limits(config: BotConfig) -> dict[str, dict[str, str]]:
    """Each symbol's hard and soft inventory limit in base units and in quote at ``price_at_start_quote``
    (``soft = soft_fraction * hard``; ``quote = base * price``), the price and where the limit comes from. A live run
    converts a notional limit again with the venue's mid at start."""
    inventory = config.risk.inventory
    out: dict[str, dict[str, str]] = {}
    for symbol in config.symbols:
        price = inventory.price_at_start_quote.get(symbol)
        row = {"source": inventory.limit_source(symbol), "price_quote": _text(price)}
        try:
            hard = inventory.hard_max_for(symbol)
        except ValueError:
            row["hard_quote"] = _text(inventory.default_hard_max_quote)
            row["hard_base"] = "at the venue's price at start"
            out[symbol] = row
            continue
        soft = hard * Decimal(str(inventory.soft_fraction))
        row.update(hard_base=_text(hard), soft_base=_text(soft))
        if price is not None:
            row.update(hard_quote=_text(hard * price), soft_quote=_text(soft * price))
        out[symbol] = row
    return out


def strategy_sizes(config: BotConfig) -> dict[str, dict[str, str]]:
    """Each symbol's order size and inventory target as the strategy will use them: base units, notional at
    ``price_at_start`` and lots with the simulator's step size for the symbol (``order = lots * step``; a live run
    converts with the venue's filters and mid at start, the same way). A symbol the simulator does not list shows
    only what the config gives."""
    sizes = config.strategy.sizes
    out: dict[str, dict[str, str]] = {}
    for symbol in config.symbols:
        price, info = config.price_at_start(symbol), sim_symbol_info(config, symbol)
        row = {"source": "order_base" if symbol in sizes.order_base else "order_quote"}
        if info is None or price is None:
            given = sizes.order_base.get(symbol)
            row["order"] = f"{_text(given)} base" if given is not None else f"{_text(sizes.order_quote)} quote"
            out[symbol] = row | {"lots": "at the venue's step size and price at start"}
            continue
        lots = symbol_sizes(config.strategy, info, price)
        order, target = info.qty(lots.order_lots), info.qty(lots.target_inventory_lots)
        out[symbol] = row | {"order_base": _text(order), "order_quote": _text(order * price),
                             "order_lots": str(lots.order_lots), "target_base": _text(target),
                             "target_lots": str(lots.target_inventory_lots),
                             "liq_full_depth_lots": str(lots.liq_full_depth_lots)}
    return out


def _text(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value.normalize():f}"


@config_app.command("show")
def show(
    config: Annotated[Path | None, typer.Option(help="bot config.yaml (default: the bundled one)")] = None,
    symbols: Annotated[str | None, typer.Option(help="comma-separated symbols (override the config's)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of YAML")] = False,
) -> None:
    """Print the effective config: the file upgraded to the current version with every default filled in."""
    effective = load_effective(config, symbols)
    limits, sizes = inventory_limits(effective), strategy_sizes(effective)
    if as_json:
        typer.echo(json.dumps({**effective.model_dump(mode="json"), "effective_inventory_limits": limits,
                               "effective_strategy_sizes": sizes}, indent=2))
        return
    typer.echo(dump_config(effective), nl=False)
    typer.echo("# effective inventory limits (hard / soft, base units and quote at price_at_start_quote;"
               " a live run converts a notional limit with the venue's mid at start):")
    for symbol, row in limits.items():
        typer.echo(f"#   {symbol}: " + ", ".join(f"{k}={v}" for k, v in row.items()))
    typer.echo("# effective quote sizes (base units, quote at price_at_start_quote, lots of the simulator's step;"
               " a live run converts with the venue's filters and mid at start):")
    for symbol, row in sizes.items():
        typer.echo(f"#   {symbol}: " + ", ".join(f"{k}={v}" for k, v in row.items()))


class _Notes(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@config_app.command("validate")
def validate(path: Annotated[Path, typer.Argument(help="the config.yaml to check")]) -> None:
    """Check a config file; name the file and field of every problem (exit 2), or print what it configures."""
    notes = _Notes()
    logger = logging.getLogger("bot.config")
    logger.addHandler(notes)
    try:
        loaded = load_config(path)
    except BotError as error:
        raise fail(error.message) from None
    finally:
        logger.removeHandler(notes)
    typer.echo(f"{path}: valid (version {CURRENT_VERSION}, symbols {','.join(loaded.symbols)}, "
               f"strategy {loaded.strategy.kind}, account {loaded.venue.account})")
    for line in notes.lines:
        typer.echo(f"  upgraded: {line}")


@config_app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="where to write the config")] = Path("config.yaml"),
    force: Annotated[bool, typer.Option("--force", help="overwrite an existing file")] = False,
) -> None:
    """Write the bundled, fully commented default config to PATH (edit it, then `mmbot config validate PATH`)."""
    if path.exists() and not force:
        raise fail(f"{path} exists; pass --force to overwrite it")
    text = resources.files("bot").joinpath(DEFAULT_CONFIG_RESOURCE).read_text(encoding="utf-8")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise fail(f"{path}: cannot be written: {error.strerror or error}") from None
    typer.echo(f"wrote {path} (the defaults, commented); check your edits with: mmbot config validate {path}")
