"""Config migrations: upgrade an older ``config.yaml`` mapping, one version at a time, to ``CURRENT_VERSION``.

``MIGRATIONS[n]`` turns a version-n mapping into version n+1 and says what it changed in human-readable notes; the
versions and what each step maps are described in ``bot.config``. Invariants: the input is never changed (``migrate``
works on a deep copy); nothing is dropped silently (a key a step cannot place stays for validation to reject by
name, or is reported in the notes).

The version-4 step converts lots to base units, so it needs each symbol's step size and start price: ``migrate``
takes them as ``filters`` (``bot.config.migrate`` passes the simulator's catalogue with the file's ``sim.symbols``;
this module imports no simulator code). A symbol without filters keeps the notional default, with a note.

Errors: ``BotError(CONFIG_INVALID)`` for a version that is not an integer from 1 to ``CURRENT_VERSION``, or a file
without ``version`` that has nested (version-2) sections.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.core.errors import BotError, ErrorCode
from bot.strategy.config import STAGE_NAMES

__all__ = ["CURRENT_VERSION", "MIGRATIONS", "Filters", "Migration", "invalid", "migrate"]

CURRENT_VERSION = 5

Filters = Mapping[str, tuple[Decimal, Decimal]]
"""Step size and start price (quote per base unit) by symbol: what the version-4 step converts lots with."""
Migration = Callable[[dict[str, Any], Filters], tuple[dict[str, Any], list[str]]]

_V1_MOVES: dict[str, tuple[str, ...]] = {
    "exchange": ("venue", "kind"),
    "client_order_prefix": ("execution", "client_id_prefix"),
    "state_file": ("execution", "state_path"),
    "request_timeout_s": ("execution", "request_timeout_s"),
    "max_inventory": ("risk", "inventory", "default_hard_max_base"),
    "max_order_notional_usd": ("risk", "pretrade", "max_order_notional_quote"),
}
_V1_STRATEGY_KEYS = (
    "order_refresh_s", "order_size_usd", "base_spread_bps", "min_spread_bps", "max_spread_bps", "vol_sensitivity",
    "liq_sensitivity", "enable_adaptive_spread", "enable_inventory_skew", "enable_queue_aware",
)
_V2_SECTIONS = ("version", "bot_id", "venue", "execution", "risk", "strategy", "quoting", "sim")
_CARRIED = "_v1_strategy"  # version-1 strategy keys carried through version 2 to the version-3 step
_CARRIED_SIZE = "_v1_order_size_usd"  # version 1's notional order size, carried from version 3 to the version-5 step


def _v1_to_v2(raw: dict[str, Any], _: Filters) -> tuple[dict[str, Any], list[str]]:
    """Version 1 (flat, see the module docstring) -> version 2 (nested sections). Unknown keys stay put."""
    sections = sorted(set(raw) & set(_V2_SECTIONS))
    if sections:
        raise invalid(f"a file without 'version' is version 1, but it has version-2 keys {sections}: "
                       f"add 'version: {CURRENT_VERSION}'")
    old = dict(raw)
    new: dict[str, Any] = {"version": 2}
    notes: list[str] = []
    if "symbols" in old:
        symbols = old.pop("symbols")
        if isinstance(symbols, str):
            notes.append(f"symbols {symbols!r}: comma-separated string split into a list")
            symbols = [s.strip() for s in symbols.split(",") if s.strip()]
        new["symbols"] = symbols
    for key, path in _V1_MOVES.items():
        if key in old:
            value = old.pop(key)
            if key == "exchange" and value == "binance_testnet":
                value = "binance-testnet"
            _put(new, path, value)
            notes.append(f"{key}={value!r} -> {'.'.join(path)}")
    if "max_drawdown_usd" in old:
        hard = _decimal("max_drawdown_usd", old.pop("max_drawdown_usd"))
        _put(new, ("risk", "drawdown", "hard_quote"), _plain(hard))
        _put(new, ("risk", "drawdown", "soft_quote"), _plain(hard / 2))
        notes.append(f"max_drawdown_usd={_plain(hard)} -> risk.drawdown.hard_quote; version 1 had no soft "
                     f"level: risk.drawdown.soft_quote={_plain(hard / 2)} (half)")
    if "taker_cap_per_hour" in old:
        cap = old.pop("taker_cap_per_hour")
        for regime in ("calm", "moderate", "volatile"):
            _put(new, ("risk", "taker_cap", f"{regime}_per_hour"), cap)
        notes.append(f"taker_cap_per_hour={cap!r} was a fixed cap: risk.taker_cap.calm_per_hour, moderate_per_hour "
                     f"and volatile_per_hour all set to {cap!r} (the cap is now per volatility regime)")
    carried = {key: old.pop(key) for key in _V1_STRATEGY_KEYS if key in old}
    if carried:
        new[_CARRIED] = carried
        notes.append(f"strategy keys {list(carried)}: no section in version 2, carried to version 3")
    new.update(old)  # keys version 1 did not have: left for validation to reject by name
    return new, notes


_V1_SPREAD_KEYS = ("base_spread_bps", "min_spread_bps", "max_spread_bps", "vol_sensitivity", "liq_sensitivity")
_V1_STAGE_FLAGS = {
    "enable_adaptive_spread": "adaptive_spread", "enable_inventory_skew": "inventory_skew",
    "enable_queue_aware": "queue_aware",
}


def _v2_to_v3(raw: dict[str, Any], _: Filters) -> tuple[dict[str, Any], list[str]]:
    """Version 2 -> 3: set the version; map version 1's carried strategy keys (module docstring)."""
    new = dict(raw)
    new["version"] = 3
    carried = new.pop(_CARRIED, {})
    notes: list[str] = []
    if not isinstance(carried, dict):
        return new, notes
    for key in _V1_SPREAD_KEYS:
        if key in carried:
            _put(new, ("strategy", "adaptive_spread", key), carried[key])
            notes.append(f"{key}={carried[key]!r} -> strategy.adaptive_spread.{key}")
    if "order_refresh_s" in carried:
        _put(new, ("strategy", "ladder", "max_order_age_s"), carried["order_refresh_s"])
        notes.append(f"order_refresh_s={carried['order_refresh_s']!r} -> strategy.ladder.max_order_age_s")
    off = [stage for flag, stage in _V1_STAGE_FLAGS.items() if flag in carried and not carried[flag]]
    for flag, stage in _V1_STAGE_FLAGS.items():
        if flag in carried:
            notes.append(f"{flag}={carried[flag]!r} -> {stage} "
                         f"{'left out of' if not carried[flag] else 'kept in'} strategy.stages")
    if off:
        _put(new, ("strategy", "stages"), [s for s in STAGE_NAMES if s not in off])
    if "order_size_usd" in carried:
        new[_CARRIED_SIZE] = carried["order_size_usd"]
        notes.append(f"order_size_usd={carried['order_size_usd']!r}: no notional size in version 3, carried to "
                     "version 5 (strategy.sizes.order_quote)")
    return new, notes


