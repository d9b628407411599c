"""``mmbot chaos`` prints and writes what the swarm covered and which code ran it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from chaos.cli import chaos_app
from chaos.fingerprint import SHORT, code_fingerprint


def test_the_swarm_prints_drawn_hit_broke_the_quoting_median_and_the_fingerprint(tmp_path: Path) -> None:
    out = tmp_path / "chaos.json"
    done = CliRunner().invoke(chaos_app, ["--seeds", "2", "--minutes", "0.5", "--faults", "partition,reject",
                                          "--jobs", "1", "--recheck-every", "2",
                                          "--json", str(out), "--corpus", str(tmp_path / "corpus")],
)
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())  # the console wraps long lines
    assert f"1 re-run for determinism, code {code_fingerprint()[:SHORT]}" in text
    assert "drawn" in text and "hit" in text and "broke" in text
    assert "quoting: median session" in text
    payload = json.loads(out.read_text())
    assert payload["fingerprint"] == code_fingerprint()
    assert 0.0 <= payload["coverage"]["median_quoting_fraction"] <= 1.0
    assert all(r["coverage"]["session_s"] == 30.0 and r["fingerprint"] == code_fingerprint()
               for r in payload["results"])
