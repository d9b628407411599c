"""Invariant 21: a record the bot booked terminal stays terminal, judged from the bot's order records and the
venue's records of what happened to the bot's requests.

21. terminal_stays: an order's life on the venue ends once (every terminal status is final there); the bot's
    record of it must end once too. Within one memory epoch (``SessionIndex.memory_epoch``: a new instance
    without the state file never saw the earlier booking and may book the order again), after the bot booked an
    order terminal (``bot.order_final``):
    * it never books it terminal again: ``bot.order_final`` is written once per order, when the record *moves*
      to a terminal status, so a second one means the record left its terminal state in between (a late report
      re-opened it: the bot believed a finished order open again, and may quote, cancel or count exposure on it);
    * it never claims the order resting or in doubt again (``bot.open_orders`` naming it in ``cids`` or
      ``pending``).
    No excuse: a request whose answer a fault hid, failing after the booking, must leave the terminal record as
    it is (the order manager marks a record in doubt only while it is not terminal; session 9 removed the excuse
    this invariant first carried for that weakness, seen on seeds 8, 14 and 28).
    Whether the first booking agrees with the venue is invariant 15's question.
"""

from __future__ import annotations

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import Event, SessionIndex, seconds
from exchange_sim.checker.records import Violation
from exchange_sim.checker.state import VenueState

_NAME = "21.terminal_stays"


def check_terminal_stays(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """21. A record booked terminal never re-opens within a memory epoch (see the module docstring)."""
    booked: dict[tuple[int, str], Event] = {}  # (epoch, client id) -> the first bot.order_final
    claims = [(int(r["t"]), 0, r) for r in index.records("bot.open_orders")]  # at one instant, a claim first:
    finals = [(int(r["t"]), 1, r) for r in index.records("bot.order_final")]  # the log's order is not known
    out: list[Violation] = []
    reported: set[tuple[int, str]] = set()

    for t, is_final, record in sorted(claims + finals, key=lambda e: (e[0], e[1])):
        epoch = index.memory_epoch(t)
        if is_final:
            key = (epoch, str(record["c"]))
            first = booked.setdefault(key, record)
            if first is not record and key not in reported:
                reported.add(key)
                out.append(Violation(_NAME, seconds(t), (key[1],), f"booked {record['X']} again, "
                                     f"{seconds(t - int(first['t'])):.3f}s after it booked it {first['X']}: "
                                     "the record left its terminal state"))
            continue
        for cid, resting in sorted({**{c: False for c in record.get("pending", ())},
                                    **{c: True for c in record.get("cids", ())}}.items()):
            key = (epoch, str(cid))
            if key in booked and key not in reported:
                reported.add(key)
                out.append(Violation(_NAME, seconds(t), (key[1],), f"claimed {'resting' if resting else 'in doubt'} "
                                     f"after it was booked {booked[key]['X']} at {seconds(booked[key]['t']):.3f}s"))
    return out
