"""Child entry point: ``python -m bench.side_by_side <ours|nautilus> '<WorkloadConfig JSON>'``.

Runs one side in this fresh process (so its peak RSS is its own) and prints its ``SideResult`` as the last
line of stdout. Exits 2 on a bad side name; any error in the run propagates (non-zero exit, traceback).
"""

from __future__ import annotations

import sys

from bench.side_by_side.workload import WorkloadConfig


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("ours", "nautilus"):
        print("usage: python -m bench.side_by_side <ours|nautilus> '<WorkloadConfig JSON>'", file=sys.stderr)
        return 2
    config = WorkloadConfig.model_validate_json(argv[1])
    if argv[0] == "ours":
        from bench.side_by_side.ours import run_ours  # noqa: PLC0415 - the Nautilus child never imports ours

        result = run_ours(config)
    else:
        from bench.side_by_side.nautilus_side import run_nautilus  # noqa: PLC0415 - needs the optional extra

        result = run_nautilus(config)
    print(result.to_json(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
