"""The matching engine: per-symbol limit order books, balances and fees in exact integer arithmetic."""
