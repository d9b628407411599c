"""The simulated exchange: matching engine, seeded market, virtual-time runtime, in-process venue."""
