"""The ``mmbot`` command: the composition root that wires the bot, the harness, chaos and reports into one CLI.

``mmbot.cli`` is the console script (``mmbot = "mmbot.cli:main"``) with the simulation, market and report commands
and the bot's own ``run``, ``config`` and ``guards`` commands (``bot.live_cli``, ``bot.config_cli``,
``bot.guards_cli``); ``mmbot.tools_cli`` registers the offline tools of ``harness.tools``. Nothing imports this
package (ADR 0017): it sits above every other top-level package.
"""
