"""What every ``mmbot`` command shares at the user's edge: one-line errors, progress with an ETA, Ctrl-C.

* ``fail(message)``: prints ``error: <message>`` (one line, naming the file, field or port) on stderr and returns
  the ``typer.Exit(2)`` to raise: a user error never shows a traceback.
* ``progress(console, label, total, unit)``: a context manager yielding ``update(done)``. On a terminal it is a
  rich bar with elapsed time and ETA; otherwise (a CI log, a pipe) it prints one plain line per tenth of the work,
  e.g. ``simulating  30% (1.20 of 4.00 h), 12 s elapsed, ETA 28 s``, so a log shows that a long command lives.
  The ETA is ``elapsed * (total - done) / done`` on the wall clock: the CLI's own time, never the simulation's.
* ``session_counter(console, label)``: a ``progress(done, total)`` callback for a matrix of sessions (regress,
  calibrate): the same plain lines, one per tenth of each batch, on a terminal too (sessions finish seconds apart).
* ``Interrupt``: while active, the first Ctrl-C (SIGINT) only sets ``requested`` (a command polls it and winds
  down, keeping what it did); a second one raises ``KeyboardInterrupt`` as usual. ``INTERRUPTED_EXIT`` (130) is
  the shell's code for a command stopped by SIGINT.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

__all__ = ["INTERRUPTED_EXIT", "Interrupt", "fail", "plain_line", "progress", "session_counter"]

INTERRUPTED_EXIT = 130
_STEPS = 10  # plain progress lines per command (one per tenth)


def fail(message: str) -> typer.Exit:
    """Print ``error: message`` on stderr; return the exit (status 2) for the caller to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def plain_line(label: str, done: float, total: float, unit: str, elapsed_s: float) -> str:
    """One progress line: percentage, amount done, elapsed wall time and ETA (module docstring)."""
    fraction = min(1.0, done / total) if total > 0 else 1.0
    eta = _duration(elapsed_s * (total - done) / done) if done > 0 else "unknown"
    amount = f"{done:.2f} of {total:.2f} {unit}" if unit == "h" else f"{done:g} of {total:g} {unit}"
    return f"{label} {fraction:4.0%} ({amount}), {_duration(elapsed_s)} elapsed, ETA {eta}"


@contextlib.contextmanager
def progress(console: Console, label: str, total: float, unit: str,
             scale: float = 1.0) -> Iterator[Callable[[float], None]]:
    """Yield ``update(done)`` (``done`` in the caller's units; shown divided by ``scale`` in ``unit``)."""
    if console.is_terminal:
        with Progress(TextColumn(f"[bold]{label}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                      TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=console,
                      transient=True) as bar:
            task = bar.add_task(label, total=total)
            yield lambda done: bar.update(task, completed=done)
        return
    start = time.monotonic()
    printed = [0]

    def update(done: float) -> None:
        step = int(_STEPS * min(1.0, done / total)) if total > 0 else _STEPS
        if step > printed[0]:
            printed[0] = step
            console.print(plain_line(label, done / scale, total / scale, unit, time.monotonic() - start),
                          highlight=False, soft_wrap=True)

    yield update


def session_counter(console: Console, label: str) -> Callable[[int, int], None]:
    """A ``(done, total)`` callback printing a plain progress line per tenth of each batch of sessions."""
    state = {"start": time.monotonic(), "step": 0}

    def update(done: int, total: int) -> None:
        if done == 1:  # a new batch (calibrate runs several)
            state["start"], state["step"] = time.monotonic(), 0
        step = int(_STEPS * done / total) if total else _STEPS
        if step > state["step"]:
            state["step"] = step
            console.print(plain_line(label, done, total, "sessions", time.monotonic() - state["start"]),
                          highlight=False, soft_wrap=True)

    return update


class Interrupt:
    """A context manager that turns the first SIGINT into a request to stop (module docstring)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: signal.Handlers | Callable[[int, FrameType | None], object] | int | None = None

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        os.write(2, b"interrupt: stopping the orderly way, keeping what ran (Ctrl-C again to abort)\n")

    def __enter__(self) -> Interrupt:
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
