"""SQLAlchemy tables of every domain, on one MetaData with a naming convention."""

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
