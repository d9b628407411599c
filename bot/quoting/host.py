"""QuoterHost: what a symbol's quote loop needs of the running bot (``AppContext`` provides it).

The risk layer is seen through ``bot.interfaces.RiskView`` (one declaration, also what ``RiskEngine`` implements);
``OrdersView`` is declared here, not in ``bot.interfaces``, because it names ``bot.execution.state.OrderRecord``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Protocol

from bot.core.types import ClientOrderId, Fill, Quote, SymbolInfo
from bot.execution.state import OrderRecord
from bot.interfaces import Clock, RiskView

__all__ = ["OrdersView", "QuoterHost", "TakerCapView"]


class OrdersView(Protocol):
    changes: int  # bumped on every order-state change
    def open_orders(self, symbol: str | None = None) -> list[OrderRecord]: ...

    def inventory_lots(self, symbol: str) -> int: ...

    def exposure_lots(self, symbol: str) -> int: ...

    async def replace_quotes(
        self, symbol: str, desired: Sequence[Quote], *, refresh: Collection[ClientOrderId] = ()
    ) -> None: ...

    async def cancel_all(self, symbol: str | None = None) -> None: ...

    async def cancel(self, client_order_id: ClientOrderId) -> OrderRecord | None: ...

    def traded_through(self, client_order_id: ClientOrderId) -> None: ...

    def round_trips_ms(self, symbol: str, since_s: float) -> list[float]: ...


class TakerCapView(Protocol):
    def remaining(self, now_s: float, volatility_bps: float) -> int: ...


class QuoterHost(Protocol):
    """The app as one symbol's quote loop sees it."""

    @property
    def symbols(self) -> Mapping[str, SymbolInfo]: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def orders(self) -> OrdersView: ...

    @property
    def risk(self) -> RiskView: ...

    @property
    def taker_cap(self) -> TakerCapView: ...

    @property
    def mids_ticks(self) -> dict[str, int]: ...

    @property
    def volatility_bps(self) -> dict[str, float]: ...

    def max_inventory_lots(self, symbol: str) -> int: ...

    def add_fill_listener(self, listener: Callable[[Fill], None]) -> None: ...
