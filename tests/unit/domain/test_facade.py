"""Each domain package's public face: the names its ``__init__`` promises the type checker are
exactly the names it gives at run time, each the object its module defines."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

DOMAINS = ("store", "queue", "inventory", "shifts", "complaints", "ops", "conflicts")


def _promised(package: str) -> dict[str, tuple[str, str]]:
    """The names imported under ``if TYPE_CHECKING:`` in the package's ``__init__``: public
    name → (module, name there)."""
    module = importlib.import_module(package)
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    promised: dict[str, tuple[str, str]] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom) and imp.module is not None
                for alias in imp.names:
                    promised[alias.asname or alias.name] = (imp.module, alias.name)
    return promised


@pytest.mark.parametrize("domain", DOMAINS)
def test_a_domain_package_gives_what_it_promises(domain: str) -> None:
    package = importlib.import_module(f"server.domain.{domain}")
    promised = _promised(package.__name__)
    assert promised, "no names under TYPE_CHECKING"
    assert sorted(promised) == package.__all__
    for name, (module, original) in promised.items():
        assert getattr(package, name) is getattr(importlib.import_module(module), original)


def test_an_unknown_name_is_an_attribute_error() -> None:
    package = importlib.import_module("server.domain.queue")
    with pytest.raises(AttributeError, match="no attribute 'issue_tickets'"):
        _ = package.issue_tickets
