"""The fault catalogue (DESIGN section 3) as one documented data model: kinds, their parameters, faults, scenarios.

A ``Fault`` is one injected misbehaviour: a ``kind``, a ``target`` (which connection or symbol it hits), a window
``[start_s, start_s + duration_s)`` in simulated seconds, its ``params`` and a ``toxicity`` (Toxiproxy's name: the
probability that an eligible request or message is affected; 1.0 = every one; the first eligible order request
or stream message is always affected, so a drawn fault acts at least once when the bot gives it something).
A ``Scenario`` is a tuple of faults that may overlap and compose. Nothing is on by default: a venue without a
scenario behaves exactly as before.

``CATALOGUE`` documents every kind: what it does, which targets it accepts, its parameters (default, range or
choices, meaning) and the range of durations the swarm generator draws. Faults marked ``harness`` (crash,
memory pressure, pause, operator stop, cold restart) act on the bot process: the injector only records them and
calls the harness's hook (``harness.session_harness`` applies them).

Targets: ``rest`` (requests), ``ws`` (market-data streams), ``user`` (the user data stream), ``both`` (every
connection), ``bot`` (the bot process), or a symbol (``BTCUSDT``: its requests and its streams).

Errors: ``Fault`` raises ``ValueError`` naming the offending field for an unknown parameter, a value out of range,
a target the kind does not accept, a negative start or duration, or a toxicity outside [0, 1].
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

ParamValue = float | str
CHANNELS = ("rest", "ws", "user")
_SYMBOL = re.compile(r"^[A-Z0-9]{2,20}$")


class FaultKind(StrEnum):
    PARTITION = "partition"
    LATENCY = "latency"
    BANDWIDTH = "bandwidth"
    SLICER = "slicer"
    TIMEOUT_AFTER_PROCESSING = "timeout_after_processing"
    RESET_PEER = "reset_peer"
    PARTIAL_FILL = "partial_fill"
    CLOCK_SKEW = "clock_skew"
    RATE_LIMIT = "rate_limit"
    OUTAGE = "outage"
    REJECT = "reject"
    FEED_GAP = "feed_gap"
    USER_STREAM = "user_stream"
    STALE_FEED = "stale_feed"
    CANCEL_FILL_RACE = "cancel_fill_race"
    STP = "stp"
    CRASH = "crash"
    MEMORY_PRESSURE = "memory_pressure"
    MARKET_SHOCK = "market_shock"
    # -- harness faults and scenario events (issue 16; applied by harness.session_harness) --
    PAUSE = "pause"
    OPERATOR_STOP = "operator_stop"
    COLD_RESTART = "cold_restart"
    # -- venue/wire-level kinds (issue 16; see the block at the end of this module) --
    TRUNCATED_FRAME = "truncated_frame"
    SLOW_CLOSE = "slow_close"
    SERVER_DISCONNECT = "server_disconnect"
    CANCEL_REPLACE_HALF = "cancel_replace_half"
    REPORT_REDELIVERED = "report_redelivered"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter of a kind: numeric (``low``..``high``) or a choice among strings."""

    name: str
    default: ParamValue
    doc: str
    low: float = 0.0
    high: float = 0.0
    choices: tuple[str, ...] = ()

    def validate(self, value: object, where: str) -> ParamValue:
        if self.choices:
            text = str(value)
            if text not in self.choices:
                raise ValueError(f"{where}: {value!r} is not one of {', '.join(self.choices)}")
            return text
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{where}: expected a number, got {value!r}")
        if not self.low <= float(value) <= self.high:
            raise ValueError(f"{where}: {value} is outside [{self.low:g}, {self.high:g}]")
        return float(value)


@dataclass(frozen=True, slots=True)
class KindSpec:
    """The documentation and limits of one fault kind."""

    kind: FaultKind
    doc: str
    targets: tuple[str, ...]  # allowed targets; "symbol" stands for any symbol name
    params: tuple[ParamSpec, ...] = ()
    duration_s: tuple[float, float] = (1.0, 60.0)  # what the swarm draws
    harness: bool = False  # applied by the harness (the bot process), only recorded by the injector

    def param(self, name: str) -> ParamSpec:
        for spec in self.params:
            if spec.name == name:
                return spec
        raise KeyError(name)


