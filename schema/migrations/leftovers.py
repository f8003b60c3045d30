"""The other app's tables in a database of a release up to 0005, which held every table.

The first revision of each app's branch drops them. A store node never wrote central's tables
nor central the node's, so they are empty; should one hold rows all the same (a database put to
some use we do not know of), it is kept, with a warning naming it: a schema migration is no
place to destroy data nobody has looked at. The app ignores a table it does not know, and the
operator can drop it once checked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

log = logging.getLogger("schema.migrations")


def exists(name: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(name)


def drop_if_empty(names: Sequence[str], *, app: str) -> None:
    """Drop each of the tables ``names`` that is there and empty; keep one that holds rows."""
    bind = op.get_bind()
    for name in names:
        if not exists(name):
            continue
        rows = bind.execute(sa.select(sa.func.count()).select_from(sa.table(name))).scalar_one()
        if rows:
            log.warning(
                "table %s holds %d rows though a %s database has no use for it; kept: "
                "drop it by hand once its rows are checked",
                name,
                rows,
                app,
            )
            continue
        op.drop_table(name)
