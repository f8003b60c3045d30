"""SQLAlchemy tables of every domain, on one MetaData with a naming convention; which of them
each app's database holds is in ``schema.tables.databases``."""

from schema.tables import complaints, conflicts, core, inventory, ops, queue, shifts, sync
from schema.tables.base import metadata

__all__ = [
    "complaints",
    "conflicts",
    "core",
    "inventory",
    "metadata",
    "ops",
    "queue",
    "shifts",
    "sync",
]
