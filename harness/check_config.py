"""Derive the invariant checker's bounds (``CheckConfig``) from the bot's configuration, not from its records.

The checker (``exchange_sim.checker``) never imports the bot; this module is the one place that reads a
``BotConfig`` for it. It recomputes each limit the way the bot configures it, independently of the bot's code:

* hard inventory limit per symbol, in lots: ``risk.inventory.hard_max_for(symbol)`` floored to the symbol's
  ``step_size`` (at least one lot), as ``AppContext.max_inventory_lots`` does from the venue's filters;
* SOFT inventory bound per symbol, in lots (invariants 19, 22): ``ceil(soft_fraction * hard_max_for(symbol) /
  step_size)``, the least |position| at which the inventory guard reads SOFT (``value >= soft``);
* the time past the SOFT bound before a reducing order must rest (invariant 22): one reconcile interval (a lost
  fill report is learnt by then);
* taker cap: every per-regime cap a ``bot.taker_cap`` record may name, and their maximum as the hard cap;
* the HARD cancel bound of invariant 8: ``risk.cancel_bound_s`` (the bound the bot is configured to keep);
* the liveness bound of invariant 10: ``LIVENESS_BASE_S`` + ``risk.hard_recovery_s``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal

from bot.config import BotConfig
from exchange_sim.checker.config import CheckConfig

__all__ = ["LIVENESS_BASE_S", "check_config_for", "hard_limit_lots", "soft_limit_lots"]

LIVENESS_BASE_S = 60.0  # after a heal: detect it, reconnect, resync the book and quote (before any HARD recovery)


def hard_limit_lots(config: BotConfig, symbol: str, step_size: Decimal) -> int:
    """The hard |inventory| limit of ``symbol`` in lots: the configured base amount floored to whole steps."""
    if step_size <= 0:
        raise ValueError(f"{symbol}: step size must be > 0, got {step_size}")
    return max(1, int(config.risk.inventory.hard_max_for(symbol) // step_size))


def soft_limit_lots(config: BotConfig, symbol: str, step_size: Decimal) -> int:
    """The least |inventory| in lots at which the inventory guard of ``symbol`` reads SOFT."""
    if step_size <= 0:
        raise ValueError(f"{symbol}: step size must be > 0, got {step_size}")
    soft = Decimal(str(config.risk.inventory.soft_fraction)) * config.risk.inventory.hard_max_for(symbol)
    return max(1, math.ceil(soft / step_size))


def check_config_for(
    config: BotConfig, account: str, step_sizes: Mapping[str, Decimal], *, liveness_bound_s: float | None = None,
    terminal_bound_s: float = 120.0, allowed_skips: frozenset[str] = frozenset(),
) -> CheckConfig:
    """The checker's bounds for a session of ``config`` on ``account``; ``step_sizes`` are the symbols' lot
    filters as the venue lists them. ``liveness_bound_s`` (None: ``LIVENESS_BASE_S`` plus the bot's configured
    ``risk.hard_recovery_s``, the time a recoverable HARD needs once its cause is healthy before the bot reconciles
    and quotes again). ``KeyError`` if a configured symbol has no step size."""
    caps = config.risk.taker_cap
    per_regime = frozenset({caps.calm_per_hour, caps.moderate_per_hour, caps.volatile_per_hour})
    return CheckConfig(
        account=account,
        terminal_bound_s=terminal_bound_s,
        hard_cancel_bound_s=config.risk.cancel_bound_s,
        liveness_bound_s=(LIVENESS_BASE_S + config.risk.hard_recovery_s) if liveness_bound_s is None
        else liveness_bound_s,
        hard_limit_lots={s: hard_limit_lots(config, s, step_sizes[s]) for s in config.symbols},
        soft_limit_lots={s: soft_limit_lots(config, s, step_sizes[s]) for s in config.symbols},
        soft_reduce_bound_s=config.execution.reconcile_interval_s,
        taker_cap_per_hour=max(per_regime),
        taker_caps=per_regime,
        allowed_skips=allowed_skips,
    )
