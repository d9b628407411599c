"""Regression gates and the stored baseline: which numbers of a session matter, their limits, and drift checks.

A session's *metrics* (``session_metrics``) are read from its summary: ``net_bps``, ``slippage_bps`` (the worst
symbol's taker slippage), ``latency_p95_ms`` (see ``LATENCY_SOURCE``), fills, orders and guard triggers.

*Gates* are absolute pass/fail limits (``AUDIT_GATES``): net_bps not below ``NET_BPS_FLOOR``, p95 latency not above
200 ms, slippage not above 2.5 bps. ``NET_BPS_FLOOR`` (0 bps: a strategy that loses money after fees fails) is the
one source of the edge threshold: the regression gate, ``mmbot tools drift``'s floor alarm and the
``MMBotNetBpsDegraded`` alert (docs/ops/alerts.yml, held equal by a test) all read it. A baseline can only raise a
regime's floor (``RegimeBaseline.net_bps_floor``: what the reference achieved minus its tolerance), never lower
it below ``NET_BPS_FLOOR``. The seed audit's 2.0-2.5 bps is a target (``NET_BPS_TARGET``), shown, not gated.

*Drift* compares a metric with the baseline's value for the same regime: it moved beyond tolerance when
``|value - baseline| > abs_tol + rel_tol * |baseline|`` (``TOLERANCES``); for a metric with a better
direction, only a move the bad way is a regression (a move the good way is reported as "improved"). Counts
(``COUNT_METRICS``: fills, orders, guard triggers) grow with the session's length and its number of symbols, so
a run of another length or symbol count is compared per symbol-hour, scaled to the baseline's size:
``value * (baseline.hours * baseline symbols) / (hours * symbols)``.

A replayed market (``mmbot regress --market replay:PATH[,PATH...]``) is one more regime, keyed by the recordings'
file names (``regime_key``: ``replay:btcusdt_20240808.gz``), so a baseline entry does not depend on where the
files sit; ``merge_baseline`` adds such entries to a baseline measured with the same seeds and length.

The baseline file (``reports/baseline.json``) is written only by ``mmbot regress --update-baseline``.
Errors: ``ValueError`` naming the file for a baseline file that is unreadable, not JSON, of an unknown version
or missing fields.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "AUDIT_GATES",
    "COUNT_METRICS",
    "DEFAULT_BASELINE_PATH",
    "LATENCY_SOURCE",
    "NET_BPS_FLOOR",
    "NET_BPS_TARGET",
    "TOLERANCES",
    "Baseline",
    "Drift",
    "GateResult",
    "RegimeBaseline",
    "Tolerance",
    "build_baseline",
    "check_gates",
    "compare",
    "count_scale",
    "load_baseline",
    "merge_baseline",
    "regime_key",
    "session_metrics",
]

DEFAULT_BASELINE_PATH = Path(__file__).resolve().parent / "baseline.json"
BASELINE_VERSION = 1
NET_BPS_FLOOR = 0.0  # bps: below it the strategy loses money after fees (gate, drift floor, alert)
NET_BPS_TARGET = 2.0  # bps: the seed audit's target edge, reported next to the gate
AUDIT_GATES: Mapping[str, float] = {"net_bps_min": NET_BPS_FLOOR, "latency_p95_ms_max": 200.0,
                                    "slippage_bps_max": 2.5}
COUNT_METRICS = ("maker_fills", "taker_fills", "orders_placed", "guard_triggers")
LATENCY_SOURCE = {
    "sim": "rest_ms p95: venue round trips on the virtual clock (sim mode has no wall-clock cycle latency)",
    "local": "cycle p95 on the wall clock",
}


@dataclass(frozen=True, slots=True)
class Tolerance:
    abs_tol: float
    rel_tol: float
    better: Literal["higher", "lower", "none"]


TOLERANCES: Mapping[str, Tolerance] = {
    "net_bps": Tolerance(1.5, 0.0, "higher"),
    "slippage_bps": Tolerance(0.5, 0.0, "lower"),
    "latency_p95_ms": Tolerance(5.0, 0.25, "lower"),
    "maker_fills": Tolerance(5.0, 0.5, "none"),
    "taker_fills": Tolerance(3.0, 0.5, "none"),
    "orders_placed": Tolerance(20.0, 0.5, "none"),
    "guard_triggers": Tolerance(2.0, 0.5, "lower"),
    "max_inventory_frac": Tolerance(0.05, 0.5, "lower"),
}


def session_metrics(summary: Mapping[str, Any], *, mode: str = "sim") -> dict[str, float]:
    """The gated and tracked numbers of one session summary (``SessionSummary.as_dict()``)."""
    symbols = summary.get("symbols") or []
    latency = summary.get("latency") or {}
    source = latency.get("cycle_ms") if mode != "sim" else None
    p95 = float((source or latency.get("rest_ms") or {}).get("p95", 0.0))
    inventory = [s["max_abs_inventory_lots"] / s["hard_limit_lots"] for s in symbols if s.get("hard_limit_lots")]
    return {
        "net_bps": float(summary.get("net_bps", 0.0)),
        "slippage_bps": max((float(s.get("slippage_bps", 0.0)) for s in symbols), default=0.0),
        "latency_p95_ms": p95,
        "maker_fills": float(summary.get("maker_fills", 0)),
        "taker_fills": float(summary.get("taker_fills", 0)),
        "orders_placed": float(summary.get("orders_placed", 0)),
        "guard_triggers": float(sum((summary.get("guard_triggers") or {}).values())),
        "max_inventory_frac": max(inventory, default=0.0),
    }


@dataclass(frozen=True, slots=True)
class RegimeBaseline:
    """The reference strategy's numbers for one regime (means over the baseline's seeds) and its net_bps floor."""

    metrics: dict[str, float]
    net_bps_floor: float
    per_seed: dict[str, dict[str, float]] = field(default_factory=dict)  # str(seed) -> metrics (runs are exact)


@dataclass(frozen=True, slots=True)
class Baseline:
    """What ``mmbot regress --update-baseline`` stored: how it was measured and the numbers per regime."""

    hours: float
    seeds: list[int]
    symbols: list[str]
    mode: str
    gates: dict[str, float]
    regimes: dict[str, RegimeBaseline]
    command: str = ""
    version: int = BASELINE_VERSION

    def floor(self, regime: str) -> float:
        """The regime's net_bps floor: the baseline's, never below ``NET_BPS_FLOOR``."""
        entry = self.regimes.get(regime)
        return max(NET_BPS_FLOOR, entry.net_bps_floor) if entry is not None else NET_BPS_FLOOR

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"


def load_baseline(path: Path | str | None = None) -> Baseline | None:
    """The baseline at ``path`` (default ``reports/baseline.json``), or ``None`` when there is none."""
    p = Path(path) if path is not None else DEFAULT_BASELINE_PATH
    if not p.is_file():
        return None
    try:
        raw = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{p}: not a readable baseline JSON file: {error}") from None
    if not isinstance(raw, dict) or raw.get("version") != BASELINE_VERSION:
        version = raw.get("version") if isinstance(raw, dict) else None
        raise ValueError(f"{p}: baseline version {version!r}, expected {BASELINE_VERSION}")
    try:
        regimes = {name: RegimeBaseline(**entry) for name, entry in raw["regimes"].items()}
        return Baseline(**{**raw, "regimes": regimes})
    except (KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{p}: not a baseline written by `mmbot regress --update-baseline`: {error}") from None


def build_baseline(
    per_regime: Mapping[str, Sequence[Mapping[str, Any]]], *, hours: float, seeds: Sequence[int],
    symbols: Sequence[str], mode: str = "sim", command: str = "", gates: Mapping[str, float] = AUDIT_GATES,
) -> Baseline:
    """A baseline from the reference strategy's summaries per regime.

    The net_bps floor of a regime is its worst seed (or its mean, the lower) minus the net_bps tolerance, so
    every baseline seed passes alone, and never below ``NET_BPS_FLOOR`` (module docstring).
    """
    regimes: dict[str, RegimeBaseline] = {}
    tol = TOLERANCES["net_bps"]
    for regime, summaries in sorted(per_regime.items()):
        rows = [session_metrics(s, mode=mode) for s in summaries]
        means = {k: statistics.fmean(r[k] for r in rows) for k in rows[0]}
        worst = min(*(r["net_bps"] for r in rows), means["net_bps"])
        floor = max(NET_BPS_FLOOR, worst - tol.abs_tol - tol.rel_tol * abs(worst))
        regimes[regime] = RegimeBaseline(
            metrics=means, net_bps_floor=round(floor, 4),
            per_seed={str(s["seed"]): r for s, r in zip(summaries, rows, strict=True)})
    return Baseline(hours=hours, seeds=list(seeds), symbols=list(symbols), mode=mode, gates=dict(gates),
                    regimes=regimes, command=command)


def regime_key(regime: str) -> str:
    """The baseline key of a regime: itself, or ``replay:<file names>`` for ``replay:PATH[,PATH...]``."""
    if not regime.startswith("replay:"):
        return regime
    return "replay:" + ",".join(Path(p).name for p in regime[len("replay:"):].split(",") if p)


def merge_baseline(existing: Baseline, new: Baseline) -> Baseline:
    """``existing`` with ``new``'s regimes added or replaced; ``ValueError`` unless both were measured with the
    same seeds, session length and mode (their numbers would not be comparable)."""
    if (existing.seeds, existing.hours, existing.mode) != (new.seeds, new.hours, new.mode):
        raise ValueError(f"the baseline was measured with seeds {existing.seeds}, {existing.hours:g} h, mode "
                         f"{existing.mode}; this run used seeds {new.seeds}, {new.hours:g} h, mode {new.mode}: run "
                         f"with the same --seeds and --hours, or write to another --baseline file")
    return Baseline(hours=existing.hours, seeds=existing.seeds, symbols=existing.symbols, mode=existing.mode,
                    gates=existing.gates, regimes={**existing.regimes, **new.regimes}, command=existing.command)


@dataclass(frozen=True, slots=True)
class GateResult:
    name: str
    value: float
    limit: float
    op: str  # ">=" or "<="
    passed: bool
    note: str = ""


def check_gates(metrics: Mapping[str, float], *, regime: str, baseline: Baseline | None,
                mode: str = "sim") -> list[GateResult]:
    """The three audit gates for one session's (or one regime's mean) metrics (limits: ``AUDIT_GATES``)."""
    gates = AUDIT_GATES
    floor = baseline.floor(regime) if baseline is not None else NET_BPS_FLOOR
    floor_note = (f"{regime} floor from the baseline" if floor > NET_BPS_FLOOR else
                  "no loss after fees") + f" (target {NET_BPS_TARGET:g} bps)"
    return [
        GateResult("net_bps", metrics["net_bps"], floor, ">=", metrics["net_bps"] >= floor, floor_note),
        GateResult("latency_p95_ms", metrics["latency_p95_ms"], gates["latency_p95_ms_max"], "<=",
                   metrics["latency_p95_ms"] <= gates["latency_p95_ms_max"],
                   LATENCY_SOURCE.get(mode, LATENCY_SOURCE["local"])),
        GateResult("slippage_bps", metrics["slippage_bps"], gates["slippage_bps_max"], "<=",
                   metrics["slippage_bps"] <= gates["slippage_bps_max"], "worst symbol, taker fills"),
    ]


@dataclass(frozen=True, slots=True)
class Drift:
    metric: str
    value: float
    baseline: float
    allowed: float
    status: Literal["ok", "regressed", "improved", "moved"]
    scale: float = 1.0  # a count's value was multiplied by this to the baseline's hours and symbols

    @property
    def flagged(self) -> bool:
        return self.status != "ok"


def count_scale(baseline: Baseline, hours: float | None, symbols: int | None) -> float:
    """The factor that takes a count of a run of ``hours`` and ``symbols`` to the baseline's size (1 if unknown)."""
    if not hours or hours <= 0:
        return 1.0
    base_symbols = max(1, len(baseline.symbols))
    return (baseline.hours * base_symbols) / (hours * (symbols if symbols else base_symbols))


