"""Ctrl-C is an operator's stop, not a risk event: after SIGINT on ``mmbot run --state FILE`` the file holds no
latch and the next ``mmbot run`` on it quotes again (it used to place 0 orders, print nothing and exit 0).

Real processes on loopback (``mmbot exchange serve``, two ``mmbot run --venue local`` one after the other); every
wait is bounded and every process is killed at the end.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.app import HARD_LATCH_KEY
from bot.execution.state import StateStore
from tests.e2e.test_realtime_signal import START_BOUND_S, free_port, wait_until_quoting, wait_until_serving

pytestmark = pytest.mark.e2e
MMBOT = [sys.executable, "-c", "from mmbot.cli import main; main()"]


def run_then_interrupt(port: int, state: Path) -> dict[str, object]:
    metrics_port = free_port()
    bot = subprocess.Popen([*MMBOT, "run", "--venue", "local", "--port", str(port), "--minutes", "30",
                            "--metrics-port", str(metrics_port), "--state", str(state)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_quoting(metrics_port, bot, time.monotonic() + START_BOUND_S)  # connect, reconcile, sync, quote
        assert bot.poll() is None, bot.communicate()[1][-2000:]
        bot.send_signal(signal.SIGINT)
        out, err = bot.communicate(timeout=START_BOUND_S)
        assert bot.returncode == 0, err[-2000:]
        summary: dict[str, object] = json.loads(out[out.index("{"):])
        return summary
    finally:
        if bot.poll() is None:
            bot.kill()
            bot.wait(timeout=10)


def test_the_run_after_a_ctrl_c_quotes_again(tmp_path: Path) -> None:
    port = free_port()
    state = tmp_path / "state.sqlite3"
    server = subprocess.Popen([*MMBOT, "exchange", "serve", "--port", str(port), "--seed", "3"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(port, time.monotonic() + START_BOUND_S)
        first = run_then_interrupt(port, state)
        assert first["reason"] == "SIGINT" and first["stop_verified"] is True
        store = StateStore(state)
        try:
            assert not store.get_meta(HARD_LATCH_KEY)
        finally:
            store.close()
        second = run_then_interrupt(port, state)
        orders = second["orders"]
        assert isinstance(orders, dict) and orders["placed"] > 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
