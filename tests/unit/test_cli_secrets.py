"""A crash of ``mmbot run`` never prints the API secret: tracebacks are shown without local variables.

typer 0.12-0.22 showed locals by default (``secrets = [key, secret]`` in a frame of the crash). The test runs
the CLI in a fresh process with typer's default forced back to "show locals", so it holds whatever typer is
installed: only an explicit ``pretty_exceptions_show_locals=False`` on the app keeps the secret out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-never-printed-0123456789"

_SCRIPT = """
import functools, sys
import typer
_init = typer.Typer.__init__
@functools.wraps(_init)
def _old_default(self, *args, **kwargs):  # typer 0.12-0.22: locals shown unless the app says otherwise
    kwargs.setdefault("pretty_exceptions_show_locals", True)
    _init(self, *args, **kwargs)
typer.Typer.__init__ = _old_default
import bot.live_cli
async def _crash(config, connector, *, secrets, **kwargs):
    raise RuntimeError("simulated crash inside run_realtime")
bot.live_cli.run_realtime = _crash
from mmbot.cli import app
sys.argv = ["mmbot", "run", "--venue", "local", "--port", "1", "--minutes", "0.1"]
app()
"""


def test_a_crash_of_mmbot_run_prints_no_secret() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MMBOT_API_KEY": "key-abc", "MMBOT_API_SECRET": SECRET,
           "COLUMNS": "200", "TERM": "dumb"}
    env.pop("_TYPER_STANDARD_TRACEBACK", None)
    env.pop("TYPER_STANDARD_TRACEBACK", None)
    done = subprocess.run([sys.executable, "-c", _SCRIPT], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "simulated crash inside run_realtime" in output  # it did crash, with a traceback
    assert SECRET not in output
