"""The bot's versioned ``config.yaml``: one frozen ``BotConfig``, loaded, validated and upgraded from older versions.

Invariants: a loaded config is the current version (``CURRENT_VERSION``); an older file is upgraded in memory by
the chain ``MIGRATIONS[n]`` (version n -> n+1, in ``bot.config_migrations``), each step saying what it changed in
human-readable notes (logged as warnings by ``load_config``); nothing in a file is ignored: an unknown key is an
error, and a v1 key that the current config has no place for yet is reported in the notes, never dropped
silently. A file without ``version`` is version 1. Defaults are documented in the fields and in the bundled
``bot/default_config.yaml``.

Errors: every problem raises ``BotError(CONFIG_INVALID, msg)``; ``msg`` names the file, the field path
(``risk.taker_cap.calm_per_hour``) and the bad value, or the line and column of a YAML syntax error (duplicate
keys included). A version newer than ``CURRENT_VERSION`` (or not an integer >= 1) is refused.

Version 1, the earlier bot's flat format (no ``version`` key; every key optional)::

    symbols: [BTCUSDT, ETHUSDT]     # list, or one comma-separated string  -> symbols
    exchange: binance_testnet       # sim | local | binance | binance_testnet -> venue.kind (dropped by v4)
    client_order_prefix: mmb        # -> execution.client_id_prefix
    state_file: mmbot-state.sqlite3 # -> execution.state_path
    request_timeout_s: 5            # -> execution.request_timeout_s
    max_inventory: 0.5              # |inventory| in base units -> risk.inventory.default_hard_max_base
    max_drawdown_usd: 100           # -> risk.drawdown.hard_quote; soft_quote = half of it (v1 had no soft level)
    max_order_notional_usd: 500     # -> risk.pretrade.max_order_notional_quote
    taker_cap_per_hour: 50          # fixed cap -> risk.taker_cap.{calm,moderate,volatile}_per_hour, all equal
    # strategy keys: version 2 had no strategy section; they are carried to version 3 (see _v2_to_v3)
    order_refresh_s: 1.0
    order_size_usd: 50
    base_spread_bps: 1.2
    min_spread_bps: 0.6
    max_spread_bps: 2.5
    vol_sensitivity: 0.6
    liq_sensitivity: 0.4
    enable_adaptive_spread: true
    enable_inventory_skew: true
    enable_queue_aware: true

Version 5 gives every strategy size in base units or as a notional, never in lots (``strategy.sizes``, see
``bot.strategy.config.SizeConfig``): ``order_quote`` (each quote's notional, default 60) for symbols without an
``order_base`` entry (base units), converted per symbol with its price at start (``BotConfig.price_at_start``, the
same price as the inventory default) and floored to the symbol's step, in one place (``bot.strategy.sizes``);
``target_inventory_base`` per symbol; ``adaptive_spread.liq_full_depth_quote`` (notional). A version-4 file quotes
the same lots as before: its ``strategy.ladder.level_size_lots`` (100 when unset; a baseline's ``size_lots`` when
that baseline is the ``kind``) becomes ``order_base`` for each of its symbols the simulator's catalogue knows (their
step sizes), ``q_unit_lots`` becomes ``q_unit_orders`` (in order sizes), ``target_inventory_lots`` becomes
``target_inventory_base``, ``liq_full_depth_lots`` becomes a notional at the first symbol's start price, and
``inventory_skew.max_inventory_lots`` (a fallback the quote loop never used) is dropped; each with a note.
Version 1's ``order_size_usd`` becomes ``strategy.sizes.order_quote``.

Version 4 gives the default inventory limit as a notional: ``risk.inventory.default_hard_max_quote`` (quote),
converted per symbol with its price at start (``BotConfig.priced``: live the venue's mid, simulated the start price
of the simulator's symbol, ``harness.sim_account``; an unpriced symbol has no notional limit yet), while
``risk.inventory.hard_max_base`` keeps per-symbol overrides in base units. A version-3 (or older) file keeps its
exact limits: its base-unit default (``default_hard_max_base``, 1 when unset) is carried over, deprecated, with a
one-line note saying what to write instead.

USD amounts of version 1 become quote-currency amounts (the v1 bot only traded USDT pairs).

Version 4 drops ``venue.kind``, ``venue.host`` and ``venue.port``: nothing read them (the command decides where
the bot trades: ``mmbot sim`` in process, ``mmbot run --venue local|binance-testnet|binance --port N``), so a file
that sets them is upgraded with a note naming the flag that does the job, never silently.

Version 3 adds ``strategy`` (``bot.strategy.config.StrategyConfig``), ``quoting`` (the quote loop) and ``sim``
(the simulated account). Version 1's strategy keys map to it: ``base_spread_bps``, ``min_spread_bps``,
``max_spread_bps``, ``vol_sensitivity``, ``liq_sensitivity`` -> ``strategy.adaptive_spread.*``;
``order_refresh_s`` -> ``strategy.ladder.max_order_age_s`` (orders older than that are re-placed);
``enable_adaptive_spread|inventory_skew|queue_aware: false`` -> that stage is left out of ``strategy.stages``;
``order_size_usd`` (a notional) is carried to the version-5 step, which makes it ``strategy.sizes.order_quote``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.config_migrations import CURRENT_VERSION, MIGRATIONS, Filters, invalid
from bot.config_migrations import migrate as migrate_with
from bot.core.errors import BotError
from bot.core.types import SymbolInfo
from bot.execution.config import ExecutionConfig
from bot.quoting.config import QuotingConfig
from bot.risk.config import RiskConfig
from bot.strategy.config import StrategyConfig

__all__ = [
    "CURRENT_VERSION", "LEGACY_LOT_FILTERS", "MIGRATIONS", "BotConfig", "SimAccountConfig", "SimSymbolConfig",
    "VenueConfig", "dump_config", "load_config", "migrate", "parse_config", "sim_symbol_info",
]

log = logging.getLogger("bot.config")

DEFAULT_CONFIG_RESOURCE = "default_config.yaml"  # package data of ``bot``
_SYMBOL_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class VenueConfig(BaseModel):
    """The bot's account on a venue. Which venue is the command's choice, not the config's: ``mmbot sim`` (the
    in-process simulator) or ``mmbot run --venue local|binance-testnet|binance`` (``--port`` for local)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    account: str = Field("bot", pattern=r"^[A-Za-z0-9_-]{1,32}$", description="account name on a sim/local venue")