_V3_DROPPED_VENUE_KEYS = {
    "kind": "where the bot trades is chosen by the command: mmbot sim, or mmbot run --venue",
    "host": "mmbot run --venue local always talks to 127.0.0.1",
    "port": "mmbot run --venue local --port",
}


def _v3_to_v4(raw: dict[str, Any], _: Filters) -> tuple[dict[str, Any], list[str]]:
    """Version 3 -> 4: ``venue.kind/host/port`` are dropped (never read; the command's flags decide), with a note
    each; the default inventory limit becomes a notional, and a version-3 file keeps its base-unit default (1 when
    unset), deprecated, so its limits do not change."""
    new = dict(raw)
    new["version"] = 4
    notes: list[str] = []
    venue = new.get("venue")
    if isinstance(venue, dict):
        venue = dict(venue)
        for key, instead in _V3_DROPPED_VENUE_KEYS.items():
            if key in venue:
                notes.append(f"venue.{key}={venue.pop(key)!r} removed: {instead}")
        new["venue"] = venue
    risk = new.get("risk")
    inventory = risk.get("inventory") if isinstance(risk, dict) else None
    inventory = inventory if isinstance(inventory, dict) else {}
    if "default_hard_max_quote" in inventory:
        return new, notes
    base = inventory.get("default_hard_max_base", 1)
    _put(new, ("risk", "inventory", "default_hard_max_base"), base)
    return new, [*notes, f"risk.inventory.default_hard_max_base={base!r} (base units for every symbol) is "
                 "deprecated: give risk.inventory.default_hard_max_quote (notional, converted at start) and "
                 "per-symbol hard_max_base overrides instead"]


