"""SimVenue: the in-process venue API the bot talks to in virtual time, and the session's event recorder.

``SimVenue`` owns the matching engine and is its listener: every execution report, trade, book-level change and
tracked balance change is written to the ``EventLog`` (DESIGN section 2, event log) and fanned out to
subscriptions. The life of every user-data subscription is written too (``user_sub``: its start, and its end
with ``why`` it ended; ``exchange_sim.eventlog`` lists the fields): the venue's own evidence of a client's stream
gaps, for the checker's invariant 18.

``VenueClient`` is one account's connection: every request travels to the venue after a seeded one-way delay, is
executed by the engine at its arrival time, and its answer travels back after another delay; rejected requests raise
``EngineError`` (Binance code and message) after the return delay, exactly like a REST error. Feeds (depth diffs
every ``depth_interval_ms`` with Binance U/u ids, public trades, the account's execution reports and balance
updates) arrive late but in order (``exchange_sim.feeds``).

Only accounts opened through ``open_account`` are *tracked*: their orders and balances are logged and
reported. The background market's own accounts are not (their activity is in the log as book and trade
records), which keeps a 24-hour session's memory bounded.

Faults: ``faults`` is None (requests, feeds and the log behave exactly as described above) until an
``exchange_sim.faults.FaultInjector`` installs itself; it then owns the request transport and sees every
subscription (``exchange_sim.faults.hooks``).

All times come from the runtime's virtual clock; nothing here reads the wall clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import simpy

from exchange_sim.engine.accounts import DEFAULT_HISTORY_LIMIT
from exchange_sim.engine.matching import CancelReplaceMode, CancelReplaceResult, MatchingEngine
from exchange_sim.engine.types import (
    AccountId,
    Balance,
    ClientOrderId,
    EngineError,
    ErrorCode,
    ExecType,
    Order,
    OrderId,
    PlaceRequest,
    PlaceResult,
    Side,
    SymbolSpec,
    Trade,
    TradeId,
)
from exchange_sim.eventlog import EventLog
from exchange_sim.feeds import (
    AccountUpdate,
    DepthDiff,
    DepthSnapshot,
    ExecutionReport,
    Subscription,
    SubscriptionOverflow,
)
from exchange_sim.latency import LatencyConfig, LatencyModel
from exchange_sim.ticker import Ticker

if TYPE_CHECKING:
    from exchange_sim.faults.hooks import VenueFaults

R = TypeVar("R")
UserEvent = ExecutionReport | AccountUpdate

# Enum members read per request, as module globals: in CPython 3.11 ``Side.BUY`` goes through EnumType's
# ``__getattr__`` hook, about three times the cost of a global read.
_BUY = Side.BUY


class VenueRuntime(Protocol):
    """The clock and loops a venue runs on: ``exchange_sim.runtime.SimRuntime`` (virtual time) or the wire
    server's real-time driver (``exchange_sim.server.clock``). ``now()`` is seconds since the session start."""

    @property
    def env(self) -> simpy.Environment: ...

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...

    def now(self) -> float: ...

    def now_us(self) -> int: ...


@dataclass(slots=True)
class _PendingDepth:
    first_update_id: int = 0
    last_update_id: int = 0
    bids: dict[int, int] = field(default_factory=dict)
    asks: dict[int, int] = field(default_factory=dict)


