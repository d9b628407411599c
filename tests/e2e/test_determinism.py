"""Determinism (DESIGN section 4, item 12): the same seed gives the same event log, byte for byte, in any process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def _simulate_in_fresh_process(tmp_path: Path, seed: int, hash_seed: str) -> dict[str, object]:
    out = tmp_path / f"summary-{seed}-{hash_seed}.json"
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}  # different string-hash order in each process
    subprocess.run(
        [sys.executable, "-m", "bot.cli", "exchange", "simulate", "--seed", str(seed), "--hours", "1",
         "--symbols", "BTCUSDT,ETHUSDT", "--switching", "--json", str(out)],
        check=True, env=env, capture_output=True, timeout=300,
    )
    result: dict[str, object] = json.loads(out.read_text())
    return result


def test_same_seed_same_digest_in_two_processes(tmp_path: Path) -> None:
    first = _simulate_in_fresh_process(tmp_path, 7, "1")
    second = _simulate_in_fresh_process(tmp_path, 7, "2")
    assert first["digest"] == second["digest"]
    assert first["record_counts"] == second["record_counts"]
    assert isinstance(first["book_events"], int) and first["book_events"] > 3600 * 10


def test_another_seed_gives_another_digest(tmp_path: Path) -> None:
    assert _simulate_in_fresh_process(tmp_path, 7, "3")["digest"] != _simulate_in_fresh_process(tmp_path, 8, "3")[
        "digest"
    ]
