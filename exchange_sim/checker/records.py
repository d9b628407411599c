"""What the checker reads: the venue's record kinds, the bot-side record kinds a runner must emit, and the
``Violation`` it reports. This module is the contract between the bot runner and the checker.

Venue records (written by ``SimVenue`` and the fault injector; see ``exchange_sim.eventlog``): ``order``,
``reject``, ``trade``, ``book``, ``balance``, ``request``, ``user_sub``, ``regime``, ``fault``, ``fault_hit``,
``session``.

Bot records: the runner writes them into the *same* event log (``world.log.record(t_us, kind, fields)``) at the
simulated time they happen. Field names are short like the venue's; ``a`` is the bot's account, ``s`` a symbol,
``c`` a client order id, prices are ticks, quantities lots. Every record is optional: an invariant whose records
are missing is not checked: the checker reports it in ``CheckReport.skipped`` with the reason, and a skipped
invariant fails the gate unless the caller allows it (``CheckConfig.allowed_skips``).

Bot records are claims, never the source of a limit: limits come from the session's config (``CheckConfig``);
a ``bot.hard_limit`` or ``bot.taker_cap`` record that disagrees with it is itself a violation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

BOT_RECORDS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "bot.intent": MappingProxyType({
        "a": "account", "c": "new client order id", "s": "symbol", "S": "BUY or SELL", "o": "order type",
        "p": "price ticks (null for MARKET)", "q": "quantity lots",
        "bb": "best bid ticks of the local book the price was derived from (null if none)",
        "ba": "best ask ticks of that book (null if none)",
        "_when": "just before the order request is sent (after pre-trade checks passed)",
    }),
    "bot.order_final": MappingProxyType({
        "a": "account", "c": "client order id", "X": "terminal status the bot booked: FILLED, CANCELED, "
        "REJECTED, EXPIRED (never reached the venue or expired there)",
        "_when": "when the bot moves an order to a terminal status (once per order)",
    }),
    "bot.fill_applied": MappingProxyType({
        "a": "account", "s": "symbol", "tid": "venue trade id", "c": "client order id", "S": "BUY or SELL",
        "q": "lots", "_when": "when a fill is booked (not for duplicates it ignored)",
    }),
    "bot.position": MappingProxyType({
        "a": "account", "s": "symbol", "lots": "inventory in lots (buys minus sells since the session began)",
        "final": "true for the record written at session end after shutdown and a last reconcile",
        "_when": "after every reconcile (final=false; written by the order manager after ``bot.open_orders``, one "
                 "per symbol) and at session end (final=true); invariants 16 and 17 judge every one",
    }),
    "bot.balances": MappingProxyType({
        "a": "account", "atoms": "asset -> total (free + locked) atoms, as the reconcile's balance listing read them",
        "_when": "after every reconcile (written by the order manager after the bot.position records)",
    }),
    "bot.open_orders": MappingProxyType({
        "a": "account", "cids": "client ids the bot believes rest on the venue",
        "pending": "client ids in flight or in doubt (UNKNOWN/LOST/PENDING_*)",
        "phase": "reconciled (after a reconcile or a heal) or final (session end)",
        "_when": "after each reconcile and at session end",
    }),
    "bot.guard": MappingProxyType({
        "level": "OK, SOFT or HARD (OK: reset or healed)",
        "reason": "why: the reasons in force (e.g. LATENCY, INVENTORY; RECONCILE while HARD is kept after a heal "
        "until the venue is reconciled), 'operator reset[: note]', or 'reconciled after <cause>' when HARD ends",
        "latch": "the latch holding the bot HARD until an operator reset: '' (none), kill_switch, operator, "
        "inventory, drawdown (or another reason the config makes latching, in lower case)",
        "recoverable": "true when no latch is in force: a HARD clears by itself once its cause is healthy for "
        "the configured recovery time and a reconcile succeeded",
        "_when": "whenever the guard level or the latch changes, and at an operator reset",
    }),
    "bot.hard_limit": MappingProxyType({
        "s": "symbol", "lots": "the bot's claimed inventory hard limit (absolute lots; must equal the config's)",
        "_when": "at start and when changed",
    }),
    "bot.taker_cap": MappingProxyType({
        "per_hour": "the bot's claimed cap of taker fills in any sliding hour (one of the configured caps)",
        "_when": "at start and when the cap changes",
    }),
    "bot.book": MappingProxyType({
        "s": "symbol", "U": "first update id applied", "u": "last update id applied",
        "bb": "best bid after applying", "ba": "best ask after applying", "snap": "true for a snapshot (U=u=id)",
        "_when": "after a snapshot and after each applied diff (may be sampled; then contiguity is not checked)",
    }),
    "bot.quoting_resumed": MappingProxyType({
        "s": "symbol", "_when": "when the bot places quotes again after a pause (fault, guard, restart)",
    }),
    "bot.restart": MappingProxyType({"a": "account", "_when": "when a new bot instance starts on the state"}),
})

INJECTED_PREFIX = "x-fault-"  # orders the fault injector placed in the bot's name: not the bot's intents
TERMINAL = frozenset({"FILLED", "CANCELED", "REJECTED", "EXPIRED", "EXPIRED_IN_MATCH"})


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant: which (DESIGN section 4 number and name), when, the orders involved, and why."""

    invariant: str
    t_s: float
    orders: tuple[str, ...]
    detail: str

    def __str__(self) -> str:
        orders = f" [{', '.join(self.orders)}]" if self.orders else ""
        return f"{self.invariant} at t={self.t_s:.6f}s{orders}: {self.detail}"


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What the checker found: the broken invariants, and the invariants it could not run with the reason."""

    violations: tuple[Violation, ...]
    skipped: Mapping[str, str]  # invariant -> why it was not checked
    end_t_s: float = 0.0

    def failures(self, allowed_skips: frozenset[str] = frozenset()) -> list[Violation]:
        """The gate's verdict: every violation, plus each skipped invariant the caller did not allow."""
        skips = [Violation(name, self.end_t_s, (), f"skipped: {reason}")
                 for name, reason in sorted(self.skipped.items()) if name not in allowed_skips]
        return sorted((*self.violations, *skips), key=lambda v: (v.t_s, v.invariant))
