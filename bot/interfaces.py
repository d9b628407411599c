"""The bot's public Protocols: what a venue, a clock, the risk layer and the event recorder look like.

Concrete classes depend on these, never on each other's modules: the quote loop sees ``RiskView``, not
``RiskEngine``; the execution layer sees ``Venue``, not a connector. What a quote loop needs of the order
manager (``bot.quoting.host.OrdersView``) lives beside the quote loop, not here: it names
``bot.execution.state.OrderRecord``, and this module importing ``bot.execution`` would close a package cycle
(``bot.execution`` imports ``Venue`` from here). ``tests/unit/test_imports.py`` checks that ``bot/`` packages have
no import cycles and that the strategy sees only this module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from bot.core.types import (
    Balance,
    BookSnapshot,
    CancelReplaceOutcome,
    ClientOrderId,
    DepthUpdate,
    Fill,
    NewOrder,
    PublicTrade,
    SymbolInfo,
    TradeId,
    UserEvent,
    VenueOrder,
)


class Clock(Protocol):
    """Time as the bot sees it: the event loop's monotonic clock (virtual in simulation)."""

    def monotonic_s(self) -> float:
        """Seconds on a monotonic clock: for timeouts, rates and ages."""

    def now_ms(self) -> int:
        """Epoch-like milliseconds for timestamps sent to the venue and written to logs."""


class Venue(Protocol):
    """One account's connection to one venue. Every method may raise ``BotError``.

    Errors are classified (``bot.core.errors``): fatal rejects, transient errors, and ``UNKNOWN_OUTCOME``
    when the request may have been executed. The duties every connector must fulfil (``BinanceConnector`` is
    the reference; a second venue implements each row or says why not):

    ==========================  ===============================================================================
    method                      must guarantee
    ==========================  ===============================================================================
    every request               a 429/418 blocks *every* request until Retry-After expires (``RATE_LIMITED``,
                                ``IP_BANNED`` fatal, with ``retry_after_ms``), across restarts when the
                                connector has a store; client-side budgets keep it below the venue's limits,
                                cancels first; each request is bounded by a timeout
    signed requests             timestamps from the venue's clock (offset synced at start and when stale); a
                                -1021 resyncs once (concurrent ones share it) and retries once, never a storm
    place, cancel,              sent once, never retried inside the connector; the guard is re-checked
    cancel_replace              (``check_before_send``) right before the request leaves; timeout, 5xx, a drop
                                after sending or -1006/-1007 raise ``UNKNOWN_OUTCOME`` (the caller queries by
                                client order id); nothing sent or not processed is a recoverable error
    cancel_replace              STOP_ON_FAILURE; both halves returned: a failed half as its ``BotError``, a
                                new order not attempted as ``None``
    symbols, book, query,       idempotent: transient failures retried with bounded, jittered backoff; rejects
    open_orders, balances,      and rate limits never retried
    fills, server_time_ms
    fills                       every page, oldest first; each ``Fill`` carries its client order id (an
                                unknown order id is looked up once)
    depth_updates,              connecting starts when called, so subscribe-then-``book()`` loses no update
    public_trades,              (``book`` waits, bounded, for the symbol's streams still connecting); bounded
    user_events                 buffers; a stream that ends for any reason raises one recoverable
                                ``BotError(NETWORK)``, then stops; the consumer resubscribes and resyncs
    user_events                 an order update carries the client order id and its fill, if any
    close                       ends every stream; idempotent
    ==========================  ===============================================================================

    Reads and streams need no guard; every random draw of a connector (retry jitter) comes from its own seed.
    """

    name: str

    async def symbols(self) -> list[SymbolInfo]: ...

    async def book(self, symbol: str, limit: int = 100) -> BookSnapshot: ...

    async def place(self, order: NewOrder) -> VenueOrder: ...

    async def cancel(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder: ...

    async def cancel_replace(
        self, symbol: str, cancel_client_order_id: ClientOrderId, new: NewOrder
    ) -> CancelReplaceOutcome:
        """Cancel one order and place ``new`` in one request (STOP_ON_FAILURE: no new order if the cancel fails)."""
        ...

    async def query(self, symbol: str, client_order_id: ClientOrderId) -> VenueOrder: ...

    async def open_orders(self, symbol: str | None = None) -> list[VenueOrder]: ...

    async def balances(self) -> dict[str, Balance]: ...

    async def fills(self, symbol: str, from_trade_id: TradeId | None = None) -> list[Fill]:
        """The account's fills on ``symbol`` from ``from_trade_id`` on (all pages), oldest first."""
        ...

    async def server_time_ms(self) -> int: ...

    def depth_updates(self, symbol: str) -> AsyncIterator[DepthUpdate]: ...

    def public_trades(self, symbol: str) -> AsyncIterator[PublicTrade]: ...

    def user_events(self) -> AsyncIterator[UserEvent]: ...

    async def close(self) -> None: ...


class RiskView(Protocol):
    """What the strategy may read of the risk layer."""

    def level(self) -> str:
        """"OK", "SOFT" (reduce-only) or "HARD" (halted)."""
        ...

    def reasons(self) -> Sequence[str]: ...


class Recorder(Protocol):
    """Where the bot writes its own facts for an independent checker (``bot.core.recorder``).

    ``enabled`` is False for a recorder that drops everything, so hot paths can skip building records.
    """

    enabled: bool

    def record(self, kind: str, fields: dict[str, Any]) -> None:
        """Append one record of ``kind`` (``bot.intent``, ``bot.fill_applied``, ...) now; never raises."""
        ...
