"""The ``mmbot`` command's entry points: the console script in pyproject and ``python -m mmbot`` reach ``mmbot.cli``."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_console_script_names_the_cli_composition_root() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, attribute = scripts["mmbot"].partition(":")
    assert (module, attribute) == ("mmbot.cli", "main")
    assert callable(getattr(importlib.import_module(module), attribute))


def test_python_dash_m_mmbot_runs_the_command_with_every_subcommand() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "mmbot", "--help"], capture_output=True, text=True, cwd=REPO,
                          env=env, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    commands = {line.split()[1] for line in done.stdout.splitlines() if line.startswith("│ ") and len(line.split()) > 1}
    assert {"sim", "run", "config", "guards", "chaos", "exchange", "market", "report", "regress", "calibrate",
            "tools", "record"} <= commands
