"""Sync conflicts (同步冲突): HQ events a store refused after merge, kept for review.

- ``rules``: which HQ events the store's own history makes illegal, and why;
- ``commands``: apply one HQ event on the node (folded, or refused and recorded), resolve;
- ``projectors``: ``sync.conflict_*`` events → ``sync_conflicts`` (on the node and on central);
- ``reads``: one conflict, the list query, the answer's shape.

The names below are the package's public face, imported from their module on first use
(``server.domain.facade``), so that loading the projectors imports no command or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.domain.conflicts.commands import apply_hq_event as apply_hq_event
    from server.domain.conflicts.commands import resolve as resolve
    from server.domain.conflicts.reads import conflict_fields as conflict_fields
    from server.domain.conflicts.reads import conflict_out as conflict_out
    from server.domain.conflicts.reads import get_conflict as get_conflict
    from server.domain.conflicts.reads import list_conflicts as list_conflicts
    from server.domain.conflicts.rules import collision as collision
else:
    from server.domain.facade import lazy_names

    __getattr__, __dir__ = lazy_names(
        __name__,
        commands=("apply_hq_event", "resolve"),
        reads=("conflict_fields", "conflict_out", "get_conflict", "list_conflicts"),
        rules=("collision",),
    )