_ALL = ("rest", "ws", "user", "both", "symbol")
_HARNESS_KINDS = (  # issue 16: process-level faults and operator events, applied by harness.session_harness
    KindSpec(FaultKind.PAUSE, "the bot process is paused (SIGSTOP) for the fault's duration: none of its code "
             "runs while the venue and the market go on; on resume every timer and delivery that fell due fires "
             "at once, late (requests already on the wire wait too); the bot does not crash",
             ("bot",), (), (1.0, 60.0), harness=True),
    KindSpec(FaultKind.OPERATOR_STOP, "the operator stops the bot: sigint/sigterm run its orderly stop (cancel "
             "all, verify), kill_switch its kill path; at the fault's start or at the bot's next new order after "
             "it; after restart_after_s the operator starts a new instance (none if that is past the session end)",
             ("bot",), (ParamSpec("how", "sigint", "sigint, sigterm or kill_switch",
                                   choices=("sigint", "sigterm", "kill_switch")),
                        ParamSpec("when", "time", "time (the fault's start) or next_order (the first new order "
                                   "the bot decides after the start)", choices=("time", "next_order")),
                        ParamSpec("restart_after_s", 30.0, "pause before the operator starts a new instance",
                                   0, 3_600)), (0.0, 0.0), harness=True),
    KindSpec(FaultKind.COLD_RESTART, "the bot process is killed (no shutdown path) and, after a pause, restarted "
             "WITHOUT its state file: an empty store while the venue still holds the old instance's orders and "
             "fills (it must adopt or cancel them and never reuse a client id)",
             ("bot",), (ParamSpec("restart_after_s", 5.0, "pause before the restart", 0, 3_600),), (0.0, 0.0),
             harness=True),
)
_FEEDS = ("ws", "user", "both", "symbol")
_P = ParamSpec
_BASE_SPECS: tuple[KindSpec, ...] = (
    KindSpec(FaultKind.PARTITION, "blackhole: requests or feed messages vanish (upstream: never executed; "
             "downstream: executed, reply lost); the client's timeout fires", _ALL,
             (_P("direction", "both", "both, upstream (client->venue) or downstream (venue->client)",
                 choices=("both", "upstream", "downstream")),), (1.0, 90.0)),
    KindSpec(FaultKind.LATENCY, "added one-way delay with jitter and spikes on requests, replies and feed messages",
             _ALL, (_P("latency_ms", 100.0, "added one-way delay", 0, 10_000),
                    _P("jitter_ms", 0.0, "uniform jitter added on top, 0..jitter", 0, 5_000),
                    _P("spike_probability", 0.0, "chance a delay gets a spike", 0, 1),
                    _P("spike_ms", 0.0, "largest spike, uniform 0..spike", 0, 30_000)), (5.0, 120.0)),
    KindSpec(FaultKind.BANDWIDTH, "feed link throughput cap: messages queue behind each other (lag builds up)",
             _FEEDS, (_P("rate_kbps", 64.0, "link rate in kilobits per second", 1, 1_000_000),
                      _P("message_bytes", 512.0, "assumed size of one message", 16, 1_000_000)), (5.0, 120.0)),
    KindSpec(FaultKind.SLICER, "frames cut into chunks with a delay between chunks (in-process: the message "
             "arrives when its last chunk does; the wire server really fragments)", _FEEDS,
             (_P("average_size_bytes", 64.0, "chunk size", 1, 65_536),
              _P("delay_us", 1_000.0, "delay between chunks", 0, 1_000_000),
              _P("message_bytes", 512.0, "assumed size of one message", 16, 1_000_000)), (5.0, 120.0)),
    KindSpec(FaultKind.TIMEOUT_AFTER_PROCESSING, "the venue executes the request, then the reply is a -1007 "
             "(status unknown) or is lost", ("rest", "both", "symbol"),
             (_P("reply", "error", "error (-1007 answer) or lost (no answer: the client times out)",
                 choices=("error", "lost")),
              _P("ops", "writes", "writes (place/cancel/cancelReplace/cancelAll) or all requests",
                 choices=("writes", "all"))), (5.0, 120.0)),
    KindSpec(FaultKind.RESET_PEER, "streams are closed by the venue (connection reset) at the start; with "
             "reconnect=refuse, new subscriptions are closed at once until the fault ends", _FEEDS,
             (_P("reconnect", "allow", "allow or refuse reconnects during the window", choices=("allow", "refuse")),),
             (0.0, 30.0)),
    KindSpec(FaultKind.PARTIAL_FILL, "an injected taker fills a part of the tracked accounts' orders at the touch",
             ("both", "symbol"), (_P("rate_per_s", 0.5, "partial fills per second (Poisson)", 0.001, 50),
                                  _P("fraction_min", 0.1, "smallest fraction of the remaining quantity", 0.0, 1),
                                  _P("fraction_max", 0.9, "largest fraction", 0.0, 1)), (10.0, 300.0)),
    KindSpec(FaultKind.CLOCK_SKEW, "the venue's clock is offset (step, drift, strobe): server time moves and "
             "signed requests are checked against recvWindow (-1021)", ("rest", "both"),
             (_P("offset_ms", -2_000.0, "server clock minus true time", -600_000, 600_000),
              _P("drift_ppm", 0.0, "drift from the fault's start, parts per million", -100_000, 100_000),
              _P("strobe_ms", 0.0, "alternating extra offset", 0, 600_000),
              _P("strobe_period_s", 0.0, "strobe half period (0: no strobe)", 0, 3_600)), (10.0, 300.0)),
    KindSpec(FaultKind.RATE_LIMIT, "a request-weight budget: 429 with Retry-After when over it, 418 ban after "
             "requests sent during a Retry-After", ("rest", "both"),
             (_P("weight_limit", 100.0, "weight allowed per window (0: every request gets 429)", 0, 100_000),
              _P("window_s", 10.0, "sliding window", 1, 3_600),
              _P("ban_after", 2.0, "requests inside a Retry-After before the 418 ban", 1, 1_000),
              _P("ban_s", 60.0, "length of a 418 ban", 1, 86_400)), (10.0, 300.0)),
    KindSpec(FaultKind.OUTAGE, "maintenance: every request answers 503 (writes: execution unknown, -1007) or "
             "a WAF 403", ("rest", "both", "symbol"),
             (_P("status", "503", "503 (unavailable) or 403 (WAF block)", choices=("503", "403")),
              _P("executes_probability", 0.0, "chance a 503'd write was executed anyway", 0, 1)), (5.0, 600.0)),
    KindSpec(FaultKind.REJECT, "requests refused with a Binance reject (not executed)", ("rest", "both", "symbol"),
             (_P("reason", "insufficient_balance", "which reject",
                 choices=("insufficient_balance", "filter", "would_match", "unknown_order")),), (5.0, 120.0)),
    KindSpec(FaultKind.FEED_GAP, "depth updates dropped, duplicated or reordered (sequence ids show it)",
             ("ws", "both", "symbol"),
             (_P("mode", "drop", "drop, duplicate, reorder or mixed",
                 choices=("drop", "duplicate", "reorder", "mixed")),), (5.0, 120.0)),
    KindSpec(FaultKind.USER_STREAM, "execution reports missed, duplicated or delivered late (out of order)",
             ("user", "both"), (_P("mode", "missed", "missed, duplicated, late or mixed",
                                   choices=("missed", "duplicated", "late", "mixed")),
                                _P("delay_ms", 2_000.0, "extra delay of a late report", 0, 600_000)), (5.0, 120.0)),
    KindSpec(FaultKind.STALE_FEED, "market data freezes (REST still works); on heal the withheld updates are "
             "dropped (a gap) or flushed late", ("ws", "both", "symbol"),
             (_P("on_heal", "drop", "drop or flush the withheld messages", choices=("drop", "flush")),),
             (2.0, 120.0)),
    KindSpec(FaultKind.CANCEL_FILL_RACE, "a cancel (or cancel-replace) arrives just after the order filled: "
             "-2011 unknown order, or -2022 for the cancel-replace", ("rest", "both", "symbol"), (), (10.0, 300.0)),
    KindSpec(FaultKind.STP, "a 1-lot IOC in the account's own name meets its order at the front of the touch: "
             "self-trade prevention expires the resting order (EXPIRED_IN_MATCH)", ("both", "symbol"),
             (_P("rate_per_s", 0.2, "expiries per second (Poisson)", 0.001, 50),
              _P("mode", "EXPIRE_BOTH", "STP mode of the injected order", choices=("EXPIRE_BOTH", "EXPIRE_MAKER"))),
             (10.0, 300.0)),
    KindSpec(FaultKind.CRASH, "the bot process is killed (no shutdown path) and restarted after a pause",
             ("bot",), (_P("restart_after_s", 5.0, "pause before the restart", 0, 3_600),), (0.0, 0.0), harness=True),
    KindSpec(FaultKind.MEMORY_PRESSURE, "a flood of market data into the bot's bounded buffers and a memory "
             "limit on the bot: every second a burst of stale depth updates (replays of the last one sent) "
             "reaches each depth stream at once; the harness holds the process to the limit",
             ("bot",), (_P("limit_mb", 256.0, "how much the process may grow during the window", 16, 65_536),
                        _P("message_rate_per_s", 1_000.0, "flood messages per second per depth stream, delivered "
                           "as one burst a second", 1, 1_000_000)), (10.0, 60.0), harness=True),
    KindSpec(FaultKind.MARKET_SHOCK, "the latent price jumps and the book is swept to the new level; with a "
             "regime, the market switches to it for the fault's duration (a regime change with its gap: "
             "flash_crash is a scheduled crash) and back to the regime it had when the fault ends",
             ("both", "symbol"), (_P("size_bps", -300.0, "jump in basis points (sign = direction)", -5_000, 5_000),
                                  _P("sweep", "yes", "sweep the book to the new level", choices=("yes", "no")),
                                  _P("regime", "none", "regime during the window (none: the regime is kept)",
                                     choices=("none", "calm", "trending", "volatile", "illiquid", "flash_crash"))),
             (0.0, 120.0)),
    *_HARNESS_KINDS,
)


