"""Execution: the order manager, reconciliation against the venue and restart-safe order state."""
