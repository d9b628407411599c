"""What the one connector costs: chaos sessions and a plain session, before and after a change, interleaved.

One job: measure the CPU seconds of the same work on two trees of this repository in one run (issue 17, part 4).
The ``before`` tree is a git revision checked out in a temporary worktree; the ``after`` tree is this checkout,
or another revision (``after``) to isolate one change from others merged with it.
Each round runs, in a fresh subprocess per tree and alternating the order (before/after, then after/before):

* ``seeds`` chaos sessions of ``minutes`` simulated minutes (``chaos.runner.run_spec``: drawn faults, the
  invariant checker included), and
* one fault-free session of ``hours`` simulated hours (``harness.session.run_sim_session``, the default config),

and reports, per tree, the median over rounds of the CPU seconds (``time.process_time`` inside the worker) and
of the wall seconds beside them, plus the ratio after/before. Both trees run the same seeds; only the code
differs. Figures go to docs/PERFORMANCE.md with the command.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

WORKER = """
import json, logging, sys, time
logging.disable(logging.CRITICAL)
seeds, minutes, hours = json.loads(sys.argv[1])
from chaos.runner import run_spec
from chaos.spec import SessionSpec
from bot.config import BotConfig
from harness.session import run_sim_session
out = {}
cpu0, wall0 = time.process_time(), time.perf_counter()
failed = 0
for seed in seeds:
    failed += not run_spec(SessionSpec(seed=seed, minutes=minutes)).ok
out["chaos_cpu_s"] = time.process_time() - cpu0
out["chaos_wall_s"] = time.perf_counter() - wall0
out["chaos_failed"] = failed
cpu0, wall0 = time.process_time(), time.perf_counter()
summary = run_sim_session(BotConfig(), seed=7, hours=hours)
out["session_cpu_s"] = time.process_time() - cpu0
out["session_wall_s"] = time.perf_counter() - wall0
out["session_fills"] = summary.maker_fills + summary.taker_fills
print(json.dumps(out))
"""


def _run_tree(tree: Path, seeds: list[int], minutes: float, hours: float) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, "-c", WORKER, json.dumps([seeds, minutes, hours])], cwd=tree, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"worker in {tree} failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _median(rows: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in rows)


def bench_connector_cost(before: str, *, after: str | None = None, seeds: int = 10, minutes: float = 10.0,
                         hours: float = 1.0, rounds: int = 2, repo: Path | None = None) -> dict[str, Any]:
    """Run the interleaved comparison (module docstring); returns per-tree medians and the after/before ratios.
    ``after``: a revision for the 'after' tree too (default: this checkout)."""
    root = repo if repo is not None else Path(__file__).resolve().parents[1]
    seed_list = list(range(seeds))
    with tempfile.TemporaryDirectory(prefix="mmbot-before-") as scratch:
        trees = {"before": Path(scratch) / "before", "after": Path(scratch) / "after" if after else root}
        for name, rev in (("before", before), ("after", after)):
            if rev is not None:
                subprocess.run(["git", "-C", str(root), "worktree", "add", "--detach", "-q", str(trees[name]), rev],
                               check=True)
        try:
            rows: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
            for round_ in range(rounds):
                order = [("before", trees["before"]), ("after", trees["after"])]
                for name, tree in order if round_ % 2 == 0 else order[::-1]:
                    rows[name].append(_run_tree(tree, seed_list, minutes, hours))
        finally:
            for name in ("before", "after"):
                if trees[name] != root:
                    subprocess.run(["git", "-C", str(root), "worktree", "remove", "--force", str(trees[name])],
                                   check=False)
    keys = ("chaos_cpu_s", "chaos_wall_s", "session_cpu_s", "session_wall_s")
    out: dict[str, Any] = {"before_rev": before, "after_rev": after or "HEAD", "seeds": seeds, "minutes": minutes,
                           "hours": hours, "rounds": rounds}
    for name, tree_rows in rows.items():
        out[name] = {key: round(_median(tree_rows, key), 3) for key in keys}
        out[name]["chaos_failed"] = [r["chaos_failed"] for r in tree_rows]
        out[name]["session_fills"] = [r["session_fills"] for r in tree_rows]
    out["ratio_after_over_before"] = {key: round(out["after"][key] / out["before"][key], 3) for key in keys}
    out["chaos_cpu_s_per_session"] = {name: round(out[name]["chaos_cpu_s"] / seeds, 3) for name in rows}
    return out
