"""Seeded latency of the simulated venue: one-way delays of requests, responses and feed messages.

Each delay is ``floor_ms + lognormal(median_ms, sigma)`` (log-normal bodies with a floor are what venue
round-trip measurements look like), plus, with probability ``spike_probability``, a spike drawn uniformly
from ``[0, spike_ms]``. Every connection draws from its own named stream of the session seed, so adding a
client never shifts another client's latencies. Delays are in simulated seconds.
"""

from __future__ import annotations

import math
import random

from pydantic import BaseModel, ConfigDict, Field

from exchange_sim.rng import stream


class LatencyConfig(BaseModel):
    """One-way latency distributions (milliseconds). The defaults are a co-located-in-region client."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    request_floor_ms: float = Field(2.0, ge=0, description="minimum one-way request/response delay")
    request_median_ms: float = Field(8.0, ge=0, description="median of the log-normal part")
    request_sigma: float = Field(0.5, ge=0, description="log-normal sigma (jitter)")
    feed_floor_ms: float = Field(1.0, ge=0, description="minimum market/user feed delay")
    feed_median_ms: float = Field(4.0, ge=0, description="median of the log-normal part")
    feed_sigma: float = Field(0.5, ge=0, description="log-normal sigma")
    spike_probability: float = Field(0.0, ge=0, le=1, description="chance that a delay gets a spike")
    spike_ms: float = Field(0.0, ge=0, description="largest spike added")


class LatencyModel:
    """Draws delays for one connection."""

    __slots__ = ("_feed", "_request", "_rng", "_spike_ms", "_spike_probability", "config")

    def __init__(self, config: LatencyConfig, rng: random.Random) -> None:
        self.config = config
        self._rng = rng
        # the config's numbers, read once (a draw per feed message and per request leg)
        self._request = (config.request_floor_ms, config.request_median_ms, config.request_sigma)
        self._feed = (config.feed_floor_ms, config.feed_median_ms, config.feed_sigma)
        self._spike_probability = config.spike_probability
        self._spike_ms = config.spike_ms

    @classmethod
    def for_connection(cls, config: LatencyConfig, seed: int, name: str) -> LatencyModel:
        return cls(config, stream(seed, "latency", name))

    def _draw_ms(self, floor_ms: float, median_ms: float, sigma: float) -> float:
        rng = self._rng
        delay = floor_ms
        if median_ms > 0:
            delay += median_ms * math.exp(sigma * rng.gauss(0.0, 1.0)) if sigma > 0 else median_ms
        if self._spike_probability and rng.random() < self._spike_probability:
            delay += rng.random() * self._spike_ms
        return delay

    def request_s(self) -> float:
        """One-way delay of a request or of its response, in seconds."""
        return self._draw_ms(*self._request) / 1000.0

    def feed_s(self) -> float:
        """Delay of one feed message, in seconds."""
        return self._draw_ms(*self._feed) / 1000.0
