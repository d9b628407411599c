"""The gate runs the production path (SQLite state store on a file, the default intervals, limits small enough to
bite) and checks determinism inside the swarm."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import chaos.runner
import chaos.shrink
import harness.session
from bot.config import BotConfig
from bot.connectors.binance.http import Endpoint, RestClient
from bot.core.errors import BotError, ErrorCode
from bot.execution.config import ExecutionConfig
from bot.execution.memory_store import MemoryStateStore
from bot.execution.state import OrderStore, StateStore
from bot.quoting.config import QuotingConfig
from chaos.runner import SessionResult, run_spec, run_swarm
from chaos.shrink import shrink
from chaos.spec import SYMBOL, SessionSpec, chaos_config
from exchange_sim.faults import Fault, FaultKind, Scenario
from harness.session import open_session_store, run_sim_session

pytestmark = pytest.mark.chaos


def with_state(path: str) -> BotConfig:
    return BotConfig(symbols=(SYMBOL,), execution=ExecutionConfig(state_path=path))


def test_the_gate_uses_the_default_intervals_and_a_small_inventory_limit() -> None:
    config = chaos_config("/tmp/x.sqlite3")
    assert config.execution.reconcile_interval_s == ExecutionConfig().reconcile_interval_s == 30.0
    assert config.quoting.cycle_interval_s == QuotingConfig().cycle_interval_s
    assert config.execution.state_path == "/tmp/x.sqlite3"
    assert config.risk.inventory.hard_max_for(SYMBOL) <= Decimal("0.01")


def test_a_session_with_a_state_file_runs_on_the_sqlite_store_and_refuses_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    store = open_session_store(with_state(str(path)))
    try:
        assert isinstance(store, StateStore)
        assert path.exists()
    finally:
        store.close()
    with pytest.raises(BotError) as refused:
        open_session_store(with_state(str(path)))
    assert refused.value.code is ErrorCode.STATE_INVALID


def test_memory_and_the_live_default_path_keep_the_in_process_store(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for config in (with_state(":memory:"), BotConfig(symbols=(SYMBOL,))):
        assert isinstance(open_session_store(config), MemoryStateStore)
    assert list(tmp_path.iterdir()) == []  # a simulation never creates (or opens) the live bot's state file


def test_every_instance_after_a_crash_runs_on_the_same_state_file(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite3"
    crash = Fault(FaultKind.CRASH, "bot", start_s=20.0, duration_s=0.0, params={"restart_after_s": 2.0})
    summary = run_sim_session(with_state(str(path)), seed=3, hours=1 / 60, scenario=Scenario((crash,)),
                              timer=None, sample_metrics=False)
    assert summary.reactions["restarts"] == 1
    assert not summary.violations, summary.violations
    with contextlib.closing(sqlite3.connect(path)) as db:  # the file holds both instances' orders, ids not reused
        ids = [row[0] for row in db.execute("SELECT client_order_id FROM orders")]
    assert ids and len(ids) == len(set(ids))
    assert summary.orders_placed <= len(ids)


def test_run_spec_runs_the_session_on_a_sqlite_file_it_removes_afterwards(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[OrderStore] = []

    def spy(config: BotConfig, cold_start: int = 0) -> OrderStore:
        opened.append(open_session_store(config, cold_start))
        return opened[-1]

    monkeypatch.setattr(harness.session, "open_session_store", spy)
    result = run_spec(SessionSpec(seed=2, minutes=0.5))
    assert result.ok, result.violations
    assert [type(s) for s in opened] == [StateStore]
    assert not Path(opened[0].path).exists()  # type: ignore[attr-defined]


def test_a_seed_whose_rerun_gives_another_digest_is_a_determinism_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    runs: dict[int, int] = {}

    def flaky(spec: SessionSpec) -> SessionResult:
        runs[spec.seed] = runs.get(spec.seed, 0) + 1
        digest = f"d{spec.seed}" + ("-again" if spec.seed == 4 and runs[spec.seed] == 2 else "")
        return SessionResult(spec=spec, schedule=(), scenario_yaml="", violations=(), digest=digest)

    monkeypatch.setattr(chaos.runner, "run_spec", flaky)
    results = run_swarm([SessionSpec(seed=s, minutes=1.0) for s in range(6)], recheck_every=2)
    assert runs == {0: 2, 1: 1, 2: 2, 3: 1, 4: 2, 5: 1}
    assert [r.spec.seed for r in results] == list(range(6))
    assert [r.invariants for r in results] == [(), (), (), (), ("12.determinism",), ()]
    assert "seed 4" in results[4].violations[0]["detail"]
    assert dataclasses.replace(results[4], violations=()).digest == "d4"  # the first run's digest is kept


def test_a_determinism_failure_is_not_shrunk_but_kept_with_its_whole_schedule(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_session(spec: SessionSpec) -> SessionResult:
        raise AssertionError("a 12.determinism failure needs no shrinking run")

    monkeypatch.setattr(chaos.shrink, "run_spec", no_session)
    spec = SessionSpec(seed=3, minutes=5.0)
    failing = SessionResult(spec=spec, schedule=(), scenario_yaml="", digest="d", violations=(
        {"invariant": "12.determinism", "t_s": 0.0, "orders": [], "detail": "seed 3 ran twice"},))
    shrunk = shrink(failing)
    assert shrunk.invariants == ("12.determinism",)
    assert shrunk.spec.scenario() == spec.scenario()


CHAOS_SESSION_MODULES = """
import importlib.util, json, sys
from chaos.runner import run_spec
from chaos.spec import SessionSpec
result = run_spec(SessionSpec(seed=2, minutes=0.5))
print(json.dumps({"ok": result.ok, "modules": sorted(m for m in sys.modules if m.startswith("bot.connectors")),
                  "sim_module_exists": importlib.util.find_spec("bot.connectors.sim") is not None}))
"""


def test_a_chaos_session_runs_the_binance_connector_and_no_second_policy() -> None:
    """Issue 17: the gate tests the code that trades real money. A fresh process (nothing imported before the
    session) runs one chaos session; the connector modules it imported are BinanceConnector's, and the old
    ``bot.connectors.sim`` policy neither exists nor is imported."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", CHAOS_SESSION_MODULES], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(root)}, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["ok"]
    assert {"bot.connectors.binance", "bot.connectors.binance.connector",
            "bot.connectors.binance.http"} <= set(report["modules"])
    assert "bot.connectors.sim" not in report["modules"]
    assert not report["sim_module_exists"]


def test_every_request_of_a_chaos_session_goes_through_the_binance_connector(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[str] = []
    original = RestClient.request

    async def counting(self: RestClient, endpoint: Endpoint, *args: Any, **kwargs: Any) -> Any:
        sent.append(f"{endpoint.method} {endpoint.path}")
        return await original(self, endpoint, *args, **kwargs)

    monkeypatch.setattr(RestClient, "request", counting)
    result = run_spec(SessionSpec(seed=2, minutes=0.5))
    assert result.ok, result.violations
    assert "POST order" in sent and "GET exchangeInfo" in sent and "GET time" in sent
