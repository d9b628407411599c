"""Configuration of the Binance-compatible wire server: accounts, limits, market and faults, frozen.

Every default is documented and describes a usable local exchange: one demo account with generous balances and
the market-maker fee tier of a simulated session, Binance's published rate limits, the default market model, no
faults. Build a new object to change anything.

Errors: ``ValueError`` for an account without a key or secret, duplicate API keys, a non-loopback host or
limits that are not positive; ``AccountsFileError`` (a ``ValueError``, one line naming the file and the field) for a
bad accounts file.

An accounts file (``mmbot exchange serve --accounts FILE``, YAML or JSON) lists more accounts besides the demo one,
as a list or under ``accounts:``. Each entry: ``name``; the key and the secret either as values (``api_key``,
``api_secret``) or as names of environment variables holding them (``api_key_env``, ``api_secret_env``), exactly
one of each pair; ``balances`` (asset -> amount >= 0, default none); ``maker_fee_bps`` / ``taker_fee_bps``
(default: the demo account's market-maker tier, 0 and 10 bps; fee_ppm = bps * 100)::

    accounts:
      - name: alice
        api_key_env: ALICE_API_KEY
        api_secret_env: ALICE_API_SECRET
        balances: {USDT: 250000, BTC: 2}
      - {name: bob, api_key: bob-key, api_secret: bob-secret, balances: {USDT: 1000}, taker_fee_bps: 7.5}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType

import yaml

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


class AccountsFileError(ValueError):
    """An accounts file is unreadable or malformed; the one-line message names the file and the field."""


_ACCOUNT_KEYS = frozenset({"name", "api_key", "api_key_env", "api_secret", "api_secret_env", "balances",
                           "maker_fee_bps", "taker_fee_bps"})


def load_accounts(path: Path, environ: Mapping[str, str]) -> tuple[AccountConfig, ...]:
    """The accounts listed in ``path`` (module docstring), secrets read from ``environ`` where named."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))  # JSON is YAML
    except (OSError, UnicodeDecodeError) as error:
        raise AccountsFileError(f"{path}: cannot be read: {getattr(error, 'strerror', None) or error}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise AccountsFileError(f"{path}: not valid YAML/JSON{where}: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise AccountsFileError(f"{path}: not valid YAML/JSON: {error}") from None
    entries = data.get("accounts") if isinstance(data, dict) else data
    if not isinstance(entries, list) or not entries:
        raise AccountsFileError(f"{path}: expected a non-empty list of accounts (or 'accounts:' with one)")
    accounts = tuple(_account(entry, f"{path}: accounts[{i}]", environ) for i, entry in enumerate(entries))
    for attr in ("name", "api_key"):
        seen: set[str] = {getattr(DEMO_ACCOUNT, attr)}
        for i, account in enumerate(accounts):
            value = getattr(account, attr)
            if value in seen:
                raise AccountsFileError(f"{path}: accounts[{i}].{attr}: {'' if attr == 'name' else 'the key of '}"
                                        f"{value if attr == 'name' else account.name!r} is already used")
            seen.add(value)
    return accounts


def _account(entry: object, where: str, environ: Mapping[str, str]) -> AccountConfig:
    if not isinstance(entry, dict):
        raise AccountsFileError(f"{where}: expected a mapping with name, api_key(_env), api_secret(_env)")
    unknown = sorted(str(k) for k in set(entry) - _ACCOUNT_KEYS)
    if unknown:
        raise AccountsFileError(f"{where}: unknown key {unknown[0]!r}; known: {', '.join(sorted(_ACCOUNT_KEYS))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise AccountsFileError(f"{where}.name: a non-empty string is required")
    balances = entry.get("balances", {})
    if not isinstance(balances, dict):
        raise AccountsFileError(f"{where}.balances: expected a mapping asset -> amount, got {balances!r}")
    return AccountConfig(
        name=name, api_key=_credential(entry, "api_key", where, environ),
        secret=_credential(entry, "api_secret", where, environ),
        balances={str(asset).upper(): _amount(value, f"{where}.balances.{asset}", minimum=Decimal(0))
                  for asset, value in balances.items()},
        maker_fee_ppm=_fee_ppm(entry, "maker_fee_bps", where, DEMO_ACCOUNT.maker_fee_ppm),
        taker_fee_ppm=_fee_ppm(entry, "taker_fee_bps", where, DEMO_ACCOUNT.taker_fee_ppm),
    )


def _credential(entry: Mapping[str, object], field_name: str, where: str, environ: Mapping[str, str]) -> str:
    value, env_name = entry.get(field_name), entry.get(f"{field_name}_env")
    if (value is None) == (env_name is None):
        raise AccountsFileError(f"{where}: give exactly one of {field_name} (the value) and {field_name}_env "
                                "(an environment variable's name)")
    if env_name is not None:
        if not isinstance(env_name, str) or not env_name:
            raise AccountsFileError(f"{where}.{field_name}_env: a variable name is required, got {env_name!r}")
        if not environ.get(env_name):
            raise AccountsFileError(f"{where}.{field_name}_env: environment variable {env_name} is not set")
        return environ[env_name]
    if not isinstance(value, str) or not value:
        raise AccountsFileError(f"{where}.{field_name}: a non-empty string is required")
    return value


def _amount(value: object, where: str, *, minimum: Decimal) -> Decimal:
    try:
        if isinstance(value, bool):
            raise InvalidOperation
        amount = Decimal(str(value))
    except InvalidOperation:
        raise AccountsFileError(f"{where}: a number is required, got {value!r}") from None
    if not amount.is_finite() or amount < minimum:
        raise AccountsFileError(f"{where}: must be a finite number >= {minimum}, got {value!r}")
    return amount


def _fee_ppm(entry: Mapping[str, object], field_name: str, where: str, default: int | None) -> int | None:
    if field_name not in entry:
        return default
    bps = _amount(entry[field_name], f"{where}.{field_name}", minimum=Decimal(-10))
    ppm = bps * 100
    if ppm != ppm.to_integral_value() or bps > 100:
        raise AccountsFileError(f"{where}.{field_name}: at most 100 bps in steps of 0.01 bps, "
                                f"got {entry[field_name]!r}")
    return int(ppm)
