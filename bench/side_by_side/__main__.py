"""Child entry point: ``python -m bench.side_by_side <side> '<WorkloadConfig JSON>'``.

Runs one side (``SIDES``) in this fresh process (so its peak RSS is its own) and prints its
``SideResult`` as the last line of stdout. Exits 2 on a bad side name; any error in the run propagates
(non-zero exit, traceback). Each side's module is imported only here, so no child loads another engine.
"""

from __future__ import annotations

import sys

from bench.side_by_side.result import SideResult
from bench.side_by_side.workload import WorkloadConfig

SIDES = ("ours", "ours-full", "nautilus", "hftbacktest")


def run(side: str, config: WorkloadConfig) -> SideResult:
    """One side's run in this process (``ValueError`` for an unknown side)."""
    # each engine is imported lazily: the optional extras are only needed by their own side
    if side == "ours":
        from bench.side_by_side.ours import run_ours  # noqa: PLC0415

        return run_ours(config)
    if side == "ours-full":
        from bench.side_by_side.ours_full import run_ours_full  # noqa: PLC0415

        return run_ours_full(config)
    if side == "nautilus":
        from bench.side_by_side.nautilus_side import run_nautilus  # noqa: PLC0415

        return run_nautilus(config)
    if side == "hftbacktest":
        from bench.side_by_side.hft_side import run_hftbacktest  # noqa: PLC0415

        return run_hftbacktest(config)
    raise ValueError(f"unknown side {side!r}")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in SIDES:
        print(f"usage: python -m bench.side_by_side <{'|'.join(SIDES)}> '<WorkloadConfig JSON>'", file=sys.stderr)
        return 2
    print(run(argv[0], WorkloadConfig.model_validate_json(argv[1])).to_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
