"""Generate a migration revision by comparing the tables with a database at head.

python -m schema.migrations.revision "what changed"
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from alembic import command

from schema.migrations import config, upgrade


def main(message: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        engine = sa.create_engine(f"sqlite:///{Path(tmp) / 'head.sqlite3'}")
        upgrade(engine)
        with engine.begin() as conn:
            number = len(list((Path(__file__).parent / "versions").glob("*.py"))) + 1
            command.revision(
                config(conn), message=message, autogenerate=True, rev_id=f"{number:04d}"
            )
        engine.dispose()


if __name__ == "__main__":
    main(" ".join(sys.argv[1:]) or "schema change")
