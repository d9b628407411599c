"""Scenario files (YAML) and the swarm generator: faults from a file, or a fault mix drawn from a seed.

File format (a top-level list of faults is accepted too)::

    faults:
      - fault: partition        # a FaultKind value
        target: rest            # rest | ws | user | both | bot | a symbol
        start: 60               # simulated seconds from the session start
        duration: 30            # seconds (0: an instantaneous fault, e.g. market_shock)
        toxicity: 1.0           # optional: probability that an eligible request/message is hit
        parameters: {direction: both}   # optional: see exchange_sim.faults.model.CATALOGUE

Errors: ``ScenarioError`` (a ``ValueError``) names the file, the fault's index and the field, e.g.
``scenario.yaml: faults[2].duration: must be >= 0, got -1``.

``draw_scenario(seed, duration_s)`` is swarm testing (TigerBeetle VOPR, Groce et al.): each seed picks its own
subset of kinds, then for each picked kind one to three faults with drawn targets, windows, toxicities and
parameters. Faults overlap freely; every fault heals before ``(1 - QUIET_TAIL_FRACTION) * duration_s`` so the
session ends with a fault-free phase in which liveness is checked. Draws come from ``rng.stream(seed, "faults",
"swarm")``: the same seed gives the same scenario in any process.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

import yaml

from exchange_sim.faults.model import CATALOGUE, Fault, FaultKind, KindSpec, ParamValue, Scenario, latest_end_s
from exchange_sim.rng import stream

QUIET_TAIL_FRACTION = 0.2  # the last fifth of a drawn session is fault-free (liveness phase)
KIND_PROBABILITY = 0.5  # swarm: chance each kind is part of a seed's mix
TOXICITIES = (0.05, 0.2, 0.5, 1.0)  # swarm: toxicity levels drawn (rare paths biased on, BUGGIFY-style)
SWARM_SYMBOLS = ("BTCUSDT",)  # symbol targets the swarm may draw besides the channel names
_FIELDS = ("fault", "target", "start", "duration", "toxicity", "parameters")


class ScenarioError(ValueError):
    """A scenario file or mapping is malformed; the message names the field."""


def scenario_from_data(data: object, source: str = "scenario") -> Scenario:
    """Build a ``Scenario`` from parsed YAML/JSON data (a mapping with ``faults`` or a list)."""
    if data is None:
        return Scenario()
    if isinstance(data, Mapping):
        extra = sorted(set(data) - {"faults", "seed", "description"})
        if extra:
            raise ScenarioError(f"{source}: {extra[0]}: unknown top-level field (expected faults)")
        data = data.get("faults") or []
    if not isinstance(data, list):
        raise ScenarioError(f"{source}: faults: expected a list of faults, got {type(data).__name__}")
    return Scenario(tuple(_fault(item, f"{source}: faults[{i}]") for i, item in enumerate(data)))


def _fault(item: object, where: str) -> Fault:
    if not isinstance(item, Mapping):
        raise ScenarioError(f"{where}: expected a mapping with {', '.join(_FIELDS)}")
    extra = sorted(set(item) - set(_FIELDS))
    if extra:
        raise ScenarioError(f"{where}.{extra[0]}: unknown field (expected {', '.join(_FIELDS)})")
    for name in ("fault", "target", "start"):
        if name not in item:
            raise ScenarioError(f"{where}.{name}: missing")
    params = item.get("parameters") or {}
    if not isinstance(params, Mapping):
        raise ScenarioError(f"{where}.parameters: expected a mapping, got {params!r}")
    try:
        return Fault(
            kind=cast(FaultKind, str(item["fault"])),  # Fault validates and converts it
            target=str(item["target"]),
            start_s=_number(item["start"], f"{where}.start"),
            duration_s=_number(item.get("duration", 0.0), f"{where}.duration"),
            params=dict(params),
            toxicity=_number(item.get("toxicity", 1.0), f"{where}.toxicity"),
        )
    except ValueError as error:
        if isinstance(error, ScenarioError):
            raise
        raise ScenarioError(f"{where}.{error}") from None


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ScenarioError(f"{where}: expected a number of seconds, got {value!r}")
    return float(value)


def load_scenario(path: Path | str) -> Scenario:
    """Read a scenario file. Raises ``ScenarioError`` (one line) naming the file and the field, or the line and
    column of a YAML syntax error, or why the file cannot be read."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(f"{path}: cannot be read: {getattr(error, 'strerror', None) or error}") from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ScenarioError(f"{path}: not valid YAML{where}: {error.problem or error.context}") from None
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    return scenario_from_data(data, str(path))


