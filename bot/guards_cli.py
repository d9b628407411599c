"""``mmbot guards``: show or reset a HARD guard latched in a live bot's state file.

With ``risk.hard_latches`` (the default) a LATCHING stop that is a risk event (the kill switch pulled by a crashed
task, a hard inventory breach, the drawdown stop-loss) is written to the order-state file as
``"<latch kind>: <reasons>"``; the next ``mmbot run`` on that file refuses to start, naming it, until an operator
resets it (an operator's Ctrl-C / SIGTERM and the recoverable guards are never written: ADR 0011). This is that
reset: it needs the bot to be stopped (it writes the same SQLite file) and an explicit ``--reset``; without it the
command only reports. Exit codes: 0 done, 1 latched (report only), 2 refused (no such file, or not a state file).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.app import HARD_LATCH_KEY
from bot.config import load_config
from bot.core.errors import BotError
from bot.execution.state import StateStore

__all__ = ["guards", "register"]


def guards(
    state: Annotated[Path | None, typer.Option(help="order state file (default: the config's execution.state_path)")
                     ] = None,
    config: Annotated[Path | None, typer.Option(help="bot config.yaml (default: the bundled one)")] = None,
    reset: Annotated[bool, typer.Option("--reset", help="clear the latched HARD guard (the bot must be stopped)")
                     ] = False,
) -> None:
    """Show whether a HARD guard is latched in the state file; --reset clears it so the next run may quote."""
    if state is None:
        try:
            state = Path(load_config(config).execution.state_path)
        except BotError as error:
            raise _refuse(f"config error: {error.message}") from None
    if not state.is_file():
        raise _refuse(f"no state file at {state} (nothing latched: a bot that never ran there starts clean)")
    try:
        store = StateStore(state)
    except BotError as error:  # the store refuses what is not its own file and leaves it untouched
        raise _refuse(f"{state} is not an mmbot state file: {error.message}") from None
    try:
        latched = store.get_meta(HARD_LATCH_KEY) or ""
        if not latched:
            typer.echo(f"{state}: no HARD guard latched")
            return
        if not reset:
            typer.echo(f"{state}: HARD latched ({latched}); the next run refuses to start. "
                       f"Stop the bot, then run again with --reset to clear it.")
            raise typer.Exit(1)
        store.set_meta(HARD_LATCH_KEY, "")
        typer.echo(f"{state}: HARD latch ({latched}) cleared; the next run starts with its guards OK")
    finally:
        store.close()


def _refuse(message: str) -> typer.Exit:
    typer.echo(f"refused: {message}", err=True)
    return typer.Exit(2)


def register(app: typer.Typer) -> None:
    """Add ``mmbot guards`` to the CLI."""
    app.command("guards")(guards)
