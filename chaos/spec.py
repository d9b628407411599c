"""SessionSpec: everything that determines one chaos session, and the bot config the gate runs.

A spec is plain data (picklable, hashable): ``seed`` (market, latencies and, unless a scenario is given, the fault
schedule via ``draw_scenario``), ``minutes`` of simulated time, ``kinds`` (the fault kinds the swarm may draw;
empty: all), ``scenario_yaml`` (an explicit schedule, e.g. a shrunk one; overrides the draw) and ``sabotage`` (a
test-only switch from ``chaos.sabotage``; None in real gates). The same spec gives the same event-log digest in
any process (the replay key is spec + code version).

Errors: ``ValueError`` for a non-positive length or an unknown fault kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import yaml

from bot.config import BotConfig
from bot.execution.config import ExecutionConfig
from bot.risk.config import InventoryLimits, RiskConfig
from exchange_sim.faults import FaultKind, Scenario, draw_scenario, scenario_from_data

SYMBOL = "BTCUSDT"
HARD_INVENTORY_BASE = Decimal("0.005")  # 5 default quote sizes (100 lots of 0.00001): guards and invariant 6 bite
SOFT_FRACTION = 0.2  # SOFT (reduce-only) at one full quote (100 lots): both signs of SOFT are reached every session


def chaos_config(state_path: str = ":memory:", amend: str = "cancel_then_place") -> BotConfig:
    """The bot as the gate runs it: the production path - the default quote cycle and reconcile interval, the
    SQLite state store on ``state_path`` (``run_spec`` passes a new temporary file per session; the default
    ``":memory:"`` is for callers that only read the config, e.g. its limits) - with one symbol and a small
    inventory limit, so that the inventory guards and invariant 6 are exercised, not just present. ``amend``
    is how quotes move (``SessionSpec.amend``: both ways are gated, half the seeds each)."""
    return BotConfig(
        symbols=(SYMBOL,),
        execution=ExecutionConfig(state_path=state_path, amend=amend),
        risk=RiskConfig(inventory=InventoryLimits(hard_max_base={SYMBOL: HARD_INVENTORY_BASE},
                                                  soft_fraction=SOFT_FRACTION)),
    )


def parse_kinds(text: str | None) -> tuple[FaultKind, ...]:
    """``"partition,clock_skew"`` -> kinds (empty or None: every kind). ``ValueError`` names an unknown kind."""
    if not text:
        return ()
    out = []
    for name in (n.strip() for n in text.split(",")):
        if not name:
            continue
        try:
            out.append(FaultKind(name))
        except ValueError:
            raise ValueError(f"unknown fault kind {name!r}; known: {', '.join(k.value for k in FaultKind)}") \
                from None
    return tuple(sorted(set(out), key=lambda k: k.value))


@dataclass(frozen=True, slots=True)
class SessionSpec:
    seed: int
    minutes: float = 10.0
    kinds: tuple[str, ...] = ()  # fault kinds the draw may use (empty: all)
    scenario_yaml: str | None = None  # explicit schedule (overrides the draw)
    sabotage: str | None = None  # test-only: a safety mechanism switched off (chaos.sabotage)
    market: str | None = None  # replay:PATH[,PATH...]: a recorded market (None: the synthetic one)

    def __post_init__(self) -> None:
        if not self.minutes > 0:
            raise ValueError(f"minutes must be positive, got {self.minutes!r}")
        parse_kinds(",".join(self.kinds))

    @property
    def amend(self) -> str:
        """How the session's bot moves quotes: odd seeds, and any session that draws a cancel-replace fault, by one
        cancelReplace; the others by cancel + new order (both are production options; without the first, no
        cancelReplace fault could ever hit)."""
        if self.seed % 2 or FaultKind.CANCEL_REPLACE_HALF in self.scenario().kinds():
            return "cancel_replace"
        return "cancel_then_place"

    @property
    def duration_s(self) -> float:
        return self.minutes * 60.0

    def scenario(self) -> Scenario:
        """The fault schedule: the explicit one, or the one drawn from the seed."""
        if self.scenario_yaml is not None:
            return scenario_from_data(yaml.safe_load(self.scenario_yaml), f"seed {self.seed} scenario")
        kinds = parse_kinds(",".join(self.kinds)) or None
        return draw_scenario(self.seed, self.duration_s, kinds)