_V4_DEFAULT_LOTS = {"level_size_lots": 100, "liq_full_depth_lots": 50_000}  # version 4's defaults, in lots
_V4_BASELINES = ("fixed_spread", "avellaneda_stoikov", "glft")
_V5_LIQ_FULL_DEPTH_QUOTE = 30_000  # AdaptiveSpreadConfig's default: BTCUSDT's 50,000 lots at 60,000


def _v4_to_v5(raw: dict[str, Any], markets: Filters) -> tuple[dict[str, Any], list[str]]:
    """Version 4 -> 5: strategy sizes in lots become base units per symbol and notionals (``bot.config``), converted
    with each symbol's step and start price (``markets``), so that a version-4 file quotes the same lots as before;
    version 1's ``order_size_usd`` becomes the notional size."""
    new = copy.deepcopy(raw)
    new["version"] = 5
    strategy = new.setdefault("strategy", {})
    if not isinstance(strategy, dict):
        return new, []  # validation names it
    symbols = new.get("symbols", ["BTCUSDT"])
    known = [s for s in symbols if isinstance(s, str) and s in markets] if isinstance(symbols, list) else []
    unknown = [s for s in symbols if s not in known] if isinstance(symbols, list) else []
    notes: list[str] = []
    before = set(strategy)

    def section(name: str) -> dict[str, Any]:
        value = strategy.setdefault(name, {})
        return value if isinstance(value, dict) else {}  # not a mapping: validation names it

    skew, spread = section("inventory_skew"), section("adaptive_spread")
    lots = _order_lots(section, strategy.get("kind", "reference"), notes)
    sizes = strategy.setdefault("sizes", {})
    if _CARRIED_SIZE in new:
        usd = new.pop(_CARRIED_SIZE)
        sizes.setdefault("order_quote", usd)
        notes.append(f"order_size_usd={usd!r} -> strategy.sizes.order_quote (notional, converted per symbol at start)")
    elif _whole(lots):
        base = {s: _plain(lots * markets[s][0]) for s in known}
        if base:
            sizes.setdefault("order_base", {}).update({s: v for s, v in base.items()
                                                        if s not in sizes.get("order_base", {})})
            notes.append(f"order size {lots} lots (strategy.ladder.level_size_lots) -> strategy.sizes.order_base "
                         f"{base} (the same lots; or give a notional: strategy.sizes.order_quote)")
    for name in _V4_BASELINES:
        baseline = section(name)
        q_unit = baseline.pop("q_unit_lots", None)
        if q_unit is not None and _whole(lots):
            baseline["q_unit_orders"] = _plain(_decimal(f"strategy.{name}.q_unit_lots", q_unit) / lots)
            notes.append(f"strategy.{name}.q_unit_lots={q_unit!r} -> q_unit_orders={baseline['q_unit_orders']!r} "
                         "(inventory q counted in order sizes)")
    target = skew.pop("target_inventory_lots", 0)
    if target:
        sizes["target_inventory_base"] = {s: _plain(target * markets[s][0]) for s in known}
        notes.append(f"strategy.inventory_skew.target_inventory_lots={target!r} -> strategy.sizes."
                     f"target_inventory_base {sizes['target_inventory_base']}")
    if "max_inventory_lots" in skew:
        notes.append(f"strategy.inventory_skew.max_inventory_lots={skew.pop('max_inventory_lots')!r} removed: the "
                     "skew saturates at the hard inventory limit (risk.inventory) or max_inventory_quote")
    notes += _liq_depth(spread, known, markets)
    if unknown:
        notes.append(f"sizes of {unknown} not converted (no step size in the simulator's catalogue): they use the "
                     "notional strategy.sizes.order_quote; give strategy.sizes.order_base to fix them")
    for name in set(strategy) - before:  # sections this step opened and left empty
        if strategy[name] == {}:
            del strategy[name]
    if strategy == {}:
        del new["strategy"]
    return new, notes


