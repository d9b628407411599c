"""Where each fault kind applies: one table, and which transport delivers which path.

A path is a place a fault acts on:

* ``REQUEST`` - a request on its way in, before or instead of its execution (dropped, delayed, refused with an
  HTTP or Binance error, split);
* ``RESPONSE`` - an executed request's reply (lost, cut short, -1007, delayed);
* ``STREAM`` - a market-data or user-data stream and its messages (lost, withheld, duplicated, reordered, late,
  delayed, cut; the stream closed or refused);
* ``MARKET`` - the simulated market and order book (injected fills, STP expiries, shocks, the cancel/fill race);
* ``PROCESS`` - the bot process (crash, pause, memory, operator stop, cold restart; the harness applies them).

``APPLIES`` names every kind's paths; the effect on each is implemented once (``timing`` decides when and whom a
fault hits, ``effects`` the request and response paths, ``frames`` the stream path, ``market`` the market path,
``harness.session_harness`` the process path). ``TRANSPORT_PATHS`` says which paths a transport delivers: the
in-process one all of them, the wire server the three a network carries (its market is not driven by faults and it
has no bot process). ``tests/unit/test_faults_paths.py`` fails when a kind has no effect on a path it claims.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from exchange_sim.faults.model import CATALOGUE, FaultKind


class Path(StrEnum):
    REQUEST = "request"
    RESPONSE = "response"
    STREAM = "stream"
    MARKET = "market"
    PROCESS = "process"


_R, _A, _S, _M, _P = Path.REQUEST, Path.RESPONSE, Path.STREAM, Path.MARKET, Path.PROCESS
APPLIES: Mapping[FaultKind, frozenset[Path]] = MappingProxyType({
    FaultKind.PARTITION: frozenset({_R, _A, _S}),
    FaultKind.LATENCY: frozenset({_R, _A, _S}),
    FaultKind.BANDWIDTH: frozenset({_S}),
    FaultKind.SLICER: frozenset({_S}),
    FaultKind.TIMEOUT_AFTER_PROCESSING: frozenset({_A}),
    FaultKind.RESET_PEER: frozenset({_S}),
    FaultKind.PARTIAL_FILL: frozenset({_M}),
    FaultKind.CLOCK_SKEW: frozenset({_R}),
    FaultKind.RATE_LIMIT: frozenset({_R}),
    FaultKind.OUTAGE: frozenset({_R}),
    FaultKind.REJECT: frozenset({_R}),
    FaultKind.FEED_GAP: frozenset({_S}),
    FaultKind.USER_STREAM: frozenset({_S}),
    FaultKind.STALE_FEED: frozenset({_S}),
    FaultKind.CANCEL_FILL_RACE: frozenset({_M}),
    FaultKind.STP: frozenset({_M}),
    FaultKind.CRASH: frozenset({_P}),
    FaultKind.MEMORY_PRESSURE: frozenset({_P}),
    FaultKind.MARKET_SHOCK: frozenset({_M}),
    FaultKind.PAUSE: frozenset({_P}),
    FaultKind.OPERATOR_STOP: frozenset({_P}),
    FaultKind.COLD_RESTART: frozenset({_P}),
    FaultKind.TRUNCATED_FRAME: frozenset({_A, _S}),
    FaultKind.SLOW_CLOSE: frozenset({_S}),
    FaultKind.SERVER_DISCONNECT: frozenset({_S}),
    FaultKind.CANCEL_REPLACE_HALF: frozenset({_R}),
    FaultKind.REPORT_REDELIVERED: frozenset({_S}),
})
IN_PROCESS = "in_process"
WIRE = "wire"
TRANSPORT_PATHS: Mapping[str, frozenset[Path]] = MappingProxyType({
    IN_PROCESS: frozenset(Path),
    WIRE: frozenset({_R, _A, _S}),
})

_MISSING = sorted(set(CATALOGUE) ^ set(APPLIES))
if _MISSING:  # pragma: no cover - a kind added to the catalogue must say where it applies
    raise RuntimeError(f"fault paths: {', '.join(_MISSING)} not in APPLIES (or not in the catalogue)")


def paths(kind: FaultKind) -> frozenset[Path]:
    """Where ``kind`` applies."""
    return APPLIES[kind]


def transports(kind: FaultKind, path: Path) -> tuple[str, ...]:
    """The transports that deliver ``kind``'s effect on ``path`` (every transport carrying that path)."""
    if path not in APPLIES[kind]:
        return ()
    return tuple(name for name, carried in TRANSPORT_PATHS.items() if path in carried)