class SimSymbolConfig(BaseModel):
    """A symbol the simulated venue lists besides its defaults, as the config declares it: its assets, filters and
    the market's starting point. The bot never trades on these: the harness hands them to the simulator's symbol
    catalogue (``harness.sim_account``), which also checks that the filters fit its integer balances.

    Every filter is required (no silent default for a venue fact); the initial price is a whole number of ticks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_asset: str = Field(min_length=1, description="base asset, e.g. XYZ")
    quote_asset: str = Field(min_length=1, description="quote asset, e.g. USDT")
    tick_size: Decimal = Field(gt=0, description="price step (PRICE_FILTER tickSize)")
    step_size: Decimal = Field(gt=0, description="quantity step (LOT_SIZE stepSize)")
    min_notional: Decimal = Field(ge=0, description="smallest order notional in the quote asset (NOTIONAL)")
    initial_price: Decimal = Field(gt=0, description="where the latent price starts (the price scale)")
    size_scale: float = Field(1.0, gt=0, description="multiplies every order notional of the background flow")

    @model_validator(mode="after")
    def _whole_ticks(self) -> SimSymbolConfig:
        if self.initial_price % self.tick_size:
            raise ValueError(f"initial_price: {self.initial_price} is not a multiple of tick_size {self.tick_size}")
        return self


class SimAccountConfig(BaseModel):
    """The bot's account on a simulated venue (``sim`` and ``local`` modes): starting balances and fee tier.

    The default fee tier is a market-maker programme's: 0 bps maker, 10 bps taker (ADR 0005). At Binance's
    retail 10 bps maker fee no quote within a few ticks of a ~0.8 bps-tick book can earn its fee back; what a
    market maker really pays is a configuration choice, so it is a field, not a constant.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    balances: dict[str, Decimal] = Field(
        default_factory=lambda: {"BTC": Decimal(5), "ETH": Decimal(100), "SOL": Decimal(2000),
                                 "USDT": Decimal(1_000_000)},
        description="starting balances by asset",
    )
    maker_fee_bps: Decimal = Field(Decimal(0), ge=-10, le=100, description="maker fee (negative: a rebate)")
    taker_fee_bps: Decimal = Field(Decimal(10), ge=0, le=100, description="taker fee")
    symbols: dict[str, SimSymbolConfig] = Field(
        default_factory=dict, description="symbols the simulated venue lists besides BTCUSDT/ETHUSDT/SOLUSDT, by "
        "name: base_asset, quote_asset, tick_size, step_size, min_notional, initial_price "
        "(exchange_sim.market.symbols)")

    @field_validator("symbols")
    @classmethod
    def _symbol_names(cls, symbols: dict[str, SimSymbolConfig]) -> dict[str, SimSymbolConfig]:
        bad = sorted(name for name in symbols if name != name.upper() or not name.isalnum())
        if bad:
            raise ValueError(f"symbols {bad}: a symbol name is upper-case letters and digits")
        return symbols

    @field_validator("balances")
    @classmethod
    def _non_negative(cls, balances: dict[str, Decimal]) -> dict[str, Decimal]:
        bad = {a: v for a, v in balances.items() if v < 0}
        if bad:
            raise ValueError(f"balances must be >= 0: {bad}")
        return balances