def _order_lots(section: Callable[[str], dict[str, Any]], kind: Any, notes: list[str]) -> Any:
    """The version-4 order size in lots (removed from its sections): the ladder's ``level_size_lots`` (100 when
    unset), or the active baseline's ``size_lots``; every baseline size that is dropped gets a note."""
    lots = section("ladder").pop("level_size_lots", _V4_DEFAULT_LOTS["level_size_lots"])
    for name in _V4_BASELINES:
        size = section(name).pop("size_lots", None)
        if size is not None and name == kind:
            notes.append(f"strategy.{name}.size_lots={size!r} -> the order size of strategy.sizes (one size for "
                         "every kind)")
            lots = size
        elif size is not None:
            notes.append(f"strategy.{name}.size_lots={size!r} removed: every kind quotes strategy.sizes' one size "
                         f"(strategy.kind is {kind!r})")
    return lots


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _liq_depth(spread: dict[str, Any], known: list[str], markets: Filters) -> list[str]:
    """``adaptive_spread.liq_full_depth_lots`` (one lot count for every symbol, given or the default) ->
    ``liq_full_depth_quote`` at the first known symbol's step and start price (written unless it is the version-5
    default); the note lists every other symbol whose lots change."""
    given = "liq_full_depth_lots" in spread
    lots = spread.pop("liq_full_depth_lots", _V4_DEFAULT_LOTS["liq_full_depth_lots"])
    if not known or not _whole(lots):
        return [f"adaptive_spread.liq_full_depth_lots={lots!r} removed: give liq_full_depth_quote"] if given else []
    step, price = markets[known[0]]
    quote = lots * step * price
    if given or quote != _V5_LIQ_FULL_DEPTH_QUOTE:
        spread["liq_full_depth_quote"] = _plain(quote)
    moved = {s: int(quote // (markets[s][1] * markets[s][0])) for s in known}
    moved = {s: v for s, v in moved.items() if v != lots}
    if "liq_full_depth_quote" not in spread and not moved:
        return []
    was = f"adaptive_spread.liq_full_depth_lots={lots}" if given else \
        f"the thin-book depth (version 4: {lots} lots for every symbol)"
    note = f"{was} -> liq_full_depth_quote={_plain(quote)}, a notional ({known[0]}'s {lots} lots)"
    return [note + (f"; now in lots at their start prices: {moved}" if moved else "")]


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4, 4: _v4_to_v5}
"""``MIGRATIONS[n](mapping)`` upgrades a version-n mapping to version n+1 and returns it with its notes."""


def migrate(raw: Mapping[str, Any], filters: Filters | None = None) -> tuple[dict[str, Any], list[str]]:
    """Upgrade ``raw`` to ``CURRENT_VERSION``; returns the upgraded mapping (a copy) and notes of what changed.
    ``filters`` (step size, start price by symbol) convert a version-4 file's lots; without them no symbol's are."""
    data = copy.deepcopy(dict(raw))
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise invalid(f"version: must be an integer from 1 to {CURRENT_VERSION}, got {version!r}")
    if version > CURRENT_VERSION:
        raise invalid(f"version: {version} is newer than the newest version this bot reads ({CURRENT_VERSION}); "
                       "upgrade the bot")
    notes: list[str] = []
    while version < CURRENT_VERSION:
        step = MIGRATIONS.get(version)
        if step is None:
            raise invalid(f"version: no migration from version {version}")
        data, step_notes = step(data, filters or {})
        notes += [f"v{version}->v{version + 1}: {note}" for note in step_notes]
        version += 1
    return data, notes



# -- helpers ------------------------------------------------------------------------------------------------------
def invalid(message: str) -> BotError:
    return BotError(ErrorCode.CONFIG_INVALID, message)


def _put(tree: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for key in path[:-1]:
        tree = tree.setdefault(key, {})
    tree[path[-1]] = value


def _decimal(key: str, value: Any) -> Decimal:
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        return Decimal(str(value))
    except InvalidOperation:
        raise invalid(f"{key}: must be a number, got {value!r}") from None


def _plain(value: Decimal) -> int | str:
    """A YAML-safe exact form of ``value``: an int when integral, else its shortest decimal string."""
    return int(value) if value == value.to_integral_value() else f"{value.normalize():f}"


