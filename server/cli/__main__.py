"""``python -m server.cli``: the ``hallsync`` command line without installing its script."""

from server.cli import main

main()
