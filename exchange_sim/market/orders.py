"""The background agents' order plumbing: one reusable request per agent and the counts of their actions."""

from __future__ import annotations

from dataclasses import dataclass

from exchange_sim.engine.types import AccountId, ClientOrderId, OrderType, Side, StpMode, TimeInForce


@dataclass(slots=True)
class FlowStats:
    """Counts of background actions (book events = orders + cancels + trades; trades are counted by the venue)."""

    limit_orders: int = 0
    cancels: int = 0
    market_orders: int = 0
    informed_orders: int = 0
    rejected: int = 0

    @property
    def actions(self) -> int:
        return self.limit_orders + self.cancels + self.market_orders + self.informed_orders


class AgentRequest:
    """One agent's new-order request, refilled for each of its orders: a ``NewOrder`` for
    ``MatchingEngine.submit``, which reads it during the call only. (A frozen ``PlaceRequest`` per order cost
    about as much as the rest of placing an LP order.)"""

    __slots__ = ("account", "client_order_id", "price_ticks", "qty_lots", "quote_qty_atoms", "side", "stp_mode",
                 "symbol", "time_in_force", "type")

    def __init__(self, account: AccountId, symbol: str, order_type: OrderType, time_in_force: TimeInForce) -> None:
        self.account = account
        self.symbol = symbol
        self.type = order_type
        self.time_in_force = time_in_force
        self.side = Side.BUY
        self.qty_lots: int | None = None
        self.price_ticks: int | None = None
        self.quote_qty_atoms: int | None = None  # as in a PlaceRequest of these agents: never set
        self.client_order_id: ClientOrderId | None = None
        self.stp_mode = StpMode.EXPIRE_MAKER
