"""Registrations a newcomer could forget (docs/CONTRIBUTING.md): every fault kind, invariant and pipeline stage
is registered in each place it must be, exactly once, and documented (docs/registry.md)."""

from __future__ import annotations

import importlib
import inspect
import re
from decimal import Decimal
from pathlib import Path

import pytest

import bot.strategy
from bot.core.types import SymbolInfo
from bot.strategy.config import STAGE_NAMES, StrategyConfig
from bot.strategy.factory import build_stage
from bot.strategy.sizes import symbol_sizes
from chaos.coverage import HARNESS, ORDER_LEVEL
from chaos.spec import SessionSpec
from exchange_sim.checker import INVARIANTS
from exchange_sim.checker.coverage import COVERAGE
from exchange_sim.faults import CATALOGUE, FaultKind

REPO = Path(__file__).resolve().parents[2]
REGISTRY = (REPO / "docs" / "registry.md").read_text(encoding="utf-8")
INFO = SymbolInfo(symbol="BTCUSDT", base_asset="BTC", quote_asset="USDT", tick_size=Decimal("0.01"),
                  step_size=Decimal("0.001"), min_notional=Decimal("5"), max_qty_lots=1000)
# where a fault's effect is applied: the venue's injector and server for venue kinds, the session for harness kinds
VENUE_EFFECTS = sorted((REPO / "exchange_sim" / "faults").glob("*.py")) + sorted(
    (REPO / "exchange_sim" / "server").glob("*.py"))
HARNESS_EFFECTS = [REPO / "harness" / "session_harness.py", REPO / "harness" / "session.py"]
NOT_A_CHECK_FUNCTION = {"12.determinism": "the swarm re-runs seeds and compares digests (chaos --recheck-every)"}


def registry_ids(section: str) -> list[str]:
    """The backticked first cells of the table under ``## <section>`` in docs/registry.md."""
    body = REGISTRY.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([^`]+)` \|", body, flags=re.MULTILINE)


# -- fault kinds ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(FaultKind), ids=str)
def test_every_fault_kind_has_a_documented_catalogue_entry(kind: FaultKind) -> None:
    spec = CATALOGUE[kind]
    assert spec.kind is kind
    assert spec.doc.strip() and spec.targets
    assert 0 <= spec.duration_s[0] <= spec.duration_s[1]


@pytest.mark.parametrize("kind", list(FaultKind), ids=str)
def test_the_swarm_can_draw_every_fault_kind(kind: FaultKind) -> None:
    drawn = {f.kind for f in SessionSpec(seed=3, minutes=10, kinds=(kind.value,)).scenario().faults}
    assert drawn == {kind}


@pytest.mark.parametrize("kind", list(FaultKind), ids=str)
def test_every_fault_kind_has_an_effect_where_its_kind_is_applied(kind: FaultKind) -> None:
    places = HARNESS_EFFECTS if CATALOGUE[kind].harness else VENUE_EFFECTS
    users = [p.name for p in places if p.name != "model.py" and f"FaultKind.{kind.name}" in p.read_text("utf-8")]
    assert users, f"no module applies {kind.value}: look for FaultKind.{kind.name} in {[p.name for p in places]}"


def test_the_chaos_coverage_knows_the_harness_kinds_and_only_real_kinds() -> None:
    assert {k.value for k in FaultKind if CATALOGUE[k].harness} == set(HARNESS)
    assert set(ORDER_LEVEL) <= {k.value for k in FaultKind} - set(HARNESS)


def test_every_fault_kind_has_one_line_in_the_registry_and_no_line_names_another() -> None:
    listed = registry_ids("Fault kinds")
    assert sorted(listed) == sorted(k.value for k in FaultKind)
    assert len(listed) == len(set(listed))


# -- invariants -----------------------------------------------------------------------------------------------------
def test_every_invariant_id_is_numbered_once_and_named() -> None:
    numbers = [int(name.split(".")[0]) for name in INVARIANTS]
    assert all(re.fullmatch(r"\d+\.[a-z_]+", name) for name in INVARIANTS)
    assert len(numbers) == len(set(numbers))


@pytest.mark.parametrize("name", list(INVARIANTS))
def test_every_check_function_states_its_invariant_number(name: str) -> None:
    doc = INVARIANTS[name].__doc__
    if doc is not None:  # 11.matching is the engine's own self-check, documented in the registry instead
        assert doc.strip().startswith(name.split(".", maxsplit=1)[0] + ".")


def test_every_invariant_has_one_line_in_the_registry_and_no_line_names_another() -> None:
    listed = registry_ids("Invariants")
    assert sorted(listed) == sorted([*INVARIANTS, *NOT_A_CHECK_FUNCTION])
    assert len(listed) == len(set(listed))


def test_skip_reasons_are_registered_for_real_invariants_only() -> None:
    assert set(COVERAGE) <= set(INVARIANTS)


# -- pipeline stages ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", STAGE_NAMES)
def test_every_stage_name_builds_the_stage_of_that_name_and_has_its_config_section(name: str) -> None:
    sizes = symbol_sizes(StrategyConfig(), INFO, Decimal(60_000))
    assert build_stage(name, StrategyConfig(), INFO, sizes).name == name
    assert name in StrategyConfig.model_fields


def test_every_stage_name_is_registered_once() -> None:
    assert len(STAGE_NAMES) == len(set(STAGE_NAMES))


def test_every_stage_class_in_the_strategy_package_is_registered() -> None:
    found = {}
    for module_path in sorted(Path(bot.strategy.__file__).parent.glob("*.py")):
        module = importlib.import_module(f"bot.strategy.{module_path.stem}")
        for cls in vars(module).values():
            name = getattr(cls, "name", None) if inspect.isclass(cls) else None
            if isinstance(name, str) and cls.__module__ == module.__name__ and callable(getattr(cls, "process", None)):
                found[cls.__name__] = name
    assert found, "no stage class found: the scan is broken"
    assert sorted(found.values()) == sorted(STAGE_NAMES), found