def _check_target(spec: KindSpec, target: str) -> None:
    if target in spec.targets or ("symbol" in spec.targets and _SYMBOL.match(target) and target not in CHANNELS):
        return
    raise ValueError(f"target: {spec.kind.value} accepts {', '.join(spec.targets)}, got {target!r}")


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault (see module docstring). ``params`` holds every parameter, defaults filled in, read-only."""

    kind: FaultKind
    target: str
    start_s: float
    duration_s: float
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    toxicity: float = 1.0

    def __post_init__(self) -> None:
        try:
            kind = FaultKind(self.kind)
        except ValueError:
            raise ValueError(f"fault: unknown kind {self.kind!r}; known: {', '.join(k.value for k in FaultKind)}") \
                from None
        object.__setattr__(self, "kind", kind)
        spec = CATALOGUE[kind]
        _check_target(spec, self.target)
        if not self.start_s >= 0:
            raise ValueError(f"start: must be >= 0, got {self.start_s!r}")
        if not self.duration_s >= 0:
            raise ValueError(f"duration: must be >= 0, got {self.duration_s!r}")
        if not 0.0 <= self.toxicity <= 1.0:
            raise ValueError(f"toxicity: must be within [0, 1], got {self.toxicity!r}")
        known = {p.name: p for p in spec.params}
        unknown = sorted(set(self.params) - set(known))
        if unknown:
            raise ValueError(f"parameters.{unknown[0]}: unknown parameter of {kind.value}; known: "
                             f"{', '.join(known) or 'none'}")
        full = {name: p.validate(self.params[name], f"parameters.{name}") if name in self.params else p.default
                for name, p in known.items()}
        object.__setattr__(self, "params", MappingProxyType(full))

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    @property
    def spec(self) -> KindSpec:
        return CATALOGUE[self.kind]

    def num(self, name: str) -> float:
        """A numeric parameter (``KeyError`` for an unknown name)."""
        value = self.params[name]
        if isinstance(value, str):
            raise TypeError(f"{self.kind.value}.{name} is a choice, not a number")
        return value

    def text(self, name: str) -> str:
        return str(self.params[name])

    def is_active(self, now_s: float) -> bool:
        return self.start_s <= now_s < self.end_s

    def hits(self, channel: str, symbol: str | None = None) -> bool:
        """Whether this fault's target covers ``channel`` ("rest", "ws", "user") for ``symbol``."""
        target = self.target
        if target in ("both", channel):
            return True
        return symbol is not None and target == symbol and channel != "user"

    def to_dict(self) -> dict[str, object]:
        """The YAML/JSON form: fault, target, start, duration, toxicity, parameters (non-defaults only)."""
        defaults = {p.name: p.default for p in self.spec.params}
        params = {k: v for k, v in self.params.items() if v != defaults[k]}
        out: dict[str, object] = {"fault": self.kind.value, "target": self.target, "start": self.start_s,
                                  "duration": self.duration_s}
        if self.toxicity != 1.0:
            out["toxicity"] = self.toxicity
        if params:
            out["parameters"] = params
        return out


