"""Configuration of the Binance connector: endpoints per venue, credentials from the environment, limits.

Invariants: configs are frozen and keyword-only (an unknown field is a ``TypeError``); every default is
documented next to its field; the API secret is held in a ``SecretStr`` whose ``repr``/``str`` never show it,
and the API key is shown masked. Nothing here opens a connection.

Errors: ``ValueError`` for an out-of-range field; ``BotError(CONFIG_INVALID)`` when the credentials are missing
from the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from bot.core.errors import BotError, ErrorCode

API_KEY_ENV = "MMBOT_API_KEY"
API_SECRET_ENV = "MMBOT_API_SECRET"
_MASK = "**********"

VenueName = Literal["local", "testnet", "mainnet"]


class SecretStr:
    """A string that never shows itself: ``repr``/``str``/``format`` print a mask; read it with
    ``get_secret_value()``. Not picklable (a pickle would carry the secret in clear)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"SecretStr({_MASK!r})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("SecretStr", self._value))

    def __reduce__(self) -> str:
        raise TypeError("SecretStr cannot be pickled")


def mask_key(key: str) -> str:
    """An API key as it may appear in logs: its first 4 characters and a mask."""
    return f"{key[:4]}{_MASK}" if len(key) > 8 else _MASK


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """An API key (sent in ``X-MBX-APIKEY``) and the secret that signs requests (never sent)."""

    api_key: str
    api_secret: SecretStr

    def __post_init__(self) -> None:
        if not self.api_key or not self.api_secret:
            raise ValueError("api_key and api_secret must be non-empty")

    def __repr__(self) -> str:
        return f"Credentials(api_key={mask_key(self.api_key)!r}, api_secret={self.api_secret!r})"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Credentials:
        """Read ``MMBOT_API_KEY`` and ``MMBOT_API_SECRET`` (from ``os.environ`` unless ``environ`` is given)."""
        env = os.environ if environ is None else environ
        key, secret = env.get(API_KEY_ENV, ""), env.get(API_SECRET_ENV, "")
        missing = [name for name, value in ((API_KEY_ENV, key), (API_SECRET_ENV, secret)) if not value]
        if missing:
            raise BotError(ErrorCode.CONFIG_INVALID, f"missing credentials in the environment: {', '.join(missing)}")
        return cls(api_key=key, api_secret=SecretStr(secret))


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoints:
    """Base URLs: REST (``.../api``, paths ``/v3/...`` are appended), WebSocket API, market streams."""

    rest_url: str
    ws_api_url: str
    stream_url: str

    @classmethod
    def local(cls, host: str = "127.0.0.1", port: int = 8765) -> Endpoints:
        """The ``exchange_sim`` server (plain HTTP/WS on loopback)."""
        base = f"{host}:{port}"
        return cls(rest_url=f"http://{base}/api", ws_api_url=f"ws://{base}/ws-api/v3", stream_url=f"ws://{base}")

    @classmethod
    def for_venue(cls, venue: VenueName, *, host: str = "127.0.0.1", port: int = 8765) -> Endpoints:
        if venue == "local":
            return cls.local(host, port)
        return _PUBLIC[venue]


_PUBLIC: dict[str, Endpoints] = {
    "testnet": Endpoints(
        rest_url="https://testnet.binance.vision/api",
        ws_api_url="wss://ws-api.testnet.binance.vision/ws-api/v3",
        stream_url="wss://stream.testnet.binance.vision",
    ),
    "mainnet": Endpoints(
        rest_url="https://api.binance.com/api",
        ws_api_url="wss://ws-api.binance.com:443/ws-api/v3",
        stream_url="wss://stream.binance.com:9443",
    ),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class LimiterConfig:
    """Client-side rate limits. The budgets stay below the venue's limits so the bot never meets a 429."""

    weight_limit_1m: int = 6000  # the venue's REQUEST_WEIGHT per minute (lowered by exchangeInfo if smaller)
    order_limit_10s: int = 100  # the venue's ORDERS per 10 s (lowered by exchangeInfo if smaller)
    budget_fraction: float = 0.8  # share of each venue limit the bot allows itself
    cancel_reserve_fraction: float = 0.1  # share of the budget only cancels may use (cancels go first)
    max_wait_s: float = 1.0  # a request waits this long at most for budget, else RATE_LIMITED is raised
    default_retry_after_s: float = 60.0  # block after a 429/418 that carries no Retry-After

    def __post_init__(self) -> None:
        if self.weight_limit_1m < 1 or self.order_limit_10s < 1:
            raise ValueError(f"limits must be >= 1: {self!r}")
        if not 0 < self.budget_fraction <= 1 or not 0 <= self.cancel_reserve_fraction < 1:
            raise ValueError(f"bad budget fractions: {self!r}")
        if self.max_wait_s < 0 or self.default_retry_after_s <= 0:
            raise ValueError(f"bad waits: {self!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BinanceConfig:
    """How the connector talks to one Binance-compatible venue."""

    endpoints: Endpoints
    name: str = "binance"  # ``Venue.name``
    recv_window_ms: int = 5000  # sent with every signed request (Binance's default; max 60000)
    request_timeout_s: float = 10.0  # bound of one REST request (sending, waiting, reading the body)
    read_attempts: int = 3  # tries of an idempotent read on transient errors (mutations: always 1)
    backoff_base_s: float = 0.2  # first retry/reconnect wait; doubles, with jitter x[0.5, 1.5)
    backoff_max_s: float = 10.0  # cap of the retry/reconnect wait
    time_sync_samples: int = 3  # GET /time round trips per sync; the one with the shortest RTT wins
    time_sync_max_age_s: float = 300.0  # resync the server-time offset this often (clock drift)
    time_sync_min_interval_s: float = 1.0  # never resync more often (-1021 answers within it are not retried)
    ws_connect_timeout_s: float = 10.0  # bound of a WebSocket handshake (and of the user stream subscribe)
    ws_connect_attempts: int = 3  # tries of a WebSocket connection before the stream raises NETWORK
    ws_heartbeat_s: float = 30.0  # ping period; no pong within half of it drops the connection
    ws_stable_s: float = 30.0  # a connection that lived this long resets the reconnect backoff
    stream_queue_max: int = 10_000  # messages buffered per stream; overflow ends the stream (resync)
    limiter: LimiterConfig = field(default_factory=LimiterConfig)

    def __post_init__(self) -> None:
        if not 1 <= self.recv_window_ms <= 60_000:
            raise ValueError(f"recv_window_ms must be in [1, 60000], got {self.recv_window_ms}")
        if min(self.request_timeout_s, self.ws_connect_timeout_s, self.ws_heartbeat_s, self.time_sync_max_age_s) <= 0:
            raise ValueError(f"timeouts must be positive: {self!r}")
        if min(self.read_attempts, self.time_sync_samples, self.ws_connect_attempts, self.stream_queue_max) < 1:
            raise ValueError(f"counts must be >= 1: {self!r}")
        if not 0 <= self.backoff_base_s <= self.backoff_max_s:
            raise ValueError(f"bad backoff: {self!r}")
        if min(self.ws_stable_s, self.time_sync_min_interval_s) < 0:
            raise ValueError(f"ws_stable_s and time_sync_min_interval_s must be >= 0: {self!r}")

    @classmethod
    def for_venue(cls, venue: VenueName, *, host: str = "127.0.0.1", port: int = 8765) -> BinanceConfig:
        return cls(endpoints=Endpoints.for_venue(venue, host=host, port=port), name=f"binance-{venue}")
