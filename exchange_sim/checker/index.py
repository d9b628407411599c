"""SessionIndex: one pass over a session's event log, grouping what the invariant checks need.

Times are kept in simulated microseconds (``t``) as in the log; ``Violation.t_s`` converts to seconds.
Orders the fault injector placed in the bot's name (client id ``INJECTED_PREFIX``) are kept apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from exchange_sim.checker.records import INJECTED_PREFIX, TERMINAL

Event = dict[str, Any]

DOWN_KINDS = frozenset({"crash", "cold_restart", "operator_stop"})  # the bot is down until its next bot.restart


@dataclass(slots=True)
class OrderHistory:
    """The venue's reports of one of the bot's orders (by client id), oldest first."""

    cid: str
    symbol: str
    side: str
    price: int | None
    qty: int
    order_ids: set[int] = field(default_factory=set)
    reports: list[Event] = field(default_factory=list)

    @property
    def first_t(self) -> int:
        return int(self.reports[0]["t"])

    @property
    def terminal(self) -> Event | None:
        return next((r for r in self.reports if r["X"] in TERMINAL), None)

    def live_at(self, t: int) -> bool:
        """Resting on the venue at ``t`` (after every report at or before ``t``)."""
        last = None
        for report in self.reports:
            if report["t"] > t:
                break
            last = report
        return last is not None and last["X"] not in TERMINAL


@dataclass(slots=True)
class SessionIndex:
    account: str
    end_t: int = 0
    orders: dict[str, OrderHistory] = field(default_factory=dict)
    trades: list[Event] = field(default_factory=list)  # the bot's trades (maker or taker)
    all_trades: list[Event] = field(default_factory=list)
    market: list[Event] = field(default_factory=list)  # book and trade records, in log order
    requests: list[Event] = field(default_factory=list)
    rejects: list[Event] = field(default_factory=list)
    faults: list[Event] = field(default_factory=list)
    fault_hits: list[Event] = field(default_factory=list)  # effects of faults on the bot's requests and orders
    bot: dict[str, list[Event]] = field(default_factory=dict)
    order_reports: list[Event] = field(default_factory=list)  # every tracked account's order records
    user_subs: list[Event] = field(default_factory=list)  # the account's user-data subscriptions (start, end)

    @classmethod
    def build(cls, events: Iterable[Event], account: str) -> SessionIndex:
        index = cls(account)
        for event in events:
            index.add(event)
        return index

    def add(self, event: Event) -> None:
        kind = event["k"]
        self.end_t = max(self.end_t, int(event["t"]))
        if kind == "book":
            self.market.append(event)
        elif kind == "trade":
            self.market.append(event)
            self.all_trades.append(event)
            if self.account in (event.get("ma"), event.get("ta")):
                self.trades.append(event)
        elif kind == "order":
            self.order_reports.append(event)
            if event.get("a") == self.account and not str(event.get("c", "")).startswith(INJECTED_PREFIX):
                cid = str(event["c"])
                history = self.orders.get(cid)
                if history is None:
                    history = self.orders[cid] = OrderHistory(cid, event["s"], event["S"], event["p"], event["q"])
                history.order_ids.add(int(event["id"]))
                history.reports.append(event)
        elif kind == "request" and event.get("a") == self.account:
            self.requests.append(event)
        elif kind == "reject" and event.get("a") == self.account:
            self.rejects.append(event)
        elif kind == "fault":
            self.faults.append(event)
        elif kind == "user_sub" and event.get("a") == self.account:
            self.user_subs.append(event)
        elif kind == "fault_hit" and event.get("a") == self.account:
            self.fault_hits.append(event)
        elif kind.startswith(("bot.", "harness.")) and event.get("a", self.account) == self.account:
            self.bot.setdefault(kind, []).append(event)  # the bot's claims, and what the harness did to it

    def records(self, kind: str) -> list[Event]:
        return self.bot.get(kind, [])

    def signed_lots(self, trade: Event) -> int:
        """The trade's effect on the bot's inventory (buys positive)."""
        buy = 1 if trade["S"] == "BUY" else -1  # taker side
        lots = int(trade["q"])
        signed = 0
        if trade.get("ta") == self.account:
            signed += buy * lots
        if trade.get("ma") == self.account:
            signed -= buy * lots
        return signed

    def memory_epoch(self, t_us: int) -> int:
        """How many cold restarts (``bot.restart`` with ``cold: true``: a new instance without the state file)
        happened at or before ``t_us``. Each cold restart starts a new ledger: the bot legitimately learns the
        earlier fills again from the venue, so "booked once" holds within an epoch."""
        return sum(1 for r in self.records("bot.restart") if r.get("cold") and int(r["t"]) <= t_us)

    def fault_windows(self) -> list[tuple[int, int, str]]:
        """(start, end, kind) of every fault, from its start and end records (unfinished: end of session). A crash
        (a cold restart, an operator stop: ``DOWN_KINDS``) lasts until the next bot instance starts (its
        ``bot.restart``), not just the instant of the kill."""
        return sorted(self.fault_windows_by_id().values())

    def fault_windows_by_id(self) -> dict[int, tuple[int, int, str]]:
        """``fault_windows`` keyed by the fault's id."""
        ends = {int(e["id"]): int(e["t"]) for e in self.faults if e["ph"] == "end"}
        restarts = sorted(int(r["t"]) for r in self.records("bot.restart"))
        out = {}
        for event in self.faults:
            if event["ph"] != "start":
                continue
            fault_id, start = int(event["id"]), int(event["t"])
            end = ends.get(fault_id, self.end_t)
            if event["f"] in DOWN_KINDS:
                end = max(end, next((t for t in restarts if t >= start), self.end_t))
            out[fault_id] = (start, end, str(event["f"]))
        return out


def seconds(t_us: int | float) -> float:
    return t_us / 1_000_000