@dataclass(frozen=True, slots=True)
class Scenario:
    """Faults of one session, in the order given (their index is their id in the event log)."""

    faults: tuple[Fault, ...] = ()

    def active(self, now_s: float) -> tuple[Fault, ...]:
        """Faults whose window contains ``now_s``."""
        return tuple(f for f in self.faults if f.is_active(now_s))

    def kinds(self) -> frozenset[FaultKind]:
        return frozenset(f.kind for f in self.faults)

    @property
    def end_s(self) -> float:
        """When the last fault heals (0 for an empty scenario)."""
        return max((f.end_s for f in self.faults), default=0.0)

    def __bool__(self) -> bool:
        return bool(self.faults)


# -- venue/wire-level faults (issue 16): activity triggers, request targeting, new kinds, stable streams --------------
#
# ``trigger`` (every kind in ``TRIGGERABLE``): ``time`` - the fault acts during [start, start + duration);
# ``next_order`` / ``next_cancel`` / ``next_replace`` - the fault is *armed* during [start, start + duration) and
# takes effect at the first matching request of a tracked account (place / cancel or cancelAll / cancelReplace),
# then acts for ``duration`` from that moment; the triggering request itself is always hit (toxicity applies to
# the ones after it). A fault whose trigger never comes does nothing and ends at start + duration; a triggered one
# ends by start + 2 * duration at the latest (``latest_end_s``).
# ``request`` (timeout_after_processing): aim at one request type instead of ``ops``.
TRIGGERS = ("time", "next_order", "next_cancel", "next_replace")
TRIGGER_OPS: Mapping[str, frozenset[str]] = MappingProxyType({
    "next_order": frozenset({"place"}), "next_cancel": frozenset({"cancel", "cancelAll"}),
    "next_replace": frozenset({"cancelReplace"})})