def to_yaml(scenario: Scenario) -> str:
    """The scenario as a file ``load_scenario`` reads back to an equal ``Scenario``."""
    return yaml.safe_dump({"faults": [f.to_dict() for f in scenario.faults]}, sort_keys=False)


def draw_scenario(seed: int, duration_s: float, kinds: Sequence[FaultKind] | None = None) -> Scenario:
    """A swarm-drawn scenario for a session of ``duration_s`` seconds (see module docstring).

    ``kinds`` limits the mix (default: every kind). At least one fault is drawn when ``kinds`` is not empty.
    """
    if duration_s <= 0:
        raise ValueError(f"duration_s must be positive, got {duration_s!r}")
    rng = stream(seed, "faults", "swarm")
    pool = sorted(set(kinds) if kinds is not None else set(FaultKind), key=lambda k: k.value)
    if not pool:
        return Scenario()
    chosen = [k for k in pool if rng.random() < KIND_PROBABILITY] or [rng.choice(pool)]
    heal_by = (1.0 - QUIET_TAIL_FRACTION) * duration_s
    faults: list[Fault] = []
    for kind in chosen:
        for _ in range(rng.randint(1, 3)):
            faults.append(_draw_fault(rng, CATALOGUE[kind], heal_by))
    faults.sort(key=lambda f: (f.start_s, f.kind.value))
    return Scenario(tuple(faults))


def _draw_fault(rng: random.Random, spec: KindSpec, heal_by: float) -> Fault:
    low, high = spec.duration_s
    duration = min(rng.uniform(low, high), heal_by * 0.5)
    start = rng.uniform(0.0, max(heal_by - duration, 0.0))
    targets = [t for t in spec.targets if t != "symbol"] + (list(SWARM_SYMBOLS) if "symbol" in spec.targets else [])
    params: dict[str, ParamValue] = {}
    for p in spec.params:
        if p.choices:
            choices = _SWARM_KIND_CHOICES.get(spec.kind, {}).get(p.name) or _SWARM_CHOICES.get(p.name, p.choices)
            params[p.name] = rng.choice(choices)
        else:
            cap = _SWARM_CAPS.get(p.name, max(abs(p.low), abs(p.high)))
            params[p.name] = round(rng.uniform(max(p.low, -cap), min(p.high, cap)), 3)
    if "fraction_min" in params and "fraction_max" in params:
        lo, hi = sorted((float(params["fraction_min"]), float(params["fraction_max"])))
        params["fraction_min"], params["fraction_max"] = lo, hi
    fault = Fault(kind=spec.kind, target=rng.choice(targets), start_s=round(start, 3), duration_s=round(duration, 3),
                  params=params, toxicity=rng.choice(TOXICITIES))
    overrun = latest_end_s(fault) - heal_by  # a trigger or a slow close may act past start + duration
    if overrun > 0:
        fault = dataclasses.replace(fault, start_s=round(max(fault.start_s - overrun, 0.0), 3))
    return fault


_SWARM_CHOICES = {  # for every kind: half the gate's sessions never send cancelReplace (chaos.spec amend)
    "trigger": ("time", "next_order", "next_cancel"),
    "request": ("any", "order", "cancel", "query", "open_orders", "account"),
}
_SWARM_KIND_CHOICES: dict[FaultKind, dict[str, tuple[str, ...]]] = {
    # acts at the bot's next cancelReplace in its window (the session then moves quotes that way: SessionSpec.amend)
    FaultKind.CANCEL_REPLACE_HALF: {"trigger": ("next_replace",)},
}
_SWARM_CAPS = {  # keep drawn values in a range where a session still makes progress
    "latency_ms": 2_000.0, "jitter_ms": 500.0, "spike_ms": 5_000.0, "offset_ms": 120_000.0, "drift_ppm": 1_000.0,
    "strobe_ms": 10_000.0, "strobe_period_s": 60.0, "weight_limit": 300.0, "window_s": 60.0, "ban_after": 10.0,
    "ban_s": 120.0, "delay_ms": 10_000.0, "rate_per_s": 2.0, "restart_after_s": 60.0, "delay_us": 10_000.0,
    "rate_kbps": 10_000.0, "message_bytes": 4_096.0, "limit_mb": 1_024.0, "message_rate_per_s": 5_000.0,
    "close_s": 30.0, "grace_s": 10.0,
}

