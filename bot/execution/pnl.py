"""PnL of one symbol from its fills: exact cash and position, marked to the mid for equity and edge.

Bookkeeping is exact integers (ADR 0003): a buy of q lots for N quote atoms adds q lots and removes N atoms of
cash; a sell does the opposite; a fee in the quote asset removes cash, a fee in the base asset removes base
atoms. Marking converts base to quote at the mid:

    equity     = cash + (position_lots * base_atoms_per_lot - base_fees) * mid_price   (quote atoms)
    net_pnl    = equity  (everything is counted from zero at the start of the session)
    net_bps    = 1e4 * net_pnl / traded_notional
    drawdown   = max over marks of equity  -  equity now
    slippage   = for taker fills, how far the fill price was from the mid at decision time, in bps of notional

Marks use floats: they are reports and guard inputs, never booked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.types import Fill, SymbolInfo


@dataclass(slots=True)
class PnlTracker:
    """Accumulates fills of one symbol; ``mark(mid)`` updates equity, peak and drawdown."""

    info: SymbolInfo
    position_lots: int = 0
    cash_atoms: int = 0
    base_fee_atoms: int = 0
    quote_fee_atoms: int = 0
    traded_notional_atoms: int = 0
    maker_fills: int = 0
    taker_fills: int = 0
    max_abs_position_lots: int = 0
    taker_slippage_atoms: float = 0.0
    taker_notional_atoms: int = 0
    peak_equity_atoms: float = 0.0
    equity_atoms: float = 0.0
    _per_lot: tuple[int, int] | None = field(default=None, repr=False, compare=False)

    def on_fill(self, fill: Fill, *, mid_ticks: float | None = None) -> None:
        """Book one fill (call once per fill: the order manager deduplicates by trade id)."""
        self.position_lots += fill.side.sign * fill.qty_lots
        self.cash_atoms -= fill.side.sign * fill.quote_atoms
        if fill.fee_asset == self.info.quote_asset:
            self.cash_atoms -= fill.fee_atoms
            self.quote_fee_atoms += fill.fee_atoms
        elif fill.fee_asset == self.info.base_asset:
            self.base_fee_atoms += fill.fee_atoms
        self.traded_notional_atoms += fill.quote_atoms
        self.max_abs_position_lots = max(self.max_abs_position_lots, abs(self.position_lots))
        if fill.is_maker:
            self.maker_fills += 1
        else:
            self.taker_fills += 1
            self.taker_notional_atoms += fill.quote_atoms
            if mid_ticks is not None:
                # paid above the mid on a buy, received below it on a sell: positive slippage is a cost
                mid_value = mid_ticks * fill.qty_lots * self.info.quote_atoms_per_tick_lot
                self.taker_slippage_atoms += fill.side.sign * (fill.quote_atoms - mid_value)

    def value_atoms(self, mid_ticks: float) -> float:
        """Equity in quote atoms at ``mid_ticks``."""
        if self._per_lot is None:  # SymbolInfo's unit sizes are Decimal arithmetic: compute them once
            self._per_lot = (self.info.base_atoms_per_lot, self.info.quote_atoms_per_tick_lot)
        base_per_lot, quote_per_tick_lot = self._per_lot
        base_atoms = self.position_lots * base_per_lot - self.base_fee_atoms
        return self.cash_atoms + base_atoms * (mid_ticks * quote_per_tick_lot / base_per_lot)

    def mark(self, mid_ticks: float) -> float:
        """Update equity, peak and drawdown at ``mid_ticks``; returns the equity in quote atoms."""
        self.equity_atoms = self.value_atoms(mid_ticks)
        self.peak_equity_atoms = max(self.peak_equity_atoms, self.equity_atoms)
        return self.equity_atoms

    @property
    def drawdown_atoms(self) -> float:
        return self.peak_equity_atoms - self.equity_atoms

    @property
    def net_bps(self) -> float:
        """Net PnL per traded notional, in basis points (0 before the first fill)."""
        if not self.traded_notional_atoms:
            return 0.0
        return 1e4 * self.equity_atoms / self.traded_notional_atoms

    @property
    def slippage_bps(self) -> float:
        """Average taker slippage against the mid at fill time, in bps of taker notional."""
        if not self.taker_notional_atoms:
            return 0.0
        return 1e4 * self.taker_slippage_atoms / self.taker_notional_atoms
