"""The invariant checker of DESIGN section 4: independent of the bot (it never imports ``bot``), it recomputes
everything from a session's event log (venue records + the bot-side records of ``records.BOT_RECORDS``) and the
venue's end state (``VenueState``).

    violations = check_session(read_events(path), VenueState.capture(world.engine, ["bot"], initial), config)

``check_safety`` (items 1-9, 11, 13-22) and ``check_liveness`` (item 10) run separately; ``check_session`` runs
both and returns the gate's failures; ``check_report`` returns the ``CheckReport`` (violations, and each
invariant it could not run with the reason: ``coverage``). A skipped invariant fails the gate unless
``CheckConfig.allowed_skips`` names it. ``check_determinism`` (item 12) compares two runs' logs. Each invariant
is one function in ``INVARIANTS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.coverage import skip_reason
from exchange_sim.checker.exposure import (
    check_post_only,
    check_soft_reduce_only,
    check_soft_reduces,
)
from exchange_sim.checker.index import Event, SessionIndex, seconds
from exchange_sim.checker.liveness import check_determinism, check_liveness, events_digest, heal_times
from exchange_sim.checker.matching import check_matching
from exchange_sim.checker.records import BOT_RECORDS, INJECTED_PREFIX, CheckReport, Violation
from exchange_sim.checker.resync import check_resync_after_gap
from exchange_sim.checker.safety import (
    Check,
    check_conservation,
    check_fills_once,
    check_ledger,
    check_no_orphans,
    check_order_lifecycle,
)
from exchange_sim.checker.state import SymbolFacts, VenueState
from exchange_sim.checker.terminal import check_terminal_stays
from exchange_sim.checker.trading import (
    check_hard_guard,
    check_inventory_limit,
    check_no_crossing,
    check_rate_and_taker,
)
from exchange_sim.checker.venue_truth import (
    check_closed_at_end,
    check_final_status,
    check_one_order_per_intent,
    check_reconciled_books,
    check_restart_ledger,
)

SAFETY: Mapping[str, Check] = {
    "1.ledger": check_ledger, "2.fill_once": check_fills_once, "3.conservation": check_conservation,
    "4.no_orphans": check_no_orphans, "5.order_lifecycle": check_order_lifecycle,
    "6.inventory_limit": check_inventory_limit, "7.no_crossing": check_no_crossing, "8.hard_guard": check_hard_guard,
    "9.rate_and_taker": check_rate_and_taker, "11.matching": check_matching, "13.closed_at_end": check_closed_at_end,
    "14.one_per_intent": check_one_order_per_intent, "15.final_status": check_final_status,
    "16.reconciled_books": check_reconciled_books, "17.restart_ledger": check_restart_ledger,
    "18.resync_after_gap": check_resync_after_gap, "19.soft_reduce_only": check_soft_reduce_only,
    "20.post_only": check_post_only, "21.terminal_stays": check_terminal_stays, "22.soft_reduces": check_soft_reduces,
}
LIVENESS: Mapping[str, Check] = {"10.liveness": check_liveness}
INVARIANTS: Mapping[str, Check] = {**SAFETY, **LIVENESS}


def _report(checks: Mapping[str, Check], index: SessionIndex, venue_state: VenueState | None,
            config: CheckConfig) -> CheckReport:
    out: list[Violation] = []
    skipped: dict[str, str] = {}
    for name, check in checks.items():
        reason = skip_reason(name, index, config, venue_state)
        if reason is not None:
            skipped[name] = reason
        else:
            out += check(index, config, venue_state)
    return CheckReport(tuple(sorted(out, key=lambda v: (v.t_s, v.invariant))), skipped, seconds(index.end_t))


def _index(events: Iterable[Event] | SessionIndex, config: CheckConfig) -> SessionIndex:
    return events if isinstance(events, SessionIndex) else SessionIndex.build(events, config.account)


def check_report(events: Iterable[Event] | SessionIndex, venue_state: VenueState | None = None,
                 config: CheckConfig | None = None) -> CheckReport:
    """Every invariant, safety then liveness: what broke and what could not be checked (with the reason)."""
    config = config if config is not None else CheckConfig()
    return _report(INVARIANTS, _index(events, config), venue_state, config)


def check_safety(events: Iterable[Event] | SessionIndex, venue_state: VenueState | None = None,
                 config: CheckConfig | None = None) -> list[Violation]:
    config = config if config is not None else CheckConfig()
    return _report(SAFETY, _index(events, config), venue_state, config).failures(config.allowed_skips)


def check_liveness_only(events: Iterable[Event] | SessionIndex, venue_state: VenueState | None = None,
                        config: CheckConfig | None = None) -> list[Violation]:
    config = config if config is not None else CheckConfig()
    return _report(LIVENESS, _index(events, config), venue_state, config).failures(config.allowed_skips)


def check_session(events: Iterable[Event], venue_state: VenueState | None = None,
                  config: CheckConfig | None = None) -> list[Violation]:
    """The gate's failures: every violation, and every skipped invariant not in ``config.allowed_skips``, as one
    time-ordered list (empty: all invariants ran and hold)."""
    config = config if config is not None else CheckConfig()
    return check_report(events, venue_state, config).failures(config.allowed_skips)


__all__ = [
    "BOT_RECORDS", "INJECTED_PREFIX", "INVARIANTS", "LIVENESS", "SAFETY", "CheckConfig", "CheckReport", "SessionIndex",
    "SymbolFacts", "VenueState", "Violation", "check_determinism", "check_liveness", "check_liveness_only",
    "check_report", "check_safety", "check_session", "events_digest", "heal_times",
]
