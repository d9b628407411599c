"""Ctrl-C on a real-time bot: SIGINT triggers the kill switch, which cancels everything and verifies on the venue.

Two real processes on loopback: ``mmbot exchange serve`` and ``mmbot run --venue local``; the bot is interrupted
once it has quoted for a few seconds. Bounded: every wait has a timeout, and both processes are killed at the end.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Bounds on waiting, not on speed (no wall-clock assertion: a slow start only makes the test take longer). At load
# 20 on 2 cores a Python subprocess took over 30 s just to import and serve (the session-9 CI run under load).
START_BOUND_S = 300.0


def wait_until_serving(port: int, deadline_s: float) -> None:
    while time.monotonic() < deadline_s:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v3/ping", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the exchange server did not start in time")


def wait_until_quoting(metrics_port: int, bot: subprocess.Popen[str], deadline_s: float) -> None:
    """Until the bot's metrics count a placed order (not a fixed sleep: a loaded machine starts it slower)."""
    while time.monotonic() < deadline_s and bot.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=1) as answer:
                text = answer.read().decode()
            if any(line.startswith("mmbot_orders_placed_total{") and float(line.rsplit(" ", 1)[1]) > 0
                   for line in text.splitlines()):
                return
        except OSError:
            pass
        time.sleep(0.5)


def test_sigint_triggers_the_kill_switch_and_verifies_nothing_is_open() -> None:
    port, metrics_port = free_port(), free_port()
    mmbot = [sys.executable, "-c", "from mmbot.cli import main; main()"]
    server = subprocess.Popen([*mmbot, "exchange", "serve", "--port", str(port), "--seed", "3"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bot: subprocess.Popen[str] | None = None
    try:
        wait_until_serving(port, time.monotonic() + START_BOUND_S)
        bot = subprocess.Popen([*mmbot, "run", "--venue", "local", "--port", str(port), "--minutes", "30",
                                "--metrics-port", str(metrics_port)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until_quoting(metrics_port, bot, time.monotonic() + START_BOUND_S)  # connect, sync the book, quote
        assert bot.poll() is None, bot.communicate()[1][-2000:]
        bot.send_signal(signal.SIGINT)
        out, err = bot.communicate(timeout=START_BOUND_S)
        assert bot.returncode == 0, err[-2000:]
        summary = json.loads(out[out.index("{"):])
        assert summary["reason"] == "SIGINT"
        assert summary["killed"] is True
        assert summary["stop_verified"] is True
        assert summary["orders"]["placed"] > 0  # it was quoting when interrupted
    finally:
        for process in (bot, server):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(timeout=10)
