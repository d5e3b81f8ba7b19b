"""``python -m eventhub``: the same as the ``eventhub`` command."""

from eventhub.cli import main

main()
