"""OrderManager: every order of one account, sent concurrently, tracked durably, reconciled with the venue.

Invariants it keeps (DESIGN section 4, items 2, 4, 5):

* Every order gets a fresh client order id ``<prefix>-<instance>-<n>``: ``n`` from the persistent counter of the
  ``OrderStore``, ``instance`` a per-instance token (base 36 of the clock's ``now_ms`` at ``start``, or at the
  first order: deterministic in simulation), so ids stay unique even across a lost state file. It is saved as
  PENDING_NEW *before* it is sent, so a crash at any point leaves a record to reconcile. ``place`` never overwrites a
  record (``BotError(STATE_INVALID)``); adopting an order of ours advances the counter past its number. A retry
  of the same intent reuses the same id (idempotent).
* Reports and fills are attributed by venue order id, not client id alone: one naming a client id whose record
  carries another venue order id is not merged into that record (the fill still counts for the position).
* An unknown outcome (timeout after sending, 5xx, -1007, a duplicate-id answer) is never a failure and is
  never resubmitted under a new id: the order becomes UNKNOWN and is queried by client id until the venue
  says what happened; after ``unknown_queries_before_lost`` "does not exist" answers it is LOST and polled.
* A fill is applied exactly once, keyed by ``(symbol, trade_id)`` in the store; inventory is the sum of
  applied fills, so late, duplicated or backfilled reports cannot double-count. A late fill of a
  cancelled or lost order is booked, not dropped.
* Placement and cancellation run concurrently (``asyncio.gather`` with per-order error handling), bounded by
  ``max_in_flight``; once ``shutdown()`` starts no order is sent again.

* Missed fills are backfilled from a per-symbol watermark (``fills.synced.<symbol>`` in the store): the highest
  trade id the venue's own trade list has been read up to. Fills that arrive on the user stream never move it,
  so a missed report older than a received one is still found by the next reconcile.
* Every fact a checker needs is written to the injected ``Recorder`` (``bot.core.recorder``): ``bot.intent``
  just before an order is sent, ``bot.order_final`` when an order of this life turns terminal,
  ``bot.fill_applied`` for each newly booked fill, ``bot.open_orders``, ``bot.position`` (per symbol) and
  ``bot.balances`` after each reconcile.

Errors: venue and risk failures are ``BotError``s handled per order (logged with their code); anything else
is a bug and propagates.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TypeVar

from bot.core.errors import BotError, ErrorCode
from bot.core.recorder import NULL_RECORDER
from bot.core.sending import send_check
from bot.core.types import (
    Balance,
    BalanceUpdate,
    ClientOrderId,
    Fill,
    NewOrder,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Quote,
    Side,
    SymbolInfo,
    TimeInForce,
    TradeId,
    UserEvent,
    VenueOrder,
)
from bot.execution.config import ExecutionConfig
from bot.execution.state import OrderRecord, OrderStore
from bot.execution.transitions import add_fill, mark_unknown_query, merge
from bot.interfaces import Clock, Recorder, Venue

log = logging.getLogger("bot.execution")
R = TypeVar("R")
PreTradeHook = Callable[[NewOrder], None]
TouchView = Callable[[str], tuple[int | None, int | None]]  # symbol -> (best bid, best ask) the quotes came from
_WATERMARK = "fills.synced."  # store meta key prefix: trade id the venue's trade list was read up to
_QUOTING = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
_DOUBTFUL = (OrderStatus.PENDING_NEW, OrderStatus.UNKNOWN, OrderStatus.LOST)
USER_STREAM_BACKOFF_MAX_S = 30.0  # the user stream's reconnect backoff cap (reconcile retries included)
CANCEL_ATTEMPTS = 3  # cancel sends per cancel() when queries find the order resting after an unanswered cancel
ROUND_TRIPS_MAX = 1_000  # venue round trips kept per symbol for the latency guard
_TERMINAL_KEPT = 10_000  # recently finished orders kept in memory for late reports


@dataclass(slots=True)
class ExecutionStats:
    placed: int = 0
    rejected: int = 0
    risk_rejected: int = 0
    cancelled: int = 0
    unknown_outcomes: int = 0
    lost: int = 0
    fills: int = 0
    duplicate_fills: int = 0
    adopted: int = 0
    retries: int = 0
    reconciles: int = 0
    silent_fill_checks: int = 0  # queries after a trade went through an order's price with no report of its fill
    pruned: int = 0  # orders the state store forgot (finished, reconciled, older than prune_after_s)
    errors_by_code: dict[str, int] = field(default_factory=dict)

    def count_error(self, code: ErrorCode) -> None:
        self.errors_by_code[code.value] = self.errors_by_code.get(code.value, 0) + 1


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    venue_open: int
    adopted: int
    resolved: int
    fills_backfilled: int
    still_doubtful: int


@dataclass(frozen=True, slots=True)
class ShutdownReport:
    """What ``OrderManager.shutdown`` achieved, as the venue last showed it."""

    cancelled: int
    verified: bool  # the latest successful listing showed none of our orders open
    remaining: tuple[ClientOrderId, ...] | None  # our orders in that listing; None: no listing succeeded (unknown)
    positions_lots: dict[str, int]


def lost_on_reducing_side(record: OrderRecord, exposure_lots: int) -> bool:
    """Whether ``record`` is LOST on the side that reduces |exposure| (``side.sign * exposure_lots < 0``). Such an
    order counts neither towards the per-side cap nor in the pre-trade headroom (``bot.app``): the venue answered
    "no such order" to every query (``unknown_queries_before_lost``), and counting it kept a reduce-only (SOFT) bot
    from reducing until it expired (``lost_expire_after_s``; ADR 0015, session 9). The cost: one that does arrive
    late and fills can overshoot by its size."""
    return record.status is OrderStatus.LOST and record.side.sign * exposure_lots < 0


class OrderManager:
    """Places, cancels and tracks one account's orders on one venue (see module docstring)."""

    def __init__(
        self,
        venue: Venue,
        store: OrderStore,
        clock: Clock,
        config: ExecutionConfig,
        symbols: Mapping[str, SymbolInfo],
        *,
        pretrade: PreTradeHook | None = None,
        recheck: PreTradeHook | None = None,
        on_outcome: Callable[[bool], None] | None = None,
        on_fill: Callable[[Fill], None] | None = None,
        rng: random.Random,
        recorder: Recorder | None = None,
        touch: TouchView | None = None,
        instance: str | None = None,
    ) -> None:
        self._venue = venue
        self._instance = instance  # set at start (or the first order) from the clock unless given
        self._recorder = recorder if recorder is not None else NULL_RECORDER
        self._touch = touch
        self._store = store
        self._clock = clock
        self.config = config
        self.symbols = dict(symbols)
        self._pretrade = pretrade
        self._recheck = recheck
        self._on_outcome = on_outcome
        self._on_fill = on_fill
        self._rng = rng  # retry jitter: a stream the composition root derives from the run's seed
        self.stats = ExecutionStats()
        # working set: open orders only; terminal ones move to a bounded LRU (the store keeps all of them)
        self._orders: dict[ClientOrderId, OrderRecord] = {r.client_order_id: r for r in store.open_orders()}
        self._terminal: OrderedDict[ClientOrderId, OrderRecord] = OrderedDict()
        self.changes = 0  # bumped on every order-state change: lets a quote loop skip when nothing changed
        self._fill_totals: dict[ClientOrderId, tuple[int, int]] = {}
        self._unbooked: dict[ClientOrderId, tuple[str, int]] = {}  # executed but not booked: (symbol, signed lots)
        # per order, the cumulative quantities whose execution report carried a fill: a report redelivered under a
        # new trade id has the same one and is not booked again (dedupe by (order, cumulative qty), not trade id)
        self._fill_marks: dict[ClientOrderId, set[int]] = {}
        # traded through: a check due (its timer) or running (its task); ``abandon`` cancels both
        self._suspects: dict[ClientOrderId, asyncio.TimerHandle | asyncio.Task[None]] = {}
        # per symbol, its order actions' venue round trips (monotonic s at the answer, ms): the latency guard's input
        self._round_trips: dict[str, deque[tuple[float, float]]] = {}
        self._positions: dict[str, int] = {s: store.position_lots(s) for s in sorted(self.symbols)}
        self.balances: dict[str, Balance] = {}
        self._slots = asyncio.Semaphore(config.max_in_flight)
        self._in_flight = 0
        self._sending: set[ClientOrderId] = set()  # a place/cancel request of ours is on the wire
        self._accepting = True
        self._pruned_ms: int | None = None  # when the store was last pruned (``_prune``)
        self.ready = False

    # -- views --
    def inventory_lots(self, symbol: str) -> int:
        """Net position from applied fills (buys minus sells) since the state store began (the ledger)."""
        return self._positions.get(symbol, 0)

    def exposure_lots(self, symbol: str) -> int:
        """What risk decisions size against: the ledger position plus executions the venue reported on our
        orders whose fills are not booked yet (a missed or late trade report; the backfill books them later)::

            exposure = inventory_lots + sum(side.sign * (record.filled_lots - booked lots) for unbooked records)

        Without it, a bot whose trade reports lag quotes on a stale position and passes its hard limit (found by
        the chaos gate: seeds 59 and 65)."""
        position = self._positions.get(symbol, 0)
        if self._unbooked:
            position += sum(lots for s, lots in self._unbooked.values() if s == symbol)
        return position

    def order(self, client_order_id: ClientOrderId) -> OrderRecord | None:
        """The record of an order: open, recently finished, or from the store."""
        return (
            self._orders.get(client_order_id) or self._terminal.get(client_order_id)
            or self._store.order(client_order_id)
        )

    def _get(self, client_order_id: ClientOrderId) -> OrderRecord:
        record = self.order(client_order_id)
        if record is None:
            raise BotError(ErrorCode.STATE_INVALID, f"no record of order {client_order_id}")
        return record

    def sizes(self) -> dict[str, int]:
        """Memory probe: open orders, the LRU of finished ones (and their fill totals; both capped), and the
        orders with a request on the wire."""
        return {"open": len(self._orders), "terminal_lru": len(self._terminal),
                "fill_totals": len(self._fill_totals), "sending": len(self._sending)}

    def open_orders(self, symbol: str | None = None) -> list[OrderRecord]:
        """Orders that may rest on the venue (incl. in-flight and doubtful ones), in creation order."""
        # the working set holds open orders only (``_save`` moves terminal ones out): no status check needed
        if symbol is None:
            return list(self._orders.values())
        return [r for r in self._orders.values() if r.symbol == symbol]

    @property
    def in_flight(self) -> int:
        return self._in_flight

    # -- bookkeeping --
    def _now_ms(self) -> int:
        return self._clock.now_ms()

    def _save(self, record: OrderRecord) -> OrderRecord:
        """Persist ``record``; keep it in the working set while open, in the bounded LRU once terminal."""
        cid = record.client_order_id
        self._store.save_order(record)
        self.changes += 1
        self._track_unbooked(record)
        if not record.status.is_terminal:
            self._orders[cid] = record
            return record
        if self._orders.pop(cid, None) is not None and self._recorder.enabled:
            self._recorder.record("bot.order_final", {"c": cid, "X": record.status.value})
        self._terminal[cid] = record
        self._terminal.move_to_end(cid)
        while len(self._terminal) > _TERMINAL_KEPT:
            evicted, _ = self._terminal.popitem(last=False)
            self._fill_totals.pop(evicted, None)
            self._fill_marks.pop(evicted, None)
        return record

    def _track_unbooked(self, record: OrderRecord) -> None:
        """Keep ``_unbooked`` (see ``exposure_lots``) in step with ``record``'s reported executions."""
        cid = record.client_order_id
        if record.filled_lots <= 0:
            self._unbooked.pop(cid, None)
            return
        cached = self._fill_totals.get(cid)
        booked = cached[0] if cached is not None else self._store.fill_totals(cid)[0]
        if record.filled_lots > booked:
            self._unbooked[cid] = (record.symbol, record.side.sign * (record.filled_lots - booked))
        else:
            self._unbooked.pop(cid, None)

    def _apply_fill(self, fill: Fill) -> None:
        record = self.order(fill.client_order_id)
        if record is not None and record.venue_order_id not in (None, fill.order_id):
            log.warning("fill %s of venue order %s is not order %s's (venue order %s)", fill.trade_id,
                        fill.order_id, record.client_order_id, record.venue_order_id, extra={"code": "ID_MISMATCH"})
            record = None  # booked for the position below, never attributed to that record
        if not self._store.record_fill(fill):
            self.stats.duplicate_fills += 1
            return
        self.stats.fills += 1
        if self._recorder.enabled:
            self._recorder.record("bot.fill_applied", {"s": fill.symbol, "tid": fill.trade_id,
                                                       "c": fill.client_order_id, "S": fill.side.value,
                                                       "q": fill.qty_lots})
        self._positions[fill.symbol] = self._positions.get(fill.symbol, 0) + fill.side.sign * fill.qty_lots
        if self._on_fill is not None:
            self._on_fill(fill)
        if record is None:
            return
        cached = self._fill_totals.get(fill.client_order_id)
        if cached is None:  # first fill seen in this life, or evicted: the store has every booked fill
            lots, quote = self._store.fill_totals(fill.client_order_id)
        else:
            lots, quote = cached[0] + fill.qty_lots, cached[1] + fill.quote_atoms
        self._fill_totals[fill.client_order_id] = (lots, quote)
        self._save(add_fill(self._get(fill.client_order_id), lots, quote, self._now_ms()))

    def _apply_report(self, report: VenueOrder) -> OrderRecord | None:
        record = self.order(report.client_order_id)
        if record is None:
            if not report.client_order_id.startswith(self.config.client_id_prefix + "-"):
                return None  # not ours (manual orders on the same account are left alone)
            if self._store.forgot(report.client_order_id):
                return None  # finished, reconciled and pruned long ago: a late copy of its last report
            record = self._adopt(report)
        elif record.venue_order_id not in (None, report.order_id):
            log.warning("report of venue order %s names %s, which is venue order %s: not merged", report.order_id,
                        record.client_order_id, record.venue_order_id, extra={"code": "ID_MISMATCH"})
            return None
        return self._save(merge(record, report, self._now_ms()))

    def _adopt(self, report: VenueOrder) -> OrderRecord:
        """Track an order of ours the venue knows and we do not (e.g. state lost after the send)."""
        self.stats.adopted += 1
        log.warning("adopting unknown order %s", report.client_order_id, extra={"code": "ADOPTED"})
        number = report.client_order_id.rsplit("-", 1)[-1]
        if number.isdigit():  # never issue this id again, whatever instance token it carries
            self._store.advance_client_seq(int(number))
        now = self._now_ms()
        return OrderRecord(
            client_order_id=report.client_order_id, symbol=report.symbol, side=report.side, type=report.type,
            price_ticks=report.price_ticks, qty_lots=report.orig_qty_lots, status=OrderStatus.UNKNOWN,
            venue_order_id=report.order_id, created_ms=now, updated_ms=now,
        )

    def apply(self, event: UserEvent) -> None:
        """Apply a user-stream event (execution report or balance update); idempotent."""
        if isinstance(event, BalanceUpdate):
            self.balances[event.asset] = event.balance
            return
        if isinstance(event, OrderUpdate):
            if event.fill is not None:
                marks = self._fill_marks.setdefault(event.order.client_order_id, set())
                if event.order.executed_qty_lots in marks:
                    self.stats.duplicate_fills += 1  # the same execution again, under another trade id
                else:
                    marks.add(event.order.executed_qty_lots)
                    self._apply_fill(event.fill)
            self._apply_report(event.order)

    # -- requests with retries --
    def round_trips_ms(self, symbol: str, since_s: float) -> list[float]:
        """Round trips (ms) of ``symbol``'s order actions answered at or after monotonic ``since_s``, oldest first.

        One sample per attempt sent (place, cancel, cancelReplace, query), from just before the send to its answer,
        error or timeout: waits the bot imposes on itself (a Retry-After, retry backoff) are not venue latency and
        are not in it. Bounded: the newest ``ROUND_TRIPS_MAX`` per symbol."""
        samples = self._round_trips.get(symbol)
        return [ms for at_s, ms in samples if at_s >= since_s] if samples else []

    async def _call(self, op: str, request: Callable[[], Awaitable[R]], symbol: str | None = None) -> R:
        """Send ``request``; retry transient errors with exponential backoff and jitter, never rejects.

        With ``symbol``, each attempt's round trip is kept for the latency guard (``round_trips_ms``)."""
        attempt = 0
        while True:
            attempt += 1
            sent_s = self._clock.monotonic_s()
            try:
                try:
                    result = await request()
                finally:
                    if symbol is not None:
                        self._note_round_trip(symbol, sent_s)
            except BotError as error:
                self.stats.count_error(error.code)
                if self._on_outcome is not None and (error.recoverable or error.outcome_unknown):
                    self._on_outcome(False)  # venue health: rejects are answers, not failures
                if not error.recoverable or attempt >= self.config.retry_max_attempts:
                    raise
                delay = self.config.retry_base_delay_s * 2 ** (attempt - 1) * (0.5 + self._rng.random())
                if error.retry_after_ms is not None:
                    delay = max(delay, error.retry_after_ms / 1000.0)
                self.stats.retries += 1
                log.info("%s retry %d in %.3fs after %s", op, attempt, delay, error.code.value,
                         extra={"code": error.code.value})
                await asyncio.sleep(delay)
                continue
            if self._on_outcome is not None:
                self._on_outcome(True)
            return result

    def _note_round_trip(self, symbol: str, sent_s: float) -> None:
        now_s = self._clock.monotonic_s()
        samples = self._round_trips.get(symbol)
        if samples is None:
            samples = self._round_trips[symbol] = deque(maxlen=ROUND_TRIPS_MAX)
        samples.append((now_s, (now_s - sent_s) * 1000.0))

    # -- placing --
    @property
    def instance(self) -> str:
        """This instance's client-id token: base 36 of ``now_ms`` when first needed (at ``start``)."""
        if self._instance is None:
            self._instance = _base36(self._clock.now_ms())
        return self._instance

    def _next_id(self) -> ClientOrderId:
        """A fresh client id; ``STATE_INVALID`` if a record already has it (never overwrite another order)."""
        cid = self._store.next_client_order_id(f"{self.config.client_id_prefix}-{self.instance}")
        if self.order(cid) is not None:
            raise BotError(ErrorCode.STATE_INVALID, f"client order id {cid} is already recorded: not reusing it")
        return cid

    def _check_accepting(self) -> None:
        if not self._accepting:
            raise BotError(ErrorCode.SHUTTING_DOWN, "order manager is shutting down: no new orders")

    async def place(
        self,
        symbol: str,
        side: Side,
        qty_lots: int,
        price_ticks: int | None = None,
        *,
        order_type: OrderType = OrderType.LIMIT_MAKER,
        time_in_force: TimeInForce = TimeInForce.GTC,
    ) -> OrderRecord:
        """Send one order and return its record once the venue answered (or its fate was resolved).

        Raises ``BotError`` for a reject (the record is REJECTED), a risk refusal (nothing recorded) or
        shutdown; never for an unknown outcome (the record says UNKNOWN or LOST, or what the query found).
        """
        self._check_accepting()
        new = NewOrder(
            symbol=symbol, side=side, type=order_type, qty_lots=qty_lots, price_ticks=price_ticks,
            time_in_force=time_in_force,
            client_order_id=self._next_id(),
        )
        if self._pretrade is not None:
            try:
                self._pretrade(new)
            except BotError:
                self.stats.risk_rejected += 1
                raise
        now = self._now_ms()
        cid = new.client_order_id
        self._save(OrderRecord(
            client_order_id=cid, symbol=symbol, side=side, type=order_type, price_ticks=price_ticks,
            qty_lots=qty_lots, status=OrderStatus.PENDING_NEW, created_ms=now, updated_ms=now,
        ))
        async with self._slots:
            self._check_accepting()
            self._in_flight += 1
            self._sending.add(cid)
            try:
                check = self._recheck_hook(new)
                if check is not None:
                    check()  # waiting for a slot took time: the guard may have fired since the decision
                self._record_intent(new)
                with send_check(check):
                    report = await self._call("place", lambda: self._venue.place(new), new.symbol)
            except BotError as error:
                if error.outcome_unknown or error.code is ErrorCode.DUPLICATE_ORDER:
                    self.stats.unknown_outcomes += 1
                    if self._mark_in_doubt(cid):
                        await self._resolve(cid)
                    return self._get(cid)
                if not self._get(cid).status.is_terminal:  # a report may have ended it meanwhile
                    self._save(self._get(cid).with_status(OrderStatus.REJECTED, self._now_ms()))
                self.stats.rejected += 1
                raise
            finally:
                self._in_flight -= 1
                self._sending.discard(cid)
        self.stats.placed += 1
        return self._apply_report(report) or self._get(cid)

    def _recheck_hook(self, new: NewOrder) -> Callable[[], None] | None:
        """The check a connector runs right before ``new`` goes on the wire (``bot.core.sending``): the guard
        level as it is then, which may have changed while the request waited (time sync, limiter, retries)."""
        recheck = self._recheck
        if recheck is None:
            return None

        def before_send() -> None:
            try:
                recheck(new)
            except BotError:
                self.stats.risk_rejected += 1
                raise

        return before_send

    def _record_intent(self, new: NewOrder) -> None:
        """``bot.intent``: the order and the touch of the local book its price came from, just before sending."""
        if not self._recorder.enabled:
            return
        bid, ask = self._touch(new.symbol) if self._touch is not None else (None, None)
        self._recorder.record("bot.intent", {
            "c": new.client_order_id, "s": new.symbol, "S": new.side.value, "o": new.type.value,
            "p": new.price_ticks, "q": new.qty_lots, "bb": bid, "ba": ask,
        })

    async def place_many(
        self, symbol: str, quotes: Sequence[Quote], *, order_type: OrderType = OrderType.LIMIT_MAKER
    ) -> list[OrderRecord | BotError]:
        """Place ``quotes`` concurrently; each result is the record or the ``BotError`` of that order."""
        results = await asyncio.gather(
            *(self.place(symbol, q.side, q.qty_lots, q.price_ticks, order_type=order_type) for q in quotes),
            return_exceptions=True,
        )
        return [self._per_order(r) for r in results]

    @staticmethod
    def _per_order(result: OrderRecord | BaseException) -> OrderRecord | BotError:
        if isinstance(result, BotError):
            log.info("order failed: %s", result, extra={"code": result.code.value})
            return result
        if isinstance(result, BaseException):
            log.error("order task crashed", exc_info=result, extra={"code": ErrorCode.INTERNAL.value})
            raise result
        return result

    # -- cancelling --
    async def cancel(self, client_order_id: ClientOrderId, *, resolve: bool = True) -> OrderRecord | None:
        """Cancel one order; a cancel/fill race or unknown outcome is resolved by querying the order. When a cancel
        got no answer and the query then finds the order neither terminal nor LOST (the cancel was lost), it is
        sent again, up to ``CANCEL_ATTEMPTS`` sends in all: the caller asked for the order gone.

        ``resolve=False`` (the HARD sweeps): a failed cancel is not followed by queries; the order stays doubtful
        and the next sweep, a second later, sends its cancel again. Resolving there kept every sweep in read
        retries through a partition, so nothing was sent for seconds after the heal (chaos seed 890), and under a
        venue answering "unknown order" to every cancel it spent the request budget on queries (seed 806); the
        reconcile before quoting again settles what the sweeps leave doubtful."""
        for attempt in range(1, CANCEL_ATTEMPTS + 1):
            record = self.order(client_order_id)
            if record is None or record.status.is_terminal:
                return record
            report, unanswered = await self._send_cancel(record, resolve=resolve)
            if report is not None:
                self.stats.cancelled += 1
                return self._apply_report(report)
            current = self._get(client_order_id)
            if not (resolve and unanswered) or current.status.is_terminal or current.status is OrderStatus.LOST \
                    or attempt == CANCEL_ATTEMPTS:
                return current
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns on its last attempt

    async def _send_cancel(self, record: OrderRecord, *, resolve: bool) -> tuple[VenueOrder | None, bool]:
        """One cancel request: (the venue's report, False), or (None, whether the request went unanswered) when
        the venue did not confirm it; then the order is resolved by query if ``resolve``, else marked UNKNOWN."""
        client_order_id, before = record.client_order_id, record.status
        if before in _QUOTING:
            self._save(record.with_status(OrderStatus.PENDING_CANCEL, self._now_ms()))
        async with self._slots:
            self._in_flight += 1
            self._sending.add(client_order_id)
            try:
                answer = await self._call(
                    "cancel", lambda: self._venue.cancel(record.symbol, client_order_id), record.symbol)
                return answer, False
            except BotError as error:
                if error.code is ErrorCode.UNKNOWN_ORDER or error.outcome_unknown:
                    current = self._get(client_order_id)
                    if resolve:
                        await self._resolve(client_order_id)
                    elif current.status is OrderStatus.PENDING_CANCEL:
                        self._save(current.with_status(OrderStatus.UNKNOWN, self._now_ms()))
                    return None, error.outcome_unknown
                current = self._get(client_order_id)
                if current.status is OrderStatus.PENDING_CANCEL:
                    self._save(current.with_status(before, self._now_ms()))
                raise
            finally:
                self._in_flight -= 1
                self._sending.discard(client_order_id)

    async def cancel_replace(
        self, client_order_id: ClientOrderId, price_ticks: int, qty_lots: int | None = None
    ) -> tuple[OrderRecord, OrderRecord]:
        """Move a resting order to ``price_ticks`` in one request (STOP_ON_FAILURE) under a new client id.

        Returns (old, new) records. Half successes are normal: the cancel may fail because the order just
        filled (then no new order is placed and the old one is resolved by query), or the new order may be
        rejected after the cancel succeeded. An unknown outcome resolves both orders by query.
        """
        self._check_accepting()
        old = self._orders.get(client_order_id)
        if old is None or old.status not in _QUOTING:
            raise BotError(ErrorCode.UNKNOWN_ORDER, f"{client_order_id} is not resting: cannot cancel-replace")
        new = NewOrder(
            symbol=old.symbol, side=old.side, type=old.type, price_ticks=price_ticks,
            qty_lots=qty_lots if qty_lots is not None else old.qty_lots - old.filled_lots,
            client_order_id=self._next_id(),
        )
        if self._pretrade is not None:
            try:
                self._pretrade(new)
            except BotError:
                self.stats.risk_rejected += 1
                raise
        now = self._now_ms()
        self._save(old.with_status(OrderStatus.PENDING_CANCEL, now))
        self._save(OrderRecord(
            client_order_id=new.client_order_id, symbol=new.symbol, side=new.side, type=new.type,
            price_ticks=price_ticks, qty_lots=new.qty_lots, status=OrderStatus.PENDING_NEW, created_ms=now,
            updated_ms=now,
        ))
        pair = (client_order_id, new.client_order_id)
        async with self._slots:
            self._in_flight += 1
            self._sending.update(pair)
            try:
                check = self._recheck_hook(new)
                if check is not None:
                    check()  # waiting for a slot took time: the guard may have fired since the decision
                self._record_intent(new)
                with send_check(check):
                    outcome = await self._call(
                        "cancelReplace", lambda: self._venue.cancel_replace(old.symbol, client_order_id, new),
                        old.symbol)
            except BotError as error:
                if not error.outcome_unknown:
                    current = self._get(client_order_id)
                    if current.status is OrderStatus.PENDING_CANCEL:  # not if a report ended it meanwhile (a fill)
                        self._save(current.with_status(old.status, self._now_ms()))
                    if not self._get(new.client_order_id).status.is_terminal:
                        self._save(replace(self._get(new.client_order_id), status=OrderStatus.REJECTED))
                    raise
                self.stats.unknown_outcomes += 1
                self._mark_in_doubt(new.client_order_id)
                await asyncio.gather(*(self._resolve(c) for c in pair if not self._get(c).status.is_terminal))
                return self._get(client_order_id), self._get(new.client_order_id)
            finally:
                self._in_flight -= 1
                self._sending.difference_update(pair)
        await self._settle_cancel_half(client_order_id, old.status, outcome.cancel)
        if isinstance(outcome.new, VenueOrder):
            self.stats.placed += 1
            self._apply_report(outcome.new)
        else:
            if isinstance(outcome.new, BotError):
                self.stats.rejected += 1
            self._save(self._get(new.client_order_id).with_status(OrderStatus.REJECTED, self._now_ms()))
        return self._get(client_order_id), self._get(new.client_order_id)

    async def _settle_cancel_half(
        self, client_order_id: ClientOrderId, before: OrderStatus, result: VenueOrder | Exception
    ) -> None:
        if isinstance(result, VenueOrder):
            self.stats.cancelled += 1
            self._apply_report(result)
        elif isinstance(result, BotError) and result.code is ErrorCode.UNKNOWN_ORDER:
            await self._resolve(client_order_id)  # it filled (or finished) just before the cancel
        else:
            current = self._get(client_order_id)
            if current.status is OrderStatus.PENDING_CANCEL:
                self._save(current.with_status(before, self._now_ms()))

    async def cancel_many(self, client_order_ids: Iterable[ClientOrderId], *, resolve: bool = True) -> None:
        await self._settle(*(self.cancel(c, resolve=resolve) for c in client_order_ids))

    async def _settle(self, *requests: Awaitable[object]) -> None:
        """Run per-order requests concurrently: an order's ``BotError`` is logged (``_per_order``) and does not
        stop the others; anything else is re-raised."""
        for result in await asyncio.gather(*requests, return_exceptions=True):
            if isinstance(result, BaseException):
                self._per_order(result)

    async def cancel_all(self, symbol: str | None = None, *, resolve: bool = True) -> None:
        """Cancel every order that may rest (``cancel``; ``resolve=False`` for the HARD sweeps)."""
        await self.cancel_many([r.client_order_id for r in self.open_orders(symbol)], resolve=resolve)

    async def replace_quotes(
        self, symbol: str, desired: Sequence[Quote], *, refresh: Collection[ClientOrderId] = ()
    ) -> None:
        """Keep resting orders at a desired (side, price), cancel the others, place what is missing.

        An order in ``refresh`` is never kept: it is cancelled and, if its (side, price) is desired, placed anew
        (a maximum order age). A doubtful order (in flight, unknown, lost) at a desired (side, price) counts as
        that quote: a second order there could rest beside it (the loopback swarm's seed 2, invariant 14). With
        ``amend: cancel_replace`` an order to remove and a quote to add on the same
        side become one ``cancel_replace`` (the order moves; in creation order, side by side)."""
        self._check_accepting()
        wanted = list(desired)
        stale: list[ClientOrderId] = []
        for record in self.open_orders(symbol):
            match = None if record.client_order_id in refresh else next(
                (q for q in wanted if q.side is record.side and q.price_ticks == record.price_ticks), None)
            if match is not None and (record.status in _QUOTING or record.status in _DOUBTFUL):
                wanted.remove(match)  # resting, or maybe resting: never a second order at one (side, price)
            elif record.status in _QUOTING:
                stale.append(record.client_order_id)
        moves: list[tuple[ClientOrderId, Quote]] = []
        if self.config.amend == "cancel_replace":  # a stale order and a missing quote on one side: one request
            for client_order_id in list(stale):
                side = self._get(client_order_id).side
                quote = next((q for q in wanted if q.side is side), None)
                if quote is not None:
                    stale.remove(client_order_id)
                    wanted.remove(quote)
                    moves.append((client_order_id, quote))
        wanted = self._within_side_cap(symbol, wanted)
        # one flat gather (cancels first, then moves, then placements): a task per order and no wrapper tasks
        await self._settle(*(self.cancel(c) for c in stale),
                           *(self.cancel_replace(c, q.price_ticks, q.qty_lots) for c, q in moves),
                           *(self.place(symbol, q.side, q.qty_lots, q.price_ticks) for q in wanted))

    def _within_side_cap(self, symbol: str, wanted: list[Quote]) -> list[Quote]:
        """The quotes to place, in order, such that no side has more than ``max_open_per_side`` orders that may
        rest (resting, in flight, doubtful or with a cancel not yet confirmed). Under a venue that answers every
        cancel "unknown order" the quoter otherwise added a new quote each cycle: 52 resting in chaos seed 806,
        ten times its inventory limit in open exposure.

        A LOST order on the side that reduces |exposure| does not count (``lost_on_reducing_side``; chaos seed
        827: four LOST asks blocked every ask of a long bot for over a minute)."""
        cap = self.config.max_open_per_side
        count = {Side.BUY: 0, Side.SELL: 0}
        exposure = self.exposure_lots(symbol)
        for record in self.open_orders(symbol):
            if not lost_on_reducing_side(record, exposure):
                count[record.side] += 1
        placing = []
        for quote in wanted:
            if count[quote.side] < cap:
                count[quote.side] += 1
                placing.append(quote)
        if len(placing) < len(wanted):
            log.debug("%s: %d quote(s) held back: %d per side may rest", symbol, len(wanted) - len(placing), cap)
        return placing

    # -- fills the user stream did not report --
    def traded_through(self, client_order_id: ClientOrderId) -> None:
        """A public trade printed at a worse price than this resting order's (a sell below its bid, a buy above
        its ask): by price priority it has filled, unless it arrived after that trade. If no report of its fill
        has come ``silent_fill_grace_s`` later, the order is queried once (at most one check per order at a
        time), so a silent user stream cannot hide fills while the bot keeps quoting (chaos seed 806: a
        partitioned user stream, bids filled in a sweep and the bot bidding on, 579 lots against a 500 limit)."""
        if client_order_id in self._suspects:
            return
        record = self._orders.get(client_order_id)  # any order that may rest: doubtful ones hide fills too
        if record is None:
            return
        self._suspects[client_order_id] = asyncio.get_running_loop().call_later(
            self.config.silent_fill_grace_s, self._check_suspect, client_order_id)

    def _check_suspect(self, client_order_id: ClientOrderId) -> None:
        record = self._orders.get(client_order_id)
        if record is None or record.filled_lots >= record.qty_lots:
            self._suspects.pop(client_order_id, None)  # its fill was reported, or it ended: nothing hidden
            return
        self._suspects[client_order_id] = asyncio.ensure_future(self._query_suspect(record))

    async def _query_suspect(self, record: OrderRecord) -> None:
        try:
            report = await self._call(
                "query", partial(self._venue.query, record.symbol, record.client_order_id), record.symbol)
            self.stats.silent_fill_checks += 1
            self._apply_report(report)
        except BotError as error:
            log.info("query of %s after a trade through its price failed: %s", record.client_order_id, error,
                     extra={"code": error.code.value})
        finally:
            self._suspects.pop(record.client_order_id, None)

    # -- resolving unknown outcomes and reconciling --
    def _mark_in_doubt(self, client_order_id: ClientOrderId) -> bool:
        """After a request about the order ended with an unknown outcome, mark its record UNKNOWN (to be resolved
        by query) unless a report has already ended it: a terminal record is final and never re-opens."""
        current = self._get(client_order_id)
        if current.status.is_terminal:
            return False
        self._save(current.with_status(OrderStatus.UNKNOWN, self._now_ms()))
        return True

    async def _resolve(self, client_order_id: ClientOrderId) -> OrderRecord:
        """Query the venue by client id until it knows the order or it is LOST (bounded)."""
        for attempt in range(self.config.unknown_queries_before_lost):
            record = self._get(client_order_id)
            symbol = record.symbol
            try:
                report = await self._call("query", partial(self._venue.query, symbol, client_order_id), symbol)
            except BotError as error:
                current = self._get(client_order_id)  # re-read: other answers may have landed meanwhile
                if error.code is not ErrorCode.UNKNOWN_ORDER or current.status.is_terminal:
                    if error.code is not ErrorCode.UNKNOWN_ORDER:
                        log.warning("query of %s failed: %s", client_order_id, error,
                                    extra={"code": error.code.value})
                    return current
                if current.status in _QUOTING and record.status not in _QUOTING:
                    return current  # acknowledged while we asked: no longer in doubt
                updated = self._save(mark_unknown_query(
                    current, self.config.unknown_queries_before_lost,
                    round(self.config.lost_expire_after_s * 1000), self._now_ms(),
                ))
                if updated.status is OrderStatus.LOST or updated.status.is_terminal:
                    self.stats.lost += current.status is not OrderStatus.LOST and updated.status is OrderStatus.LOST
                    return updated
                if record.status is OrderStatus.PENDING_CANCEL:
                    return self._save(replace(updated, status=OrderStatus.UNKNOWN))
                await asyncio.sleep(self.config.retry_base_delay_s * (attempt + 1))
                continue
            return self._apply_report(report) or self._get(client_order_id)
        return self._get(client_order_id)

    async def reconcile(self, symbols: Sequence[str] | None = None) -> ReconcileReport:
        """Bring local state in line with the venue: open orders, doubtful orders, missed fills, balances."""
        names = sorted(symbols if symbols is not None else self.symbols)
        self.stats.reconciles += 1
        fills_before = self.stats.fills
        for symbol in names:
            synced = self._store.get_meta(_WATERMARK + symbol)
            # A store that never synced this symbol lists the venue's fills from the start once: a new instance
            # without its state file (a cold start) must learn the fills an earlier instance made, or its
            # position is wrong (found by the gate's cold_restart fault). "-1" marks "synced, none yet".
            start = None if synced is None else TradeId(int(synced) + 1)
            fills = await self._fetch_fills(symbol, start)
            for fill in fills:
                self._apply_fill(fill)
            if fills or synced is None:
                self._store.set_meta(_WATERMARK + symbol, str(max((f.trade_id for f in fills), default=-1)))
        backfilled = self.stats.fills - fills_before
        venue_open = [o for o in await self._call("openOrders", self._venue.open_orders) if o.symbol in names]
        adopted_before = self.stats.adopted
        listed = set()
        for report in sorted(venue_open, key=lambda o: o.client_order_id):
            listed.add(report.client_order_id)
            self._apply_report(report)
        unlisted = [r for r in self.open_orders() if r.symbol in names and r.client_order_id not in listed]
        arriving = [r.client_order_id for r in unlisted if self._may_be_arriving(r)]
        doubtful = [r.client_order_id for r in unlisted if r.client_order_id not in arriving]
        await asyncio.gather(*(self._resolve(c) for c in doubtful))
        # A placement the listing could not show whose acknowledgement landed meanwhile may have been placed
        # before the listing and ended since (filled while the user stream was down): only a query can tell
        # (chaos seed 57 at 5 minutes: believed resting after the reconcile, filled on the venue before it).
        # Before the balances call, so the balances this reconcile records are the venue's answer (chaos seed 32:
        # a fill reported during a query after it made the recorded balances newer than the listing).
        landed = [c for c in arriving if (r := self._get(c)).venue_order_id is not None and r.status in _QUOTING]
        await asyncio.gather(*(self._resolve(c) for c in landed))
        self.balances = await self._call("balances", self._venue.balances)
        self._prune(names)
        self.record_open_orders("reconciled")
        if self._recorder.enabled:  # the books this reconcile left, for the checker to compare with the venue's
            for symbol in names:
                lots = self.inventory_lots(symbol)
                self._recorder.record("bot.position", {"s": symbol, "lots": lots, "final": False})
            totals = {a: b.total_atoms for a, b in sorted(self.balances.items())}
            self._recorder.record("bot.balances", {"atoms": totals})
        return ReconcileReport(
            venue_open=len(venue_open), adopted=self.stats.adopted - adopted_before,
            resolved=len(doubtful) + len(landed),
            fills_backfilled=backfilled, still_doubtful=sum(1 for r in self.open_orders() if r.status in _DOUBTFUL),
        )

    def _may_be_arriving(self, record: OrderRecord) -> bool:
        """Whether a listing may lack ``record`` only because its placement is still on the wire: a request of
        ours about it is in flight and the venue never acknowledged it (no venue order id). An acknowledged order
        the listing lacks has ended on the venue, whatever request of ours about it is in flight, and is queried:
        skipping it because a cancel-replace of it was on the wire, the replace's refusal then restored it as
        resting (chaos seed 133: an order expired by self-trade prevention, believed resting after a reconcile)."""
        return record.client_order_id in self._sending and record.venue_order_id is None

    def _prune(self, symbols: Sequence[str]) -> None:
        """Keep the store bounded: drop what finished, was reconciled and is older than ``prune_after_s``; fills
        only up to the trade id this reconcile synced (``OrderStore.prune_terminal``). At most once per tenth of
        ``prune_after_s`` (a scan of the store per reconcile would cost more than it frees)."""
        now_ms = self._now_ms()
        if self._pruned_ms is not None and now_ms - self._pruned_ms < self.config.prune_after_s * 100:
            return
        self._pruned_ms = now_ms
        synced = {s: int(v) for s in symbols if (v := self._store.get_meta(_WATERMARK + s)) is not None}
        cutoff_ms = now_ms - round(self.config.prune_after_s * 1000)
        self.stats.pruned += self._store.prune_terminal(cutoff_ms, synced)

    def record_open_orders(self, phase: str) -> None:
        """``bot.open_orders``: what the bot believes rests on the venue, and what is in flight or in doubt."""
        if not self._recorder.enabled:
            return
        resting, pending = [], []
        for record in self._orders.values():
            cid = record.client_order_id
            if record.status in _QUOTING and cid not in self._sending:
                resting.append(cid)
            elif not record.status.is_terminal:
                pending.append(cid)
        self._recorder.record("bot.open_orders", {"cids": sorted(resting), "pending": sorted(pending),
                                                  "phase": phase})

    async def _fetch_fills(self, symbol: str, start: TradeId | None) -> list[Fill]:
        return await self._call("fills", lambda: self._venue.fills(symbol, start))

    async def start(self) -> ReconcileReport:
        """Restore (done at construction) and reconcile; only then may the strategy quote (``ready``)."""
        _ = self.instance  # the instance's token is fixed at its start
        report = await self.reconcile()
        self.ready = True
        return report

    async def run_user_stream(self) -> None:
        """Apply user-stream events until cancelled; after a disconnect, back off and reconcile, and subscribe
        again only once a reconcile succeeded (retried with the same backoff): the stream's gap hid fills and
        order ends, so resuming it on a failed re-read would trust a stream that lost events (chaos seed 431: the
        reconcile was refused by the bot's own rate limiter and the bot subscribed again anyway)."""
        backoff = self.config.retry_base_delay_s
        while True:
            try:
                async for event in self._venue.user_events():
                    self.apply(event)
                    backoff = self.config.retry_base_delay_s
            except BotError as error:
                log.warning("user stream lost: %s", error, extra={"code": error.code.value})
            while True:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, USER_STREAM_BACKOFF_MAX_S)
                if await self._reconcile_logged():
                    break

    async def run_reconciler(self) -> None:
        """Reconcile every ``reconcile_interval_s`` until cancelled (errors are logged, never fatal)."""
        while True:
            await asyncio.sleep(self.config.reconcile_interval_s)
            await self._reconcile_logged()

    async def _reconcile_logged(self) -> bool:
        """Reconcile; a failure is logged, never raised. True when it succeeded."""
        try:
            await self.reconcile()
        except BotError as error:
            log.warning("reconcile failed: %s", error, extra={"code": error.code.value})
            return False
        return True

    def abandon(self) -> None:
        """Stop sending at once, with no cleanup (the instance is being torn down as if it crashed).

        The trade-through checks are this manager's own timers and tasks (no caller holds them): they are cancelled
        here, or one waiting out a Retry-After would send its query after the instance died, with a rate-limit
        state the next instance never saw (chaos seeds 531 and 7: a dead instance's query inside the next one's
        Retry-After, and its 429 left the next one unblocked)."""
        self._accepting = False
        for pending in self._suspects.values():
            pending.cancel()
        self._suspects.clear()

    # -- shutdown --
    async def shutdown(self) -> ShutdownReport:
        """Stop sending, wait for in-flight requests, cancel everything, verify on the venue.

        Bounded by ``cancel_verify_timeout_s`` on the loop's clock *inside* each round (``asyncio.timeout``): a
        cancel or a listing that hangs in a partition is cut at the deadline, never waited out. The report tells
        the truth: ``verified`` exactly when the latest successful listing showed none of our orders open;
        ``remaining`` is ``None`` (unknown) when no listing succeeded."""
        self._accepting = False
        loop_deadline = self._clock.monotonic_s() + self.config.cancel_verify_timeout_s
        while self._in_flight and self._clock.monotonic_s() < loop_deadline:
            await asyncio.sleep(0.01)
        cancelled_before = self.stats.cancelled
        remaining: tuple[ClientOrderId, ...] | None = None
        while (left_s := loop_deadline - self._clock.monotonic_s()) > 0:
            try:
                async with asyncio.timeout(left_s):
                    listed = await self._shutdown_round()
            except TimeoutError:
                log.warning("shutdown deadline reached inside a cancel round", extra={"code": "SHUTDOWN_TIMEOUT"})
                break
            if listed is not None:
                remaining = listed
            if remaining == ():
                break
            await asyncio.sleep(min(0.2, max(loop_deadline - self._clock.monotonic_s(), 0.0)))
        return ShutdownReport(
            cancelled=self.stats.cancelled - cancelled_before, verified=remaining == (),
            remaining=remaining, positions_lots=dict(self._positions),
        )

    async def _shutdown_round(self) -> tuple[ClientOrderId, ...] | None:
        """Cancel every open order, then list the venue: what of ours is still open (None: listing failed)."""
        await self.cancel_all()
        try:
            venue_open = await self._call("openOrders", self._venue.open_orders)
        except BotError as error:
            log.warning("shutdown verification failed: %s", error, extra={"code": error.code.value})
            return None
        ours = [o for o in venue_open if o.symbol in self.symbols]
        for report in ours:
            self._apply_report(report)  # tracked again, so the next cancel_all pulls it
        return tuple(sorted(o.client_order_id for o in ours))


def _base36(n: int) -> str:
    """``n`` (>= 0 is used) in base 36, lower case: a short instance token."""
    n, digits = max(0, n), ""
    while True:
        n, r = divmod(n, 36)
        digits = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + digits
        if not n:
            return digits
