"""Whether each invariant can be checked on a session's data: the reason it cannot (then it is skipped), or None.

An invariant whose inputs are missing is never passed silently: ``CheckReport.skipped`` names it with the
reason, and the gate fails on it unless the caller allows the skip (``CheckConfig.allowed_skips``). An input
that may legitimately be empty (no fills, no orders) does not skip: the invariant then holds trivially.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import SessionIndex
from exchange_sim.checker.state import VenueState

Coverage = Callable[[SessionIndex, CheckConfig, VenueState | None], str | None]


def _needs_venue(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    return "no venue end state (VenueState) was given" if venue is None else None


def _ledger(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    return None if index.records("bot.position") else "no bot.position record"


def _fills_once(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    if index.trades and not index.records("bot.fill_applied"):
        return f"no bot.fill_applied record although the venue has {len(index.trades)} fill(s) of the bot"
    return None


def _no_orphans(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    return None if index.records("bot.open_orders") else "no bot.open_orders record"


def _inventory_limit(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    missing = sorted({str(t["s"]) for t in index.trades} - set(config.hard_limit_lots))
    return f"no configured hard limit for {', '.join(missing)}" if missing else None


def _soft_limit(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    missing = sorted({str(t["s"]) for t in index.trades} - set(config.soft_limit_lots))
    return f"no configured SOFT inventory bound for {', '.join(missing)}" if missing else None


def _taker_cap(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    if config.taker_cap_per_hour is None and any(t.get("ta") == index.account for t in index.trades):
        return "no configured taker cap, and the bot took liquidity"
    return None


def _intents(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    if index.orders and not index.records("bot.intent"):
        return f"no bot.intent record although the bot has {len(index.orders)} order(s) on the venue"
    return None


def _final_status(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    ended = [cid for cid, h in index.orders.items() if h.terminal is not None]
    if ended and not index.records("bot.order_final"):
        return f"no bot.order_final record although {len(ended)} order(s) of the bot ended on the venue"
    return None


def _reconciled(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    if any(not r.get("final") for r in index.records("bot.position")):
        return None
    return "no bot.position record after a reconcile (only the final one, or none)"


def _user_subs(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    if index.orders and not index.user_subs:
        return (f"no user_sub record although the bot has {len(index.orders)} order(s) on the venue (the venue did "
                "not log its user-data subscriptions)")
    return None


COVERAGE: Mapping[str, Coverage] = {
    "1.ledger": _ledger, "2.fill_once": _fills_once, "3.conservation": _needs_venue, "4.no_orphans": _no_orphans,
    "6.inventory_limit": _inventory_limit, "9.rate_and_taker": _taker_cap, "13.closed_at_end": _needs_venue,
    "14.one_per_intent": _intents, "15.final_status": _final_status, "16.reconciled_books": _reconciled,
    "17.restart_ledger": _reconciled, "18.resync_after_gap": _user_subs, "19.soft_reduce_only": _soft_limit,
    "21.terminal_stays": _final_status, "22.soft_reduces": _soft_limit,
}


def skip_reason(name: str, index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> str | None:
    """Why invariant ``name`` cannot be checked on this session, or None when it runs."""
    coverage = COVERAGE.get(name)
    return None if coverage is None else coverage(index, config, venue)
