"""Invariant 18, resync_after_gap: after the bot's user-data stream ends, it reads its order state from the venue
before it subscribes again (Binance: after a user-data stream gap, re-read order state before relying on the
stream again; a stream resumed without that read has silently lost the execution reports of the gap).

Evidence, all written by the venue (ADR 0012: the checker trusts the venue, not the bot):

* the account's user-data subscriptions, from ``user_sub`` records (``exchange_sim.venue``: ``ph`` start or end,
  ``n`` the venue's serial). A *re-subscription* is a start that follows an end of the same account;
* the account's reads of its order state: a ``request`` of op ``openOrders`` (the resting orders) or ``myTrades``
  (the fills), or a ``reject`` or ``fault_hit`` of one of those ops (the read reached the venue and was refused,
  or a fault lost it on the way).

Rule: every re-subscription has such a read whose venue time lies after the last end before it (strictly) and at
or before its start. Why this evidence is sound:

* the venue's records, not ``bot.open_orders``: a bot that skips the read writes no claim either way, and a claim
  is what a buggy bot gets wrong; the venue saw (or a fault swallowed) every read the bot sent;
* ``openOrders`` or ``myTrades``: a reconcile lists the fills first and the open orders next (both are what the
  gap hid: missed fills and missed order ends); ``getOrder`` of one order is not a re-read of the account;
* a refused or lost read counts: the rule judges what the bot did after the gap, not whether the venue let it
  succeed. A failed reconcile is retried by the bot's periodic reconciler, and its books are judged by invariants
  4 and 16; a bot that never tries leaves no read at all, whatever the venue's health;
* after the end, not before: a listing read before the stream ended cannot contain the gap's events;
* a restart (crash, cold restart, operator stop) needs no exemption: the old instance's subscription ends when
  it dies, and the new instance reconciles at start (``myTrades``, ``openOrders``) before its first subscription.

A session whose venue logged no ``user_sub`` although the bot has orders on it is skipped (``coverage``).
"""

from __future__ import annotations

from bisect import bisect_right

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import SessionIndex, seconds
from exchange_sim.checker.records import Violation
from exchange_sim.checker.state import VenueState

RESYNC_OPS = frozenset({"openOrders", "myTrades"})  # the reads that re-learn the account's order state


def resync_reads(index: SessionIndex) -> list[int]:
    """Venue times (µs, sorted) at which the account read its order state: a request of a ``RESYNC_OPS`` op, or
    its reject or ``fault_hit`` (refused at, or lost on the way to, the venue)."""
    return sorted(int(e["t"]) for e in (*index.requests, *index.rejects, *index.fault_hits)
                  if e.get("op") in RESYNC_OPS)


def check_resync_after_gap(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """18. Every user-data re-subscription is preceded, after the previous subscription's end, by a read of the
    account's order state (module docstring)."""
    out = []
    reads = resync_reads(index)
    last_end = None
    for event in index.user_subs:
        if event["ph"] == "end":
            last_end = event
            continue
        if last_end is None:
            continue  # the account's first subscription: nothing was missed yet
        end_t, start_t = int(last_end["t"]), int(event["t"])
        first_read = bisect_right(reads, end_t)
        if first_read < len(reads) and reads[first_read] <= start_t:
            continue
        out.append(Violation("18.resync_after_gap", seconds(start_t), (),
                             f"user-data subscription {event.get('n')} started {seconds(start_t - end_t):.3f}s "
                             f"after subscription {last_end.get('n')} ended ({last_end.get('why', '?')}) with no "
                             "openOrders or myTrades read of the account in between"))
    return out
