"""The operator events of a live run, read from a running bot: venue health and quote pulls polled every
``WATCH_S``, and the status rows (``bot.metrics.logs_events`` renders them).

Invariants: reads only (never sends, never changes the bot); every loop is bounded by its task's cancellation at
the stop (``AppContext`` cancels its tasks); time comes from the app's clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.app import AppContext
from bot.metrics.logs_events import RunEvents, SymbolStatus
from bot.quoting.quoter import SymbolQuoter

__all__ = ["WATCH_S", "observe", "status_rows"]

WATCH_S = 0.5  # how often venue health and pull counters are read


async def observe(
    app: AppContext, quoters: list[SymbolQuoter], events: RunEvents, venue_up: Callable[[], bool],
    status_every_s: float | None,
) -> None:
    """Poll venue health and pull counters every ``WATCH_S`` into ``events``; a status line every
    ``status_every_s`` (the first at once). Cancelled with the app's other tasks at the stop."""
    clock, name = app.clock, app.venue.name
    next_status_s = clock.monotonic_s()
    while True:
        events.venue(venue_up(), name)
        for quoter in quoters:
            events.pulls(quoter.symbol, quoter.stats.pulls)
        if status_every_s is not None and clock.monotonic_s() >= next_status_s:
            events.status(status_rows(app, quoters))
            next_status_s = clock.monotonic_s() + status_every_s
        await asyncio.sleep(WATCH_S)


def status_rows(app: AppContext, quoters: list[SymbolQuoter]) -> list[SymbolStatus]:
    """Each symbol's position (base units), net PnL (quote), open orders and guard state: the level, with the
    reasons of this symbol's own guards in parentheses (``SOFT(INVENTORY)``)."""
    level, signals = app.risk.guard_level.name, app.risk.assessment.signals
    rows = []
    for quoter in quoters:
        symbol = quoter.symbol
        mine = sorted({s.reason.value for s in signals if s.subject == symbol})
        rows.append(SymbolStatus(
            symbol=symbol, position_base=app.symbols[symbol].qty(app.orders.inventory_lots(symbol)).normalize(),
            pnl_quote=quoter.pnl.equity_atoms * 1e-8, open_orders=len(app.orders.open_orders(symbol)),
            guard=f"{level}({','.join(mine)})" if mine else level))
    return rows