class BotConfig(BaseModel):
    """Everything one bot instance is configured by (``version`` 5). Build a new object to change it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[5] = Field(5, description="config format version; older files are upgraded on load")
    bot_id: str = Field("mmbot", pattern=r"^[A-Za-z0-9_-]{1,32}$", description="name of this instance in logs")
    symbols: tuple[str, ...] = Field(("BTCUSDT",), min_length=1, description="symbols to quote, e.g. BTCUSDT")
    venue: VenueConfig = Field(default_factory=VenueConfig, description="where to trade")
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig, description="order sending and state")
    risk: RiskConfig = Field(default_factory=RiskConfig, description="risk limits, guards and caps")
    strategy: StrategyConfig = Field(default_factory=StrategyConfig, description="how quotes are decided")
    quoting: QuotingConfig = Field(default_factory=QuotingConfig, description="the per-symbol quote loop")
    sim: SimAccountConfig = Field(default_factory=SimAccountConfig, description="the account on a simulated venue")

    @field_validator("symbols")
    @classmethod
    def _symbols_valid(cls, symbols: tuple[str, ...]) -> tuple[str, ...]:
        for symbol in symbols:
            if not 2 <= len(symbol) <= 20 or not set(symbol) <= _SYMBOL_CHARS:
                raise ValueError(f"symbol {symbol!r} is not 2-20 upper-case letters and digits")
        duplicates = sorted({s for s in symbols if symbols.count(s) > 1})
        if duplicates:
            raise ValueError(f"symbols listed twice: {duplicates}")
        return symbols

    def priced(self, prices: Mapping[str, Decimal]) -> BotConfig:
        """This config with ``prices`` (quote per base unit, e.g. the venue's mids at start) converting the notional
        inventory default of every symbol in ``prices`` (``bot.risk.config.InventoryLimits``)."""
        inventory = self.risk.inventory
        merged = {**inventory.price_at_start_quote, **{s: Decimal(p) for s, p in prices.items()}}
        risk = self.risk.model_copy(update={"inventory": inventory.model_copy(update={"price_at_start_quote": merged})})
        return self.model_copy(update={"risk": risk})

    def price_at_start(self, symbol: str) -> Decimal | None:
        """``symbol``'s price at start (quote per base unit; None: not known yet), the one price that converts both
        the notional inventory default and the strategy's notional sizes (``bot.strategy.sizes``)."""
        return self.risk.inventory.price_at_start_quote.get(symbol)

    @model_validator(mode="after")
    def _limits_name_known_symbols(self) -> BotConfig:
        unknown = sorted(set(self.risk.inventory.hard_max_base) - set(self.symbols))
        if unknown:
            raise ValueError(f"risk.inventory.hard_max_base names symbols not in symbols: {unknown}")
        levels = self.strategy.ladder.levels
        if self.execution.max_open_per_side < 2 * levels:
            raise ValueError(f"execution.max_open_per_side ({self.execution.max_open_per_side}) must be at least "
                             f"twice strategy.ladder.levels ({levels}): a quote moves by a new order before the "
                             "old one's cancel is confirmed")
        return self


# The lot (step size) and start price that "lots" meant in a version-4 file for the standard symbols: the
# simulator's defaults of version 4 (tests/unit/test_config.py keeps them equal to exchange_sim.market.symbols; the
# bot never imports the simulator). A file's own ``sim.symbols`` entries take precedence.
LEGACY_LOT_FILTERS: dict[str, tuple[Decimal, Decimal]] = {
    "BTCUSDT": (Decimal("0.00001"), Decimal("60000.00")),
    "ETHUSDT": (Decimal("0.0001"), Decimal("3000.00")),
    "SOLUSDT": (Decimal("0.001"), Decimal("150.00")),
}


def sim_symbol_info(config: BotConfig, symbol: str) -> SymbolInfo | None:
    """``symbol``'s filters as the config's own ``sim.symbols`` declares them; None when it does not (the venue's
    filters are known only at start: ``harness.sim_account.sim_symbol_info`` adds the simulator's defaults)."""
    spec = config.sim.symbols.get(symbol)
    if spec is None:
        return None
    return SymbolInfo(symbol=symbol, base_asset=spec.base_asset, quote_asset=spec.quote_asset,
                      tick_size=spec.tick_size, step_size=spec.step_size, min_notional=spec.min_notional)


def symbol_filters(sim: Any) -> dict[str, tuple[Decimal, Decimal]]:
    """Step size and start price by symbol for the version-4 migration: ``LEGACY_LOT_FILTERS`` and the valid
    entries of a raw ``sim.symbols`` mapping (an invalid entry is left for validation to name)."""
    custom = sim.get("symbols") if isinstance(sim, dict) else None
    filters = dict(LEGACY_LOT_FILTERS)
    for name, entry in (custom.items() if isinstance(custom, dict) else ()):
        try:
            spec = SimSymbolConfig.model_validate(entry)
        except ValidationError:
            continue
        filters[name] = (spec.step_size, spec.initial_price)
    return filters


# -- loading ------------------------------------------------------------------------------------------------------
def migrate(raw: Mapping[str, Any], filters: Filters | None = None) -> tuple[dict[str, Any], list[str]]:
    """``bot.config_migrations.migrate`` with the simulator's filters (``symbol_filters`` of the file's ``sim``
    section) unless ``filters`` are given."""
    return migrate_with(raw, symbol_filters(raw.get("sim")) if filters is None else filters)


def parse_config(raw: Mapping[str, Any], *, source: str = "config") -> BotConfig:
    """Upgrade and validate a mapping (as read from YAML). ``source`` names it in error messages."""
    try:
        data, notes = migrate(raw)
    except BotError as error:
        raise invalid(f"{source}: {error.message}") from None
    for note in notes:
        log.warning("%s: %s", source, note)
    try:
        return BotConfig.model_validate(data)
    except ValidationError as error:
        version = raw.get("version", 1)
        upgraded = f" (after upgrading from version {version})" if version != CURRENT_VERSION else ""
        problems = "; ".join(_describe(e) for e in error.errors(include_url=False))
        raise invalid(f"{source}{upgraded}: {problems}") from None


def load_config(path: Path | str | None = None) -> BotConfig:
    """Load ``path`` (``None``: the bundled ``bot/default_config.yaml``), upgrading an older version."""
    if path is None:
        source = f"bundled {DEFAULT_CONFIG_RESOURCE}"
        text = resources.files("bot").joinpath(DEFAULT_CONFIG_RESOURCE).read_text(encoding="utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise invalid(f"{source}: cannot be read: {error}") from None
    try:
        raw = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "unknown position"
        raise invalid(f"{source}: YAML syntax error at {where}: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise invalid(f"{source}: YAML error: {error}") from None
    if raw is None:
        raise invalid(f"{source}: the file is empty")
    if not isinstance(raw, dict):
        raise invalid(f"{source}: the top level must be a mapping of keys, got {type(raw).__name__}")
    return parse_config(raw, source=source)


def dump_config(config: BotConfig) -> str:
    """``config`` as current-version YAML that ``load_config`` reads back to an equal object."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False, allow_unicode=True)


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML would silently keep the last one)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# -- helpers ------------------------------------------------------------------------------------------------------
def _describe(error: Mapping[str, Any]) -> str:
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"]).lstrip(".")
    value = repr(error.get("input"))
    value = value if len(value) <= 80 else value[:77] + "..."
    if error["type"] == "extra_forbidden":
        return f"{path}: unknown key (value {value})"
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{path or '(top level)'}: {message} (got {value})"
