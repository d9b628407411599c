"""The sabotage suite's worker: run general-swarm sessions for a list of seeds in this tree; write seed outcomes.

    python -m chaos.sabotage_worker --seeds 0,1,2 --minutes 5 --jobs 2 --json out.json

Run by ``chaos.sabotage_tree.run_swarm_in`` as a subprocess whose ``PYTHONPATH`` is a (mutated) copy of the code,
so everything it imports is that copy's. Each session is ``SessionSpec(seed, minutes)``: every fault kind, the
schedule drawn from the seed, exactly as ``mmbot chaos`` runs it. Output: ``{"results": [{"seed", "invariants",
"digest", "details"}, ...]}`` in seed-list order (``details``: the first violations, one line each). Exit status 0
whatever the sessions found (the verdict is the caller's).

Errors: ``SystemExit`` (argparse) for malformed arguments.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from chaos.runner import run_swarm
from chaos.spec import SessionSpec

MAX_DETAILS = 5  # violation lines kept per seed


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chaos.sabotage_worker")
    parser.add_argument("--seeds", required=True, help="comma-separated seeds")
    parser.add_argument("--minutes", type=float, required=True)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    results = run_swarm([SessionSpec(seed=s, minutes=args.minutes) for s in seeds], jobs=args.jobs)
    args.json.write_text(json.dumps({"results": [
        {"seed": r.spec.seed, "invariants": list(r.invariants), "digest": r.digest,
         "details": [f"{v['invariant']} at {v['t_s']:.3f}s: {v['detail']}" for v in r.violations[:MAX_DETAILS]]}
        for r in results]}) + "\n")


if __name__ == "__main__":
    main()
