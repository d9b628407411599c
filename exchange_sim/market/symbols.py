"""The symbol catalogue of the simulated venue (defaults plus symbols from config) and each symbol's starting point.

Ticks are about 0.7-0.8 bps of the starting price for all defaults (a large-tick market: queue position and a
1-3 tick spread matter, ADR 0002). SOLUSDT uses Binance's real filters; BTCUSDT and ETHUSDT keep Binance's
lot sizes and min notional with a coarser tick.

Any other symbol comes from configuration (``SymbolConfig``: assets, tick, lot, min notional, initial price,
flow size scale; ``config.sim.symbols`` of a bot config) and is merged over the defaults by ``symbol_catalogue``.
Errors: ``ValueError`` naming the field (``symbols.XYZUSDT.tick_size: ...``) for a missing or invalid filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from exchange_sim.engine.types import SymbolSpec


@dataclass(frozen=True, slots=True)
class SymbolMarket:
    """A symbol's spec plus where its latent price starts and how large its flow is relative to defaults."""

    spec: SymbolSpec
    initial_price: Decimal
    size_scale: float = 1.0  # multiplies every order notional of the background flow

    @property
    def initial_price_ticks(self) -> int:
        return self.spec.price_to_ticks(self.initial_price)


DEFAULT_SYMBOLS: dict[str, SymbolMarket] = {
    "BTCUSDT": SymbolMarket(
        SymbolSpec(
            symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT",
            tick_size=Decimal("5.00"), step_size=Decimal("0.00001"), min_notional=Decimal("5"),
        ),
        initial_price=Decimal("60000.00"),
    ),
    "ETHUSDT": SymbolMarket(
        SymbolSpec(
            symbol="ETHUSDT", base_asset="ETH", quote_asset="USDT",
            tick_size=Decimal("0.25"), step_size=Decimal("0.0001"), min_notional=Decimal("5"),
        ),
        initial_price=Decimal("3000.00"),
    ),
    "SOLUSDT": SymbolMarket(
        SymbolSpec(
            symbol="SOLUSDT", base_asset="SOL", quote_asset="USDT",
            tick_size=Decimal("0.01"), step_size=Decimal("0.001"), min_notional=Decimal("5"),
        ),
        initial_price=Decimal("150.00"),
    ),
}


def default_symbol(name: str) -> SymbolMarket:
    """A default symbol by name; ``ValueError`` naming the choices if unknown."""
    try:
        return DEFAULT_SYMBOLS[name.upper()]
    except KeyError:
        raise ValueError(f"unknown symbol {name!r}; defaults are {', '.join(sorted(DEFAULT_SYMBOLS))}") from None


class SymbolConfig(BaseModel):
    """A symbol the simulated venue lists besides the defaults: its assets, filters and market starting point.

    Every filter is required (no silent default for a venue fact); ``tick_size * step_size`` must be a whole
    number of quote atoms and ``step_size`` of base atoms (exact integer balances), the initial price a whole
    number of ticks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_asset: str = Field(min_length=1, description="base asset, e.g. XYZ")
    quote_asset: str = Field(min_length=1, description="quote asset, e.g. USDT")
    tick_size: Decimal = Field(gt=0, description="price step (PRICE_FILTER tickSize)")
    step_size: Decimal = Field(gt=0, description="quantity step (LOT_SIZE stepSize)")
    min_notional: Decimal = Field(ge=0, description="smallest order notional in the quote asset (NOTIONAL)")
    initial_price: Decimal = Field(gt=0, description="where the latent price starts (the price scale)")
    size_scale: float = Field(1.0, gt=0, description="multiplies every order notional of the background flow")

    def market(self, name: str) -> SymbolMarket:
        """The catalogue entry; ``ValueError`` naming the field when the filters do not fit together."""
        where = f"symbols.{name}"
        try:
            spec = SymbolSpec(symbol=name, base_asset=self.base_asset, quote_asset=self.quote_asset,
                              tick_size=self.tick_size, step_size=self.step_size, min_notional=self.min_notional)
        except ValueError as error:
            raise ValueError(f"{where}.tick_size/step_size: {error}") from None
        if self.initial_price % self.tick_size:
            raise ValueError(f"{where}.initial_price: {self.initial_price} is not a multiple of tick_size "
                             f"{self.tick_size}")
        return SymbolMarket(spec, initial_price=self.initial_price, size_scale=self.size_scale)


def symbol_catalogue(custom: Mapping[str, SymbolConfig | Mapping[str, object]] | None = None,
                     ) -> dict[str, SymbolMarket]:
    """The defaults plus ``custom`` (configs or their mappings, by symbol name; a name may replace a default).

    ``ValueError`` with one line naming the field: ``symbols.XYZUSDT.tick_size: Field required``."""
    out = dict(DEFAULT_SYMBOLS)
    for name, entry in sorted((custom or {}).items()):
        if name != name.upper() or not name.isalnum():
            raise ValueError(f"symbols.{name}: a symbol name is upper-case letters and digits")
        if isinstance(entry, SymbolConfig):
            config = entry
        else:
            try:
                config = SymbolConfig.model_validate(entry)
            except ValidationError as error:
                first = error.errors()[0]
                field = ".".join(str(p) for p in first["loc"])
                raise ValueError(f"symbols.{name}.{field}: {first['msg']}") from None
        out[name] = config.market(name)
    return out
