"""The gate catches bugs, and what it prints replays them: each sabotage switch (one safety mechanism off) makes a
small fixed-seed swarm fail with a replayable seed, and the printed replay command, run in a fresh process,
fails the same way with the same event-log digest. The swarm runs on Dask exactly as on local processes.
The swarms here are narrowed to the switch's fault kind: they test replay and shrinking, not the general swarm's
power to find realistic bugs (that is ``test_sabotage.py``).
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from chaos.report import replay_command
from chaos.runner import SessionResult, run_spec, run_swarm
from chaos.sabotage import SABOTAGES
from chaos.shrink import shrink
from chaos.spec import SessionSpec

pytestmark = pytest.mark.chaos

# sabotage -> (fault kinds the swarm draws from, simulated minutes, seeds): a few seeds of which at least one fails
GATES: dict[str, tuple[tuple[str, ...], float, tuple[int, ...]]] = {
    "reconcile": (("user_stream", "partial_fill"), 3.0, (0, 1, 2)),
    "query_before_retry": (("timeout_after_processing",), 3.0, (0, 1, 2)),
    "retry_after": (("rate_limit",), 3.0, (0, 1, 2)),
    "sequence_gap": (("feed_gap",), 3.0, (0, 1, 2)),
    "hard_guard_cancel": (("market_shock",), 3.0, (0, 1, 2)),
}
REPLAY_TIMEOUT_S = 120


def replay_in_fresh_process(command: str, tmp_path: Path) -> tuple[int, dict[str, object]]:
    """Run a printed ``mmbot chaos replay ...`` command as a new Python process; its exit code and JSON result."""
    argv = shlex.split(command)
    assert argv[:3] == ["mmbot", "chaos", "replay"], command
    out = tmp_path / "replay.json"
    done = subprocess.run([sys.executable, "-m", "mmbot.cli", *argv[1:], "--json", str(out)], capture_output=True,
                          text=True, timeout=REPLAY_TIMEOUT_S, check=False)
    assert out.exists(), done.stdout + done.stderr
    return done.returncode, json.loads(out.read_text())


def first_failure(sabotage: str) -> SessionResult:
    kinds, minutes, seeds = GATES[sabotage]
    results = run_swarm([SessionSpec(seed=s, minutes=minutes, kinds=kinds, sabotage=sabotage) for s in seeds])
    failing = [r for r in results if not r.ok]
    assert failing, f"the gate missed sabotage {sabotage!r} on seeds {seeds} ({', '.join(kinds)})"
    return failing[0]


def test_every_sabotage_switch_has_a_gate() -> None:
    assert set(GATES) == set(SABOTAGES)


@pytest.mark.parametrize("sabotage", sorted(GATES))
def test_the_gate_catches_the_sabotage_and_its_replay_fails_the_same_way(sabotage: str, tmp_path: Path) -> None:
    failure = first_failure(sabotage)
    code, replayed = replay_in_fresh_process(replay_command(failure, None), tmp_path)
    assert code == 1
    assert replayed["digest"] == failure.digest
    assert replayed["invariants"] == list(failure.invariants)


def test_a_shrunk_failure_replays_from_its_scenario_file_with_the_same_digest(tmp_path: Path) -> None:
    shrunk = shrink(first_failure("query_before_retry"), max_runs=4)
    assert not shrunk.ok
    scenario = tmp_path / f"seed-{shrunk.spec.seed}.yaml"
    scenario.write_text(shrunk.scenario_yaml)
    command = replay_command(shrunk, scenario)
    assert "--scenario" in command
    code, replayed = replay_in_fresh_process(command, tmp_path)
    assert code == 1
    assert replayed["digest"] == shrunk.digest


def test_a_passing_session_replays_in_a_fresh_process_with_the_same_digest(tmp_path: Path) -> None:
    result = run_spec(SessionSpec(seed=8, minutes=2.0))  # crash, pause and an operator stop among its faults
    assert result.ok, result.violations
    code, replayed = replay_in_fresh_process(replay_command(result, None), tmp_path)
    assert code == 0
    assert replayed["digest"] == result.digest


def _essence(results: list[SessionResult]) -> list[tuple[object, ...]]:
    return [(r.spec.seed, r.digest, r.invariants, tuple(sorted(r.reactions.items()))) for r in results]


def test_a_dask_cluster_gives_the_same_results_as_local_processes() -> None:
    distributed = pytest.importorskip("distributed")
    specs = [SessionSpec(seed=s, minutes=1.0) for s in (3, 4, 5)]
    local = run_swarm(specs, jobs=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) \
            as cluster, distributed.Client(cluster) as client:
        on_dask = run_swarm(specs, scheduler=client)
    assert _essence(on_dask) == _essence(local)
