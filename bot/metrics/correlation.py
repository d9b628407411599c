"""Correlation ids of the work in progress (symbol, quote cycle, client order id) in ``contextvars``.

Logs (``bot.metrics.logs``) and spans (``bot.metrics.tracing``) read them, so a log line written deep inside an
order placement names the cycle and the order that caused it. Each asyncio task has its own copy of the context,
so concurrent symbols never see each other's ids. ``correlate`` restores the previous values on exit, even when
the body raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["client_order_id_var", "correlate", "current", "cycle_id_var", "symbol_var"]

symbol_var: ContextVar[str | None] = ContextVar("mmbot_symbol", default=None)
cycle_id_var: ContextVar[int | None] = ContextVar("mmbot_cycle_id", default=None)
client_order_id_var: ContextVar[str | None] = ContextVar("mmbot_client_order_id", default=None)


@contextmanager
def correlate(
    *, symbol: str | None = None, cycle_id: int | None = None, client_order_id: str | None = None
) -> Iterator[None]:
    """Set the given ids (``None`` leaves one unchanged) for the body, then restore the previous ones."""
    symbol_token = symbol_var.set(symbol) if symbol is not None else None
    cycle_token = cycle_id_var.set(cycle_id) if cycle_id is not None else None
    order_token = client_order_id_var.set(client_order_id) if client_order_id is not None else None
    try:
        yield
    finally:
        if order_token is not None:
            client_order_id_var.reset(order_token)
        if cycle_token is not None:
            cycle_id_var.reset(cycle_token)
        if symbol_token is not None:
            symbol_var.reset(symbol_token)


def current() -> dict[str, str | int]:
    """The ids set right now, by field name (``symbol``, ``cycle_id``, ``client_order_id``); unset ones left out."""
    out: dict[str, str | int] = {}
    symbol, cycle_id, coid = symbol_var.get(), cycle_id_var.get(), client_order_id_var.get()
    if symbol is not None:
        out["symbol"] = symbol
    if cycle_id is not None:
        out["cycle_id"] = cycle_id
    if coid is not None:
        out["client_order_id"] = coid
    return out
