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
    One excuse, lenient and taken from the venue's records only: a request of the bot naming the order (a place,
    cancel or cancel-replace, either leg) whose outcome a fault hid from the bot before the first booking (its
    answer lost or cut, or an error although the venue executed it: ``LOST_ANSWERS``, an executed 503). The
    bot's handler of that request, failing after the booking, marks the record in doubt (UNKNOWN) and resolves
    it by a query; it books the same status again. That is a known weakness of the order manager (a terminal
    record overwritten by an unknown outcome), excused here so the gate separates it from a report that re-opens
    a record; the excuse never covers a claim that the order rests (``cids``) or a second booking with another
    status.
    Whether the first booking agrees with the venue is invariant 15's question.
"""

from __future__ import annotations

from collections import defaultdict

from exchange_sim.checker.config import CheckConfig
from exchange_sim.checker.index import Event, SessionIndex, seconds
from exchange_sim.checker.records import Violation
from exchange_sim.checker.state import VenueState

_NAME = "21.terminal_stays"
# fault_hit effects that leave the outcome of a request unknown to the bot: no answer came, or the answer did not
# say (a processed request answered with an error; a 503 on a write that the venue executed anyway)
LOST_ANSWERS = frozenset({"reply_lost", "processed_lost", "reply_truncated", "processed_error"})
_ORDER_OPS = frozenset({"place", "cancel", "cancelReplace"})
ANSWER_WINDOW_US = 1_000_000  # a lost-answer hit naming no order: the requests of its type this long before it


def _answer_lost_at(index: SessionIndex) -> dict[str, int]:
    """Client id -> when a fault first lost the answer to a request of the bot naming it (both legs of a
    cancel-replace: the request record names the new leg ``nc``). A hit that names no client id is laid on every
    request of its type the venue received in the ``ANSWER_WINDOW_US`` before it (a partition loses the answer
    of the request it caught a moment after the venue processed it)."""
    named: dict[str, list[tuple[int, list[str]]]] = defaultdict(list)  # op -> (t, client ids), in log order
    for request in index.requests:
        op = str(request.get("op"))
        if op in _ORDER_OPS and request.get("c"):
            named[op].append((int(request["t"]), [str(request["c"]), *([str(request["nc"])] if request.get("nc")
                                                                      else [])]))
    lost: dict[str, int] = {}
    for hit in index.fault_hits:
        op, t = str(hit.get("op")), int(hit["t"])
        unknown = hit.get("e") in LOST_ANSWERS or (hit.get("e") == "http_503" and hit.get("executed"))
        if not unknown or op not in _ORDER_OPS:
            continue
        for at, cids in named[op]:
            if (at <= t and (cids[0] == hit["c"] if hit.get("c") else at >= t - ANSWER_WINDOW_US)):
                for cid in cids:
                    lost.setdefault(cid, t)
    return lost


def check_terminal_stays(index: SessionIndex, config: CheckConfig, venue: VenueState | None) -> list[Violation]:
    """21. A record booked terminal never re-opens within a memory epoch (see the module docstring)."""
    lost = _answer_lost_at(index)
    booked: dict[tuple[int, str], Event] = {}  # (epoch, client id) -> the first bot.order_final
    claims = [(int(r["t"]), 0, r) for r in index.records("bot.open_orders")]  # at one instant, a claim first:
    finals = [(int(r["t"]), 1, r) for r in index.records("bot.order_final")]  # the log's order is not known
    out: list[Violation] = []
    reported: set[tuple[int, str]] = set()

    def excused(key: tuple[int, str], status: object) -> bool:
        first = booked[key]
        return lost.get(key[1], int(first["t"]) + 1) <= int(first["t"]) and (status is None or status == first["X"])

    for t, is_final, record in sorted(claims + finals, key=lambda e: (e[0], e[1])):
        epoch = index.memory_epoch(t)
        if is_final:
            key = (epoch, str(record["c"]))
            first = booked.setdefault(key, record)
            if first is not record and key not in reported and not excused(key, record["X"]):
                reported.add(key)
                out.append(Violation(_NAME, seconds(t), (key[1],), f"booked {record['X']} again, "
                                     f"{seconds(t - int(first['t'])):.3f}s after it booked it {first['X']}: "
                                     "the record left its terminal state"))
            continue
        for cid, resting in sorted({**{c: False for c in record.get("pending", ())},
                                    **{c: True for c in record.get("cids", ())}}.items()):
            key = (epoch, str(cid))
            if key in booked and key not in reported and (resting or not excused(key, None)):
                reported.add(key)
                out.append(Violation(_NAME, seconds(t), (key[1],), f"claimed {'resting' if resting else 'in doubt'} "
                                     f"after it was booked {booked[key]['X']} at {seconds(booked[key]['t']):.3f}s"))
    return out