def compare(metrics: Mapping[str, float], baseline: Baseline | None, regime: str, *,
            seed: int | None = None, hours: float | None = None, symbols: int | None = None) -> list[Drift]:
    """Each tracked metric against the baseline for ``regime`` (empty without one).

    Sessions are deterministic, so when the baseline holds the same seed at the same length the comparison is
    with that seed's own numbers (the sharpest check); otherwise with the regime's mean over seeds. Counts are
    scaled to the baseline's hours and symbols (``count_scale``, module docstring).
    """
    if baseline is None or regime not in baseline.regimes:
        return []
    entry = baseline.regimes[regime]
    same_size = hours == baseline.hours and (symbols is None or symbols == len(baseline.symbols))
    same_run = seed is not None and str(seed) in entry.per_seed and same_size
    reference = entry.per_seed[str(seed)] if same_run else entry.metrics
    scale = 1.0 if same_size else count_scale(baseline, hours, symbols)
    out: list[Drift] = []
    for name, tol in TOLERANCES.items():
        if name not in metrics or name not in reference:
            continue
        factor = scale if name in COUNT_METRICS else 1.0
        value, base = metrics[name] * factor, reference[name]
        allowed = tol.abs_tol + tol.rel_tol * abs(base)
        delta = value - base
        status: Literal["ok", "regressed", "improved", "moved"] = "ok"
        if abs(delta) > allowed:
            if tol.better == "none":
                status = "moved"
            elif (delta > 0) == (tol.better == "higher"):
                status = "improved"
            else:
                status = "regressed"
        out.append(Drift(name, value, base, allowed, status, factor))
    return out
