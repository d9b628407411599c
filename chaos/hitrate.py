"""Measure fault hit rates: per fault kind, the sessions that drew it and those where it hit the bot's traffic.

A fault *hits* the bot when the session's event log holds a ``fault_hit`` record of that kind on the bot's account
(``a`` = the bot's account; feed-level hits without an account count too: only bots subscribe to the venue's
feeds). Drawing a fault that never touches the bot's requests, orders or reports tests nothing.

    python -m chaos.hitrate --seeds 100 --minutes 5 --jobs 2         # the general swarm
    python -m chaos.hitrate --seeds 40 --minutes 5 --faults reject    # one kind

``measure(spec)`` runs one session (as ``chaos.runner.run_spec`` does, with its event log kept) and returns, per
kind drawn, whether it hit and whether the bot was *busy* (sent an order or a cancel) while one of its faults was
in force; ``table`` folds many sessions into rows: drew / hit, and busy / hit among those (a bot that stopped
trading - a latched HARD guard - gives an order-level fault nothing to hit). Order-level kinds (``ORDER_LEVEL``) are the
ones issue 16 asks to hit in at least half the sessions that draw them.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from bot.session import run_sim_session
from chaos.runner import map_ordered
from chaos.spec import SessionSpec, chaos_config, parse_kinds
from exchange_sim.faults import FaultKind

ORDER_LEVEL = frozenset({
    FaultKind.TIMEOUT_AFTER_PROCESSING, FaultKind.REJECT, FaultKind.PARTIAL_FILL, FaultKind.CANCEL_FILL_RACE,
    FaultKind.USER_STREAM, FaultKind.RESET_PEER, FaultKind.RATE_LIMIT, FaultKind.OUTAGE, FaultKind.STP,
    FaultKind.PARTITION, FaultKind.CLOCK_SKEW,
} | {k for k in FaultKind if k.value in ("cancel_replace_half", "report_redelivered", "truncated_frame",
                                          "slow_close", "server_disconnect")})


def hits_in_log(lines: Iterable[str], account: str) -> dict[str, tuple[bool, bool]]:
    """Per kind started in an event log's JSON lines: (it hit ``account``, the bot sent an order or a cancel
    while one of its faults was in force - between its start and its end record)."""
    windows: dict[int, list[float]] = {}
    kinds: dict[int, str] = {}
    hit: set[str] = set()
    actions: list[float] = []
    for line in lines:
        if '"fault' not in line and '"request"' not in line:
            continue
        record = json.loads(line)
        kind = record.get("k")
        if kind == "request":
            if record.get("a") == account and record.get("op") in ("place", "cancel", "cancelAll", "cancelReplace"):
                actions.append(record["t"])
        elif kind == "fault" and record.get("ph") in ("start", "end"):
            kinds[record["id"]] = str(record["f"])
            windows.setdefault(record["id"], []).append(record["t"])
        elif kind == "fault_hit" and record.get("a", account) == account:
            hit.add(str(record["f"]))
    out: dict[str, tuple[bool, bool]] = {}
    for index, kind in kinds.items():
        start, end = windows[index][0], windows[index][-1]
        busy = any(start <= t <= end for t in actions)
        was_hit, was_busy = out.get(kind, (False, False))
        out[kind] = (kind in hit or was_hit, busy or was_busy)
    return out


def measure(spec: SessionSpec) -> dict[str, tuple[bool, bool]]:
    """Run ``spec``'s session; per kind whose fault started: (hit the bot, the bot traded during its window)."""
    config = chaos_config()
    logging.getLogger("bot").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="mmbot-hitrate-") as tmp:
        path = Path(tmp) / "events.jsonl"
        run_sim_session(config, seed=spec.seed, hours=spec.minutes / 60.0, scenario=spec.scenario(), check=False,
                        timer=None, log_path=path, sample_metrics=False)
        with path.open(encoding="utf-8") as log:
            return hits_in_log(log, config.venue.account)


def table(results: Sequence[dict[str, tuple[bool, bool]]]) -> list[tuple[str, int, int, int, int]]:
    """Rows (kind, sessions that drew it, of them hit, sessions where the bot traded in a window of it, of them
    hit), by kind name."""
    rows: dict[str, list[int]] = {}
    for result in results:
        for kind, (was_hit, busy) in result.items():
            row = rows.setdefault(kind, [0, 0, 0, 0])
            row[0] += 1
            row[1] += was_hit
            row[2] += busy
            row[3] += was_hit and busy
    return [(kind, rows[kind][0], rows[kind][1], rows[kind][2], rows[kind][3]) for kind in sorted(rows)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos.hitrate", description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--faults", default="", help="kinds to draw (default: all)")
    args = parser.parse_args(argv)
    kinds = tuple(k.value for k in parse_kinds(args.faults))
    specs = [SessionSpec(seed=s, minutes=args.minutes, kinds=kinds)
             for s in range(args.first_seed, args.first_seed + args.seeds)]
    rows = table(map_ordered(measure, specs, jobs=args.jobs))
    print(f"{'kind':<26} {'drew':>5} {'hit':>5} {'rate':>6} {'busy':>6} {'hit':>5} {'rate':>6}  order-level")
    for kind, drew, hits, busy, busy_hits in rows:
        order = "yes" if kind in {k.value for k in ORDER_LEVEL} else ""
        rate = f"{busy_hits / busy:>6.0%}" if busy else f"{'-':>6}"
        print(f"{kind:<26} {drew:>5} {hits:>5} {hits / drew:>6.0%} {busy:>6} {busy_hits:>5} {rate}  {order}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
