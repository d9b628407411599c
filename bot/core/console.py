"""The rich ``Console`` every command prints through: full-width tables in a CI log, not cut at 80 columns.

On a terminal rich follows the terminal's width. When the output is a file or a pipe (a CI log), rich falls back
to 80 columns and cuts table cells (``fa…``, ``se…``); commands then print ``LOG_WIDTH`` columns instead, so a
log reads the same as a wide terminal. ``COLUMNS`` in the environment still wins, as rich documents.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console

__all__ = ["LOG_WIDTH", "cli_console"]

LOG_WIDTH = 200  # columns when the output is not a terminal


def cli_console(*, stderr: bool = False) -> Console:
    """A ``Console`` on stdout (or stderr) as the module docstring says."""
    stream = sys.stderr if stderr else sys.stdout
    wide = not stream.isatty() and "COLUMNS" not in os.environ
    return Console(stderr=stderr, width=LOG_WIDTH if wide else None)
