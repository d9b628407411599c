"""Operational truth: results name the code that produced them, and a worker on another tree refuses to run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chaos.fingerprint import (
    Checked,
    FingerprintMismatch,
    code_fingerprint,
    fingerprint_of,
    source_files,
    verify_fingerprint,
)
from chaos.report import corpus_text
from chaos.runner import SessionResult, map_ordered, run_spec
from chaos.spec import SessionSpec
from exchange_sim.faults import scenario_from_data

OTHER_TREE = "0" * 64


def double(x: int) -> int:
    return 2 * x


def test_the_fingerprint_covers_the_sources_and_package_data_of_every_package() -> None:
    names = [name for name, _path in source_files()]
    assert names == sorted(names)
    assert {"harness/session.py", "exchange_sim/engine/__init__.py", "chaos/runner.py"} <= set(names)
    assert any(n.endswith(".yaml") for n in names)
    assert not any("__pycache__" in n for n in names)


def test_changing_one_byte_of_one_file_changes_the_fingerprint(tmp_path: Path) -> None:
    a, b = tmp_path / "a.py", tmp_path / "b.py"
    a.write_text("x = 1\n")
    b.write_text("y = 2\n")
    files = [("pkg/a.py", a), ("pkg/b.py", b)]
    before = fingerprint_of(files)
    b.write_text("y = 3\n")
    assert fingerprint_of(files) != before
    b.write_text("y = 2\n")
    assert fingerprint_of(files) == before
    assert fingerprint_of([("pkg/c.py", a), ("pkg/b.py", b)]) != before  # a file's path counts too


def test_a_worker_on_another_tree_refuses_with_both_fingerprints_named() -> None:
    assert verify_fingerprint(code_fingerprint()) == code_fingerprint()
    with pytest.raises(FingerprintMismatch, match=f"this worker runs {code_fingerprint()[:12]}.*started on 000000"):
        verify_fingerprint(OTHER_TREE)
    with pytest.raises(FingerprintMismatch):
        Checked(double, OTHER_TREE)(1)
    assert Checked(double, code_fingerprint())(2) == 4


def test_local_worker_processes_refuse_a_swarm_started_on_another_tree() -> None:
    assert map_ordered(double, [1, 2, 3], jobs=2) == [2, 4, 6]
    with pytest.raises(FingerprintMismatch):
        map_ordered(double, [1, 2], jobs=2, fingerprint=OTHER_TREE)


def test_dask_workers_on_another_tree_refuse_to_run() -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) \
            as cluster, distributed.Client(cluster) as client:
        assert map_ordered(double, [1, 2], scheduler=client) == [2, 4]
        with pytest.raises(FingerprintMismatch, match="install the same tree on every worker"):
            map_ordered(double, [1, 2], scheduler=client, fingerprint=OTHER_TREE)


def test_a_session_result_records_the_code_that_ran_it() -> None:
    assert run_spec(SessionSpec(seed=1, minutes=0.5)).fingerprint == code_fingerprint()


def test_a_corpus_file_names_the_code_it_failed_on_and_still_reads_as_a_scenario() -> None:
    scenario_yaml = "faults:\n- fault: crash\n  target: bot\n  start: 12.0\n  duration: 0.0\n"
    failing = SessionResult(spec=SessionSpec(seed=9, minutes=5.0), schedule=(), scenario_yaml=scenario_yaml,
                            violations=({"invariant": "10.liveness", "t_s": 1.0, "orders": [], "detail": "x"},),
                            digest="d")
    text = corpus_text(failing, code_fingerprint())
    assert f"code fingerprint {code_fingerprint()}" in text
    assert len(scenario_from_data(yaml.safe_load(text)).faults) == 1