REQUEST_OPS: Mapping[str, frozenset[str]] = MappingProxyType({
    "order": frozenset({"place"}), "cancel": frozenset({"cancel", "cancelAll"}),
    "cancel_replace": frozenset({"cancelReplace"}), "query": frozenset({"getOrder"}),
    "open_orders": frozenset({"openOrders"}), "account": frozenset({"account", "myTrades"})})
TRIGGER = ParamSpec("trigger", "time", "time (the window) or the bot's next order / cancel / cancel-replace in "
                    "the window, from which the fault acts for its duration", choices=TRIGGERS)
REQUEST = ParamSpec("request", "any", "aim at one request type (any: as ``ops`` says)",
                    choices=("any", *REQUEST_OPS))
TRIGGERABLE = frozenset({
    FaultKind.PARTITION, FaultKind.TIMEOUT_AFTER_PROCESSING, FaultKind.RESET_PEER, FaultKind.PARTIAL_FILL,
    FaultKind.RATE_LIMIT, FaultKind.OUTAGE, FaultKind.REJECT, FaultKind.USER_STREAM, FaultKind.CANCEL_FILL_RACE,
    FaultKind.STP, FaultKind.TRUNCATED_FRAME, FaultKind.SLOW_CLOSE, FaultKind.SERVER_DISCONNECT,
    FaultKind.CANCEL_REPLACE_HALF, FaultKind.REPORT_REDELIVERED})
