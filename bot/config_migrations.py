"""Config migrations: upgrade an older ``config.yaml`` mapping, one version at a time, to ``CURRENT_VERSION``.

``MIGRATIONS[n]`` turns a version-n mapping into version n+1 and says what it changed in human-readable notes; the
versions and what each step maps are described in ``bot.config``. Invariants: the input is never changed (``migrate``
works on a deep copy); nothing is dropped silently (a key a step cannot place stays for validation to reject by
name, or is reported in the notes).

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

__all__ = ["CURRENT_VERSION", "MIGRATIONS", "Migration", "invalid", "migrate"]

CURRENT_VERSION = 4

Migration = Callable[[dict[str, Any]], tuple[dict[str, Any], list[str]]]

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


def _v1_to_v2(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
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


def _v2_to_v3(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
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
        notes.append(f"order_size_usd={carried['order_size_usd']!r} not applied: sizes are lots now "
                     "(strategy.ladder.level_size_lots); set it for your symbol's price")
    return new, notes


_V3_DROPPED_VENUE_KEYS = {
    "kind": "where the bot trades is chosen by the command: mmbot sim, or mmbot run --venue",
    "host": "mmbot run --venue local always talks to 127.0.0.1",
    "port": "mmbot run --venue local --port",
}


def _v3_to_v4(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
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


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}
"""``MIGRATIONS[n](mapping)`` upgrades a version-n mapping to version n+1 and returns it with its notes."""


def migrate(raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Upgrade ``raw`` to ``CURRENT_VERSION``; returns the upgraded mapping (a copy) and notes of what changed."""
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
        data, step_notes = step(data)
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
    """A YAML-safe exact form of ``value``: an int when integral, else its decimal string."""
    return int(value) if value == value.to_integral_value() else str(value)


