"""The ``hallsync`` command line (``python -m server.cli`` or the ``hallsync`` script).

- ``store`` — a hall's store node: init, enroll, set-central, sync, serve;
- ``central`` — the central server: init, serve, enroll-store, revoke-store, and ``user`` for
  HQ users (``hq_users``);
- ``common`` — what they share: ``--data-dir``, the data directory's lock, error translation.

Every setting read from the environment comes through ``server.settings``.
"""

from __future__ import annotations

import click

from server.cli import central as central_commands
from server.cli import store as store_commands
from server.logs import start_logging

__all__ = ["main"]


@click.group()
@click.version_option(package_name="hallsync")
def main() -> None:
    """hallsync: offline-first operations for carrier retail halls.

    Every command logs to stderr, one line per record (HALLSYNC_LOG_LEVEL, HALLSYNC_LOG_FORMAT;
    the servers and `store sync` also take --log-level and --log-format).
    """
    start_logging()


main.add_command(store_commands.store)
main.add_command(central_commands.central)
