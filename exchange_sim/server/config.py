"""Configuration of the Binance-compatible wire server: accounts, limits, market and faults, frozen.

Every default is documented and describes a usable local exchange: one demo account with generous balances and
the market-maker fee tier of a simulated session, Binance's published rate limits, the default market model, no
faults. Build a new object to change anything.

Errors: ``ValueError`` for an account without a key or secret, duplicate API keys, a non-loopback host or
limits that are not positive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType

from exchange_sim.faults.model import Scenario
from exchange_sim.market.config import MarketConfig
from exchange_sim.market.symbols import SymbolMarket

DEMO_API_KEY = "mmbot-demo-api-key"
DEMO_SECRET = "mmbot-demo-secret"
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountConfig:
    """One trading account reachable over the wire by its API key; ``balances`` in units (Decimal)."""

    name: str
    api_key: str
    secret: str
    balances: Mapping[str, Decimal] = field(default_factory=dict)
    maker_fee_ppm: int | None = None  # None: the symbol's default fee
    taker_fee_ppm: int | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.api_key or not self.secret:
            raise ValueError("an account needs a name, an api_key and a secret")
        object.__setattr__(self, "balances", MappingProxyType(dict(self.balances)))


DEMO_ACCOUNT = AccountConfig(
    name="demo",
    api_key=DEMO_API_KEY,
    secret=DEMO_SECRET,
    balances={"USDT": Decimal(1_000_000), "BTC": Decimal(10), "ETH": Decimal(200), "SOL": Decimal(5_000)},
    # the market-maker tier a simulated session gives the bot (ADR 0005: 0 bps maker, 10 bps taker), so that
    # `mmbot run --venue local` trades under the same fees as `mmbot sim`; the background market keeps its own
    maker_fee_ppm=0,
    taker_fee_ppm=1_000,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class LimitsConfig:
    """Rate limits (Binance Spot's published values by default). Small values make 429/418 testable."""

    weight_per_minute: int = 6000  # REQUEST_WEIGHT per IP per window
    weight_window_s: float = 60.0  # the "1M" window (shorter in tests)
    orders_per_10s: int = 100  # ORDERS per account per 10 s
    orders_per_day: int = 200_000  # ORDERS per account per day
    ban_after_429: int = 2  # requests sent while 429'd (before Retry-After) that earn a 418 ban
    ban_s: float = 120.0  # length of a 418 ban
    max_body_bytes: int = 64 * 1024  # larger request bodies get HTTP 413

    def __post_init__(self) -> None:
        for name in ("weight_per_minute", "weight_window_s", "orders_per_10s", "orders_per_day", "ban_after_429",
                     "ban_s", "max_body_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"limits.{name} must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """Everything one server instance needs; ``port=0`` picks a free port."""

    host: str = LOOPBACK  # loopback only: the simulator is never exposed
    port: int = 8765
    seed: int = 7
    market: MarketConfig = field(default_factory=MarketConfig)
    accounts: tuple[AccountConfig, ...] = (DEMO_ACCOUNT,)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    scenario: Scenario = field(default_factory=Scenario)  # transport faults, times from server start
    log_path: Path | None = None  # event log as JSON lines (None: digest and counts only)
    tick_s: float = 0.01  # how often the market model is advanced to the real clock
    depth_interval_ms: int = 100  # depth diff cadence (<symbol>@depth@100ms)
    ws_heartbeat_s: float = 20.0  # server pings on every WebSocket
    ws_queue_max: int = 10_000  # per-connection outbound buffer (market data beyond it is dropped)
    ws_max_streams: int = 1024  # streams one market-stream connection may listen to (Binance's limit)
    ws_messages_per_s: int = 5  # incoming messages per second per market-stream connection (Binance: 5; more
    # and the connection is closed with 1008 policy violation)
    duration_s: float = 7 * 24 * 3600.0  # horizon of the market's regime timeline
    symbols: Mapping[str, SymbolMarket] | None = None  # symbol catalogue (None: DEFAULT_SYMBOLS); benchmarks add some

    def __post_init__(self) -> None:
        if self.host != LOOPBACK:
            raise ValueError(f"the simulator serves {LOOPBACK} only, got host={self.host!r}")
        keys = [a.api_key for a in self.accounts]
        if len(set(keys)) != len(keys):
            raise ValueError("duplicate api_key among accounts")
        if len({a.name for a in self.accounts}) != len(self.accounts):
            raise ValueError("duplicate account name")
        if self.tick_s <= 0 or self.depth_interval_ms <= 0:
            raise ValueError("tick_s and depth_interval_ms must be positive")
        if self.ws_max_streams <= 0 or self.ws_messages_per_s <= 0:
            raise ValueError("ws_max_streams and ws_messages_per_s must be positive")
