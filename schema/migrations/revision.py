"""Generate a revision of one app's history by comparing its tables with a database at its head.

python -m schema.migrations.revision store|central "what changed"

A change to a shared table (``schema.tables.databases``) needs one revision in each history:
run it for both apps.
"""

from __future__ import annotations

import sys
import tempfile
from functools import partial
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import produce_migrations
from alembic.operations.ops import MigrationScript
from alembic.runtime.migration import MigrationContext

from schema.migrations import SHARED_HISTORY, config, head, history, upgrade
from schema.tables.databases import APPS, App, metadata_of


def main(app: App, message: str) -> None:
    # Numbers go on from the shared history's, separately in each app's.
    number = len(list(SHARED_HISTORY.glob("*.py"))) + len(list(history(app).glob("*.py"))) + 1
    with tempfile.TemporaryDirectory() as tmp:
        engine = sa.create_engine(f"sqlite:///{Path(tmp) / 'head.sqlite3'}")
        upgrade(engine, app)
        with engine.begin() as conn:
            command.revision(
                config(app, conn),
                message=message,
                head=head(app),
                version_path=str(history(app)),
                rev_id=f"{app}_{number:04d}",
                process_revision_directives=partial(_compare, metadata_of(app)),
            )
        engine.dispose()


def _compare(
    target: sa.MetaData, context: MigrationContext, _rev: object, scripts: list[MigrationScript]
) -> None:
    """Fill the new revision with what the database at the app's head lacks. (Alembic's own
    autogenerate wants the database at every head, which no one database of ours ever is.)"""
    found = produce_migrations(context, target)
    assert found.upgrade_ops is not None and found.downgrade_ops is not None
    scripts[0].upgrade_ops = found.upgrade_ops
    scripts[0].downgrade_ops = found.downgrade_ops


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in APPS:
        sys.exit(f"usage: python -m schema.migrations.revision {'|'.join(APPS)} MESSAGE")
    main(sys.argv[1], " ".join(sys.argv[2:]) or "schema change")
