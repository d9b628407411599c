"""``bot.live.start_prices``: a live run converts notional inventory limits with each symbol's mid at start, reading
only the symbols that need it; a one-sided book is a one-line error naming the symbol and the way out."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bot.config import parse_config
from bot.core.errors import BotError, ErrorCode
from bot.core.types import BookLevel, BookSnapshot, SymbolInfo
from bot.live import start_prices


class BookVenue:
    """Answers ``symbols`` and ``book`` only, and remembers which books were read."""

    name = "fake"

    def __init__(self, books: dict[str, tuple[int | None, int | None]]) -> None:
        self.books = books
        self.read: list[str] = []

    async def symbols(self) -> list[SymbolInfo]:
        return [SymbolInfo(symbol=s, base_asset=s[:3], quote_asset="USDT", tick_size=Decimal("0.01"),
                           step_size=Decimal("0.001"), min_notional=Decimal(5)) for s in self.books]

    async def book(self, symbol: str, limit: int = 100) -> BookSnapshot:
        self.read.append(symbol)
        bid, ask = self.books[symbol]
        return BookSnapshot(symbol=symbol, last_update_id=1,
                            bids=() if bid is None else (BookLevel(price_ticks=bid, qty_lots=1),),
                            asks=() if ask is None else (BookLevel(price_ticks=ask, qty_lots=1),))


def config(**inventory: Any) -> Any:
    return parse_config({"version": 4, "symbols": ["BTCUSDT", "SOLUSDT"], "risk": {"inventory": inventory}})


async def test_the_mid_at_start_converts_the_notional_limit() -> None:
    venue = BookVenue({"BTCUSDT": (4_999_999, 5_000_001), "SOLUSDT": (12_000, 12_002)})
    prices = await start_prices(config(), venue)  # type: ignore[arg-type]
    assert prices == {"BTCUSDT": Decimal("50000.00"), "SOLUSDT": Decimal("120.01")}
    priced = config().priced(prices)
    assert priced.risk.inventory.hard_max_for("BTCUSDT") == Decimal("1.2")
    assert priced.risk.inventory.hard_max_for("SOLUSDT") == Decimal("499.95833680")  # 60000 / 120.01, floored


async def test_symbols_with_a_base_unit_limit_are_not_read() -> None:
    venue = BookVenue({"BTCUSDT": (1, 3), "SOLUSDT": (1, 3)})
    assert await start_prices(config(hard_max_base={"BTCUSDT": "0.5"}), venue) == {  # type: ignore[arg-type]
        "SOLUSDT": Decimal("0.02")}
    assert venue.read == ["SOLUSDT"]


async def test_a_one_sided_book_is_refused_naming_the_symbol_and_the_override() -> None:
    venue = BookVenue({"BTCUSDT": (1, 3), "SOLUSDT": (100, None)})
    with pytest.raises(BotError) as raised:
        await start_prices(config(), venue)  # type: ignore[arg-type]
    assert raised.value.code is ErrorCode.CONFIG_INVALID
    assert "SOLUSDT" in raised.value.message and "risk.inventory.hard_max_base.SOLUSDT" in raised.value.message
