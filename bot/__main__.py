"""``python -m bot`` is the ``citybridge`` command."""

from bot.cli import main

main()
