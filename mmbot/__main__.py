"""``python -m mmbot``: the ``mmbot`` command without the installed console script."""

from mmbot.cli import main

main()
