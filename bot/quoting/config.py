"""QuotingConfig: how often each symbol's quote loop decides, and what it feeds the strategy and the guards."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["QuotingConfig"]


class QuotingConfig(BaseModel):
    """The per-symbol quote loop (``bot.quoting.quoter.SymbolQuoter``). Frozen; unknown fields are rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cycle_interval_s: float = Field(
        0.1, gt=0, le=60, description="One quote cycle per symbol every this many seconds (10 per second)."
    )
    idle_requote_s: float = Field(
        1.0, gt=0, description="Decide at least this often even when the book and account did not change "
        "(order age, fill delay and risk changes need a fresh decision)."
    )
    stale_data_ms: float = Field(
        1500.0, gt=0, description="Market data older than this pulls every quote of the symbol until it is fresh."
    )
    pnl_window_s: float = Field(
        600.0, gt=0, description="Trailing window of the PnL score and of the guards' PnL rate (s)."
    )
    latency_window: int = Field(
        200, ge=10, le=100_000, description="Venue round trips kept for the latency score and guard (p95)."
    )
    use_microprice: bool = Field(
        False, description="Centre on the size-weighted microprice instead of the book mid."
    )
    trade_flow_tau_s: float = Field(
        3.0, gt=0, le=3600, allow_inf_nan=False,
        description="Time constant of the decayed signed public-trade flow fed to the strategy (s).",
    )
    trade_flow_unit_quote: float = Field(
        500.0, gt=0, allow_inf_nan=False,
        description="Trade notional (quote) that weighs 1 in the trade flow (weights grow like sqrt(notional)).",
    )