class SimVenue:
    """The simulated venue of one session (see module docstring)."""

    def __init__(
        self,
        runtime: VenueRuntime,
        symbols: Iterable[SymbolSpec],
        log: EventLog,
        *,
        seed: int,
        latency: LatencyConfig | None = None,
        depth_interval_ms: int = 100,
        history_limit: int = DEFAULT_HISTORY_LIMIT,
    ) -> None:
        self.runtime = runtime
        self.log = log
        self.seed = seed
        self.latency = latency if latency is not None else LatencyConfig()
        self.depth_interval_s = depth_interval_ms / 1000.0
        self.engine = MatchingEngine(symbols, clock_us=runtime.now_us, listener=self, history_limit=history_limit)
        self.trades = 0
        self.trade_observers: list[Callable[[Trade], None]] = []  # e.g. the market's impact of every taker
        self._tracked: set[AccountId] = set()
        self._depth_subs: dict[str, list[Subscription[DepthDiff]]] = {}
        self._trade_subs: dict[str, list[Subscription[Trade]]] = {}
        self._user_subs: dict[AccountId, list[Subscription[UserEvent]]] = {}
        self._pending: dict[str, _PendingDepth] = {}
        self._flusher = Ticker(runtime.env, self._flush_depth)
        self._connections = 0
        self._user_sub_ids = 0  # user-data subscriptions served so far (the ``n`` of ``user_sub`` records)
        self.faults: VenueFaults | None = None  # set by a fault injector's ``install``; None: no faults

    # -- accounts and connections --
    def open_account(
        self,
        account: AccountId,
        balances: Mapping[str, int],
        *,
        maker_fee_ppm: int | None = None,
        taker_fee_ppm: int | None = None,
    ) -> None:
        """Open a tracked account with ``balances`` in atoms (its orders and balances are logged)."""
        self._tracked.add(account)
        self.engine.open_account(
            account, dict(balances), tracked=True, maker_fee_ppm=maker_fee_ppm, taker_fee_ppm=taker_fee_ppm
        )

    def connect(self, account: AccountId) -> VenueClient:
        """A new connection for ``account`` with its own latency stream."""
        if account not in self._tracked:
            raise EngineError(ErrorCode.REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.")
        self._connections += 1
        latency = LatencyModel.for_connection(self.latency, self.seed, f"{account}#{self._connections}")
        return VenueClient(self, account, latency)

    def now_us(self) -> int:
        return self.runtime.now_us()

    @property
    def tracked_accounts(self) -> frozenset[AccountId]:
        """Accounts opened through ``open_account`` (the bots'), whose orders and balances are logged."""
        return frozenset(self._tracked)

    # -- EngineListener --
    # Records are built whole for ``EventLog.append`` (one dict each). Enum members go in as themselves: they are
    # ``StrEnum``s, which orjson writes as their string value (the same bytes as ``.value``, without the slow
    # enum property read).
    def on_execution(self, order: Order, exec_type: ExecType, trade: Trade | None, reason: str) -> None:
        if order.account not in self._tracked:
            return
        now = self.runtime.now_us()
        self.log.append({
            "t": now, "k": "order",
            "a": order.account, "s": order.symbol, "id": order.order_id, "c": order.client_order_id,
            "x": exec_type, "X": order.status, "S": order.side, "o": order.type,
            "p": order.price_ticks, "q": order.orig_qty_lots, "z": order.executed_qty_lots,
            "Z": order.cum_quote_atoms, "tid": trade.trade_id if trade is not None else None, "r": reason,
        })
        subs = self._user_subs.get(order.account)
        if subs:
            report = ExecutionReport(now, order, exec_type, trade, reason)
            for sub in subs:
                sub.publish(report)

    def on_book_level(self, symbol: str, side: Side, price_ticks: int, level_qty_lots: int, update_id: int) -> None:
        self.log.append({"t": self.runtime.now_us(), "k": "book", "s": symbol, "S": side, "p": price_ticks,
                         "q": level_qty_lots, "u": update_id})
        pending = self._pending.get(symbol)
        if pending is None:
            return
        if not pending.first_update_id:
            pending.first_update_id = update_id
        pending.last_update_id = update_id
        (pending.bids if side is _BUY else pending.asks)[price_ticks] = level_qty_lots

    def on_trade(self, trade: Trade) -> None:
        self.trades += 1
        self.log.append({
            "t": trade.time_us, "k": "trade",
            "s": trade.symbol, "id": trade.trade_id, "p": trade.price_ticks, "q": trade.qty_lots,
            "S": trade.taker_side, "mo": trade.maker_order_id, "to": trade.taker_order_id,
            "ma": trade.maker_account, "ta": trade.taker_account, "mf": trade.maker_fee_atoms,
            "tf": trade.taker_fee_atoms,
        })
        for sub in self._trade_subs.get(trade.symbol, ()):
            sub.publish(trade)
        for observer in self.trade_observers:
            observer(trade)

    def on_balance(self, account: AccountId, asset: str, free_atoms: int, locked_atoms: int) -> None:
        if account not in self._tracked:
            return
        now = self.runtime.now_us()
        self.log.append({"t": now, "k": "balance", "a": account, "A": asset, "f": free_atoms, "l": locked_atoms})
        subs = self._user_subs.get(account)
        if subs:
            update = AccountUpdate(now, account, asset, free_atoms, locked_atoms)
            for sub in subs:
                sub.publish(update)

    # -- feeds --
    def subscribe_depth(self, symbol: str, delay_s: Callable[[], float], maxsize: int) -> Subscription[DepthDiff]:
        self.engine.spec(symbol)  # raises -1121 for an unknown symbol
        subs = self._depth_subs.setdefault(symbol, [])
        if self.faults is not None:
            delay_s = self.faults.feed_delay("ws", symbol, delay_s)
        sub: Subscription[DepthDiff] = Subscription(
            self.runtime.loop, delay_s, maxsize=maxsize, on_close=lambda s: _remove(subs, s)
        )
        subs.append(sub)
        if self.faults is not None:
            self.faults.on_subscribe("ws", symbol, sub)
        self._pending.setdefault(symbol, _PendingDepth())
        if not self._flusher.scheduled:
            self._flusher.start(self._flush_next)
        return sub

    def subscribe_trades(self, symbol: str, delay_s: Callable[[], float], maxsize: int) -> Subscription[Trade]:
        self.engine.spec(symbol)
        subs = self._trade_subs.setdefault(symbol, [])
        if self.faults is not None:
            delay_s = self.faults.feed_delay("ws", symbol, delay_s)
        sub: Subscription[Trade] = Subscription(
            self.runtime.loop, delay_s, maxsize=maxsize, on_close=lambda s: _remove(subs, s)
        )
        subs.append(sub)
        if self.faults is not None:
            self.faults.on_subscribe("trades", symbol, sub)
        return sub

    def subscribe_user(self, account: AccountId, delay_s: Callable[[], float]) -> Subscription[UserEvent]:
        """The account's lossless execution-report and balance stream. Its life is logged (``user_sub``, module
        docstring): the checker's evidence of where a client's stream had a gap (invariant 18)."""
        subs = self._user_subs.setdefault(account, [])
        if self.faults is not None:
            delay_s = self.faults.feed_delay("user", None, delay_s)
        self._user_sub_ids += 1
        sub_id = self._user_sub_ids

        def ended(sub: Subscription[UserEvent]) -> None:
            _remove(subs, sub)
            self.log.append({"t": self.runtime.now_us(), "k": "user_sub", "a": account, "n": sub_id, "ph": "end",
                             "why": _end_reason(sub.error)})

        sub: Subscription[UserEvent] = Subscription(
            self.runtime.loop, delay_s, maxsize=1_000_000, lossless=True, on_close=ended
        )
        self.log.append({"t": self.runtime.now_us(), "k": "user_sub", "a": account, "n": sub_id, "ph": "start"})
        subs.append(sub)
        if self.faults is not None:
            self.faults.on_subscribe("user", None, sub)
        return sub

    def _flush_next(self, _event: object = None) -> None:
        """Wait one depth interval while any depth subscription is open, else stop the flusher."""
        if any(self._depth_subs.values()):
            self._flusher.schedule(self.depth_interval_s)

    def _flush_depth(self, _event: object) -> None:
        """Every depth interval, publish each symbol's changed levels as one diff (Binance depth@100ms).

        The flusher is a ``Ticker`` (a simpy process without a generator): ``_flush_next`` is its loop
        condition and wait. If publishing raises (a fault interceptor, a subscriber's delay function), the error
        leaves ``env.step()`` with the flusher unscheduled; the next ``subscribe_depth`` starts it again."""
        now = self.runtime.now_us()
        pending_by_symbol = self._pending
        for symbol in sorted(pending_by_symbol):
            pending = pending_by_symbol[symbol]
            subs = self._depth_subs.get(symbol)
            if not subs:
                del pending_by_symbol[symbol]
                continue
            if not pending.first_update_id:
                continue
            diff = DepthDiff(
                symbol, now, pending.first_update_id, pending.last_update_id,
                tuple(sorted(pending.bids.items(), reverse=True)), tuple(sorted(pending.asks.items())),
            )
            pending.first_update_id = pending.last_update_id = 0  # reused for the next interval
            pending.bids.clear()
            pending.asks.clear()
            for sub in subs:
                sub.publish(diff)
        self._flush_next()

    # -- request path --
    def record_request(self, account: AccountId, op: str, fields: dict[str, Any]) -> None:
        self.log.append({"t": self.runtime.now_us(), "k": "request", "a": account, "op": op, **fields})

    def record_reject(self, account: AccountId, op: str, error: EngineError, fields: dict[str, Any],
                      *, t_us: int | None = None) -> None:
        """Log a rejected request, at ``t_us`` (when it was answered; default now)."""
        self.log.append({"t": self.runtime.now_us() if t_us is None else t_us, "k": "reject",
                         "a": account, "op": op, "code": int(error.code), "m": error.msg, **fields})


def _settle(answer: asyncio.Future[R], result: R | None, error: BaseException | None) -> None:
    """The answer reaches the client (unless it stopped waiting)."""
    if answer.done():
        return
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(result)  # type: ignore[arg-type]  # R when error is None


def _end_reason(error: BaseException | None) -> str:
    """Why a user-data subscription ended, for its ``user_sub`` end record."""
    if error is None:
        return "closed"  # the client unsubscribed or its connection closed
    if isinstance(error, SubscriptionOverflow):
        return "overflow"  # the client stopped reading: disconnected, never skipped
    return "reset"  # ended by the venue side (a fault's reset or disconnect)


def _remove(subs: list[Subscription[Any]], sub: Subscription[Any]) -> None:
    if sub in subs:
        subs.remove(sub)


class VenueClient:
    """One account's connection to the ``SimVenue`` (async; every call costs a seeded round trip)."""

    def __init__(self, venue: SimVenue, account: AccountId, latency: LatencyModel) -> None:
        self.venue = venue
        self.account = account
        self.latency = latency
        self.requests = 0
        # what a signed request carries (checked only by a fault injector's clock-skew model): the client's
        # correction of its clock to the server's (set it from ``server_time_us``) and its recvWindow
        self.timestamp_offset_us = 0
        self.recv_window_ms = 5_000
        # False when the requests come through the wire server's handlers (``exchange_sim.server.inprocess``),
        # whose ``auth`` checks the signed timestamp itself against the server clock (skew included)
        self.check_timestamps = True

    def _call(self, op: str, fields: dict[str, Any], action: Callable[[], R]) -> Awaitable[R]:
        """Send a request (at once); await the result to get the answer: one-way delay, execute at arrival,
        one-way delay back; errors raise after the delay.

        Without faults both legs are loop timers and the caller waits on one future (one suspension, not two
        sleeps, and no coroutine of its own); cancelling the caller before the request arrives means it never
        arrives, as with a sleep.
        """
        self.requests += 1
        venue = self.venue
        if venue.faults is not None:
            return venue.faults.call(self, op, fields, action)
        loop = venue.runtime.loop
        answer: asyncio.Future[R] = loop.create_future()
        loop.call_at(loop.time() + self.latency.request_s(), self._arrive, answer, op, fields, action)
        return answer

    def _arrive(self, answer: asyncio.Future[R], op: str, fields: dict[str, Any], action: Callable[[], R]) -> None:
        """The request reaches the venue: execute it and send the answer (or the error) back after a delay."""
        if answer.done():  # the caller gave up (cancelled) while the request was on its way: it never arrives
            return
        venue = self.venue
        venue.record_request(self.account, op, fields)
        loop = venue.runtime.loop
        try:
            result = action()
        except EngineError as error:
            venue.record_reject(self.account, op, error, fields)
            loop.call_at(loop.time() + self.latency.request_s(), _settle, answer, None, error)
            return
        except Exception as bug:  # not an answer: a bug in the venue, raised in the caller at once
            answer.set_exception(bug)
            return
        loop.call_at(loop.time() + self.latency.request_s(), _settle, answer, result, None)

    # -- market data --
    async def exchange_info(self) -> list[SymbolSpec]:
        engine = self.venue.engine
        return await self._call("exchangeInfo", {}, lambda: [engine.spec(s) for s in engine.symbols])

    async def depth(self, symbol: str, limit: int = 100) -> DepthSnapshot:
        engine = self.venue.engine

        def snapshot() -> DepthSnapshot:
            bids, asks, update_id = engine.depth(symbol, limit)
            return DepthSnapshot(symbol, update_id, tuple(bids), tuple(asks))

        return await self._call("depth", {"s": symbol}, snapshot)

    async def server_time_us(self) -> int:
        return await self._call("time", {}, self.venue.now_us)

    # -- trading --
    async def place(self, request: PlaceRequest) -> PlaceResult:
        if request.account != self.account:
            raise ValueError("a connection places orders for its own account only")
        fields = {"s": request.symbol, "c": request.client_order_id, "S": request.side.value,
                  "o": request.type.value, "p": request.price_ticks, "q": request.qty_lots}
        return await self._call("place", fields, lambda: self.venue.engine.place(request))

    async def cancel(
        self, symbol: str, *, order_id: OrderId | None = None, client_order_id: ClientOrderId | None = None
    ) -> Order:
        engine = self.venue.engine
        return await self._call(
            "cancel", {"s": symbol, "id": order_id, "c": client_order_id},
            lambda: engine.cancel(self.account, symbol, order_id=order_id, client_order_id=client_order_id),
        )

    async def cancel_all(self, symbol: str) -> list[Order]:
        engine = self.venue.engine
        return await self._call("cancelAll", {"s": symbol}, lambda: engine.cancel_all(self.account, symbol))

    async def cancel_replace(
        self,
        symbol: str,
        new: PlaceRequest,
        *,
        mode: CancelReplaceMode = CancelReplaceMode.STOP_ON_FAILURE,
        cancel_order_id: OrderId | None = None,
        cancel_client_order_id: ClientOrderId | None = None,
    ) -> CancelReplaceResult:
        engine = self.venue.engine
        return await self._call(
            "cancelReplace",
            {"s": symbol, "id": cancel_order_id, "c": cancel_client_order_id, "nc": new.client_order_id},
            lambda: engine.cancel_replace(
                self.account, symbol, new=new, mode=mode,
                cancel_order_id=cancel_order_id, cancel_client_order_id=cancel_client_order_id,
            ),
        )

    async def get_order(
        self, symbol: str, *, order_id: OrderId | None = None, client_order_id: ClientOrderId | None = None
    ) -> Order:
        engine = self.venue.engine
        return await self._call(
            "getOrder", {"s": symbol, "id": order_id, "c": client_order_id},
            lambda: engine.get_order(self.account, symbol, order_id=order_id, client_order_id=client_order_id),
        )

    async def open_orders(self, symbol: str | None = None) -> list[Order]:
        engine = self.venue.engine
        return await self._call("openOrders", {"s": symbol}, lambda: engine.open_orders(self.account, symbol))

    async def balances(self) -> dict[str, Balance]:
        engine = self.venue.engine
        return await self._call("account", {}, lambda: engine.balances(self.account))

    async def my_trades(self, symbol: str, *, from_id: TradeId | None = None, limit: int = 500) -> list[Trade]:
        engine = self.venue.engine
        return await self._call(
            "myTrades", {"s": symbol, "from": from_id},
            lambda: engine.trades(self.account, symbol, from_id=from_id, limit=limit),
        )

    # -- streams --
    def subscribe_depth(self, symbol: str, *, maxsize: int = 10_000) -> Subscription[DepthDiff]:
        return self.venue.subscribe_depth(symbol, self.latency.feed_s, maxsize)

    def subscribe_trades(self, symbol: str, *, maxsize: int = 10_000) -> Subscription[Trade]:
        return self.venue.subscribe_trades(symbol, self.latency.feed_s, maxsize)

    def subscribe_user(self) -> Subscription[UserEvent]:
        return self.venue.subscribe_user(self.account, self.latency.feed_s)
