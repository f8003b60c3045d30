"""A domain package's public names, each imported from its module when first used.

Every domain package (``server.domain.queue``, ``…inventory``, …) names the commands, reads and
rules the REST layer and tests call, so callers write ``domain.issue_ticket`` without knowing
which module holds it. Those names must not be imported when the package is: importing
``server.domain.queue.projectors`` runs ``server/domain/queue/__init__.py`` first, and the
projector registry (``server.domain.projection``), which central folds with, loads only
projectors, never commands or reads. So a package's ``__init__`` imports its names for the type
checker only and resolves them at run time through the module ``__getattr__`` made here
(PEP 562); a test checks that the two lists agree.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any


def lazy_names(
    package: str, **homes: Iterable[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose public names live in its
    submodules: ``homes`` maps a submodule (``commands``, ``reads``, ``rules``) to the names it
    gives. A name is imported from its submodule on first use, then kept in the package.
    The package's ``__all__`` becomes the list of those names."""
    home_of = {name: module for module, names in homes.items() for name in names}
    namespace = importlib.import_module(package).__dict__
    namespace["__all__"] = sorted(home_of)

    def __getattr__(name: str) -> Any:
        module = home_of.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *home_of})

    return __getattr__, __dir__
