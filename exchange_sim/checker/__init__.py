"""The invariant checker of DESIGN section 4: independent of the bot (it never imports ``bot``), it recomputes
everything from a session's event log (venue records + the bot-side records of ``records.BOT_RECORDS``) and the
venue's end state (``VenueState``).

    violations = check_session(read_events(path), VenueState.capture(world.engine, ["bot"], initial))

``check_safety`` (items 1-9, 11) and ``check_liveness`` (item 10) run separately; ``check_session`` runs both.
``check_determinism`` (item 12) compares two runs' logs. Each invariant is one function in ``INVARIANTS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import Event, SessionIndex
from exchange_sim.checker.liveness import check_determinism, check_liveness, events_digest, heal_times
from exchange_sim.checker.matching import check_matching
from exchange_sim.checker.records import BOT_RECORDS, INJECTED_PREFIX, Violation
from exchange_sim.checker.safety import (
    Check,
    check_conservation,
    check_fills_once,
    check_ledger,
    check_no_orphans,
    check_order_lifecycle,
)
from exchange_sim.checker.state import SymbolFacts, VenueState
from exchange_sim.checker.trading import (
    check_hard_guard,
    check_inventory_limit,
    check_no_crossing,
    check_rate_and_taker,
)

SAFETY: Mapping[str, Check] = {
    "1.ledger": check_ledger, "2.fill_once": check_fills_once, "3.conservation": check_conservation,
    "4.no_orphans": check_no_orphans, "5.order_lifecycle": check_order_lifecycle,
    "6.inventory_limit": check_inventory_limit, "7.no_crossing": check_no_crossing, "8.hard_guard": check_hard_guard,
    "9.rate_and_taker": check_rate_and_taker, "11.matching": check_matching,
}
LIVENESS: Mapping[str, Check] = {"10.liveness": check_liveness}
INVARIANTS: Mapping[str, Check] = {**SAFETY, **LIVENESS}


def _run(checks: Mapping[str, Check], events: Iterable[Event] | SessionIndex, venue_state: VenueState | None,
         config: CheckConfig | None) -> list[Violation]:
    config = config if config is not None else CheckConfig()
    index = events if isinstance(events, SessionIndex) else SessionIndex.build(events, config.account)
    out: list[Violation] = []
    for check in checks.values():
        out += check(index, config, venue_state)
    return sorted(out, key=lambda v: (v.t_s, v.invariant))


def check_safety(events: Iterable[Event] | SessionIndex, venue_state: VenueState | None = None,
                 config: CheckConfig | None = None) -> list[Violation]:
    return _run(SAFETY, events, venue_state, config)


def check_liveness_only(events: Iterable[Event] | SessionIndex, venue_state: VenueState | None = None,
                        config: CheckConfig | None = None) -> list[Violation]:
    return _run(LIVENESS, events, venue_state, config)


def check_session(events: Iterable[Event], venue_state: VenueState | None = None,
                  config: CheckConfig | None = None) -> list[Violation]:
    """Every invariant the data allows, safety then liveness, as one time-ordered list (empty: all hold)."""
    config = config if config is not None else CheckConfig()
    index = SessionIndex.build(events, config.account)
    return check_safety(index, venue_state, config) + check_liveness_only(index, venue_state, config)


__all__ = [
    "BOT_RECORDS", "INJECTED_PREFIX", "INVARIANTS", "LIVENESS", "SAFETY", "CheckConfig", "SessionIndex",
    "SymbolFacts", "VenueState", "Violation", "check_determinism", "check_liveness", "check_liveness_only",
    "check_safety", "check_session", "events_digest", "heal_times",
]
