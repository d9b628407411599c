"""Fault catalogue data model: faults validate their fields, scenario files load and round-trip, swarms are seeded."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange_sim.faults import CATALOGUE, Fault, FaultKind, Scenario, ScenarioError, draw_scenario, load_scenario
from exchange_sim.faults.scenario import QUIET_TAIL_FRACTION, to_yaml


def test_every_kind_is_documented_with_targets_and_defaults() -> None:
    assert set(CATALOGUE) == set(FaultKind)
    for kind, spec in CATALOGUE.items():
        assert spec.doc and spec.targets
        fault = Fault(kind, spec.targets[0] if spec.targets[0] != "symbol" else "BTCUSDT", 0.0, 1.0)
        assert set(fault.params) == {p.name for p in spec.params}


def test_a_fault_fills_in_default_parameters() -> None:
    fault = Fault(FaultKind.LATENCY, "rest", 10.0, 5.0, {"latency_ms": 250})
    assert fault.num("latency_ms") == 250.0
    assert fault.num("jitter_ms") == 0.0
    assert fault.end_s == 15.0


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"params": {"latency_ms": -1}}, "parameters.latency_ms"),
    ({"params": {"nope": 1}}, "parameters.nope"),
    ({"target": "user_account"}, "target"),
    ({"start_s": -1.0}, "start"),
    ({"duration_s": -1.0}, "duration"),
    ({"toxicity": 1.5}, "toxicity"),
])
def test_an_invalid_fault_names_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"kind": FaultKind.LATENCY, "target": "rest", "start_s": 0.0, "duration_s": 1.0}
    with pytest.raises(ValueError, match=field):
        Fault(**{**args, **kwargs})  # type: ignore[arg-type]


def test_a_symbol_target_is_accepted_where_the_kind_allows_it() -> None:
    assert Fault(FaultKind.FEED_GAP, "ETHUSDT", 0, 1).hits("ws", "ETHUSDT")
    assert not Fault(FaultKind.FEED_GAP, "ETHUSDT", 0, 1).hits("ws", "BTCUSDT")
    with pytest.raises(ValueError, match="target"):
        Fault(FaultKind.CLOCK_SKEW, "BTCUSDT", 0, 1)


def test_active_returns_the_faults_whose_window_contains_now() -> None:
    a = Fault(FaultKind.PARTITION, "rest", 10, 5)
    b = Fault(FaultKind.LATENCY, "ws", 12, 10)
    scenario = Scenario((a, b))
    assert scenario.active(9.9) == ()
    assert scenario.active(12.0) == (a, b)
    assert scenario.active(15.0) == (b,)
    assert scenario.end_s == 22


def test_a_scenario_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("faults:\n  - fault: partition\n    target: rest\n    start: 60\n    duration: 30\n"
                    "    parameters: {direction: downstream}\n  - {fault: outage, target: both, start: 5, duration: 2,"
                    " toxicity: 0.5}\n")
    scenario = load_scenario(path)
    assert [f.kind for f in scenario.faults] == [FaultKind.PARTITION, FaultKind.OUTAGE]
    assert scenario.faults[0].text("direction") == "downstream"
    assert scenario.faults[1].toxicity == 0.5


@pytest.mark.parametrize(("text", "message"), [
    ("faults:\n  - {fault: nosuch, target: rest, start: 0}\n", r"faults\[0\]\.fault: unknown kind"),
    ("faults:\n  - {fault: latency, target: rest}\n", r"faults\[0\]\.start: missing"),
    ("faults:\n  - {fault: latency, target: rest, start: soon}\n", r"faults\[0\]\.start: expected a number"),
    ("faults:\n  - {fault: latency, target: rest, start: 0, when: 1}\n", r"faults\[0\]\.when: unknown field"),
    ("faults:\n  - {fault: latency, target: rest, start: 0, duration: 1, parameters: {latency_ms: x}}\n",
     r"faults\[0\]\.parameters\.latency_ms: expected a number"),
    ("faults: 3\n", "faults: expected a list"),
    ("faults: [\n", "not valid YAML"),
])
def test_a_bad_scenario_file_names_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_to_yaml_round_trips(tmp_path: Path) -> None:
    scenario = draw_scenario(3, 3600.0)
    path = tmp_path / "drawn.yaml"
    path.write_text(to_yaml(scenario))
    assert load_scenario(path) == scenario


def test_the_same_seed_draws_the_same_scenario_and_seeds_differ() -> None:
    assert draw_scenario(11, 3600.0) == draw_scenario(11, 3600.0)
    assert len({to_yaml(draw_scenario(seed, 3600.0)) for seed in range(20)}) == 20


def test_swarm_mixes_differ_between_seeds_and_respect_kinds() -> None:
    mixes = {draw_scenario(seed, 600.0).kinds() for seed in range(30)}
    assert len(mixes) > 10
    only = draw_scenario(5, 600.0, [FaultKind.PARTITION, FaultKind.LATENCY])
    assert only.kinds() <= {FaultKind.PARTITION, FaultKind.LATENCY} and only.faults


def test_swarm_faults_heal_before_the_quiet_tail() -> None:
    for seed in range(30):
        scenario = draw_scenario(seed, 1000.0)
        assert scenario.end_s <= (1 - QUIET_TAIL_FRACTION) * 1000.0 + 1e-6


HARNESS_KINDS = (FaultKind.PAUSE, FaultKind.OPERATOR_STOP, FaultKind.COLD_RESTART)


def test_harness_kinds_are_harness_faults_on_the_bot_off_by_default() -> None:
    for kind in HARNESS_KINDS:
        spec = CATALOGUE[kind]
        assert spec.harness and spec.targets == ("bot",)
        assert kind not in draw_scenario(0, 600.0, [FaultKind.LATENCY]).kinds()
    stop = Fault(FaultKind.OPERATOR_STOP, "bot", 10.0, 0.0)
    assert (stop.text("how"), stop.text("when"), stop.num("restart_after_s")) == ("sigint", "time", 30.0)
    with pytest.raises(ValueError, match=r"parameters\.how"):
        Fault(FaultKind.OPERATOR_STOP, "bot", 10.0, 0.0, {"how": "sigkill"})


def test_harness_kinds_round_trip_through_yaml(tmp_path: Path) -> None:
    scenario = Scenario((
        Fault(FaultKind.PAUSE, "bot", 10.0, 12.5),
        Fault(FaultKind.OPERATOR_STOP, "bot", 30.0, 0.0, {"how": "kill_switch", "when": "next_order",
                                                          "restart_after_s": 45.0}),
        Fault(FaultKind.COLD_RESTART, "bot", 60.0, 0.0, {"restart_after_s": 7.0}),
        Fault(FaultKind.MARKET_SHOCK, "both", 90.0, 30.0, {"size_bps": -800.0, "regime": "flash_crash"}),
    ))
    path = tmp_path / "harness.yaml"
    path.write_text(to_yaml(scenario), encoding="utf-8")
    assert load_scenario(path) == scenario


def test_the_swarm_draws_every_harness_kind_with_each_choice() -> None:
    drawn = [f for seed in range(60) for f in draw_scenario(seed, 600.0, HARNESS_KINDS).faults]
    assert {f.kind for f in drawn} == set(HARNESS_KINDS)
    stops = [f for f in drawn if f.kind is FaultKind.OPERATOR_STOP]
    assert {f.text("how") for f in stops} == {"sigint", "sigterm", "kill_switch"}
    assert {f.text("when") for f in stops} == {"time", "next_order"}
    assert all(1.0 <= f.duration_s <= 60.0 for f in drawn if f.kind is FaultKind.PAUSE)