_WIRE_SPECS: tuple[KindSpec, ...] = (
    KindSpec(FaultKind.TRUNCATED_FRAME, "a frame cut short. Streams: the frame's tail never comes and the "
             "connection drops (in-process: the message is not delivered and the stream closes with "
             "ConnectionResetError; wire server: a partial JSON text frame is sent, then the socket is closed). "
             "REST: the reply body is cut after the request executed (in-process: the answer never completes, the "
             "client times out; wire server: half the body is written, then the connection is aborted). The "
             "bot must never act on a partial frame", _ALL, (), (5.0, 120.0)),
    KindSpec(FaultKind.SLOW_CLOSE, "the venue starts closing a stream and the close takes ``close_s``: the "
             "stream goes silent at once, the close (ConnectionResetError) arrives ``close_s`` later "
             "(wire server: messages stop, the close frame is sent after close_s)", _FEEDS,
             (_P("close_s", 5.0, "how long the close takes", 0, 600),), (0.0, 30.0)),
    KindSpec(FaultKind.SERVER_DISCONNECT, "the venue ends a stream: the 24 h connection limit, a missed pong, or "
             "a ``serverShutdown`` (the WebSocket API's event, then the close after ``grace_s``; in-process the "
             "stream goes silent for grace_s, as no event type carries it to the client)", _FEEDS,
             (_P("reason", "24h", "24h, missed_pong or server_shutdown",
                 choices=("24h", "missed_pong", "server_shutdown")),
              _P("grace_s", 1.0, "server_shutdown: time between the event and the close", 0, 600)), (0.0, 30.0)),
    KindSpec(FaultKind.CANCEL_REPLACE_HALF, "a cancel-replace half succeeds (HTTP 409, -2021): the cancel is "
             "done, the new order refused (-2010) and never placed. In-process the client gets the engine's "
             "CancelReplaceResult with the new leg an error (the 409's data); wire server: the 409 body",
             ("rest", "both", "symbol"), (), (10.0, 300.0)),
    KindSpec(FaultKind.REPORT_REDELIVERED, "an execution report with a fill is delivered again under a NEW trade "
             "id (the same order, the same cumulative quantity): a bot that dedupes by trade id only books the "
             "fill twice", ("user", "both"), (), (10.0, 300.0)),
)


def _wire(spec: KindSpec) -> KindSpec:
    params = spec.params
    if spec.kind is FaultKind.TIMEOUT_AFTER_PROCESSING:
        params += (REQUEST,)
    if spec.kind in TRIGGERABLE:
        params += (TRIGGER,)
    return dataclasses.replace(spec, params=params)


CATALOGUE: Mapping[FaultKind, KindSpec] = MappingProxyType({s.kind: _wire(s) for s in (*_BASE_SPECS, *_WIRE_SPECS)})


def latest_end_s(fault: Fault) -> float:
    """When ``fault`` has healed at the latest: its end (start + 2 * duration for an activity trigger), plus the
    silence before a slow close or a serverShutdown's close (``closing_s``)."""
    triggered = "trigger" in fault.params and fault.params["trigger"] != "time"
    return fault.start_s + (2 if triggered else 1) * fault.duration_s + closing_s(fault)


def closing_s(fault: Fault) -> float:
    """How long a stream-ending fault's effect lasts past the moment it acts (the silence before the close)."""
    if fault.kind is FaultKind.SLOW_CLOSE:
        return fault.num("close_s")
    if fault.kind is FaultKind.SERVER_DISCONNECT and fault.text("reason") == "server_shutdown":
        return fault.num("grace_s")
    return 0.0


def stable_id(fault: Fault) -> str:
    """A fault's identity independent of its position in a schedule: a hash of kind, target, window, toxicity and
    every parameter. Each fault's random stream is keyed by it, so dropping one fault (the shrinker) leaves the
    draws of every other fault unchanged."""
    text = repr((fault.kind.value, fault.target, float(fault.start_s), float(fault.duration_s), float(fault.toxicity),
                 sorted((k, str(v)) for k, v in fault.params.items())))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stream_ids(scenario: Scenario) -> tuple[str, ...]:
    """Per fault, the key of its random stream: its ``stable_id``, with ``#n`` appended to the n-th repeat of an
    identical fault (so identical faults draw independently, and the first of them keeps its stream)."""
    seen: dict[str, int] = {}
    out = []
    for fault in scenario.faults:
        key = stable_id(fault)
        count = seen.get(key, 0)
        seen[key] = count + 1
        out.append(key if count == 0 else f"{key}#{count}")
    return tuple(out)
