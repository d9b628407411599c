"""Risk layer: guards (OK/SOFT/HARD), circuit breaker, taker cap, pre-trade checks, risk engine, kill switch."""
