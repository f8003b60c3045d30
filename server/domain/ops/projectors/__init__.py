"""The projectors of daily operations, one module per record kind; importing this package (as
the registry, ``server.domain.projection``, does) registers them all."""

from __future__ import annotations

from server.domain.ops.projectors import checklist, faults, safety, training

__all__ = ["checklist", "faults", "safety", "training"]
