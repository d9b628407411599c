"""``python -m exchange_sim.server``: see ``exchange_sim.server.cli``."""

from exchange_sim.server.cli import main

main()
