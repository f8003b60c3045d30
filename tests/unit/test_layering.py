"""Dependencies point one way: schema ← sync ← server, and schema ← clients."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {
    "schema": {"schema"},
    "sync": {"schema", "sync"},
    "server": {"schema", "sync", "server"},
    "clients": {"schema", "clients"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(ALLOWED)


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    bad = {
        str(p.relative_to(ROOT)): sorted(_imports(p) - ALLOWED[package])
        for p in (ROOT / package).rglob("*.py")
        if _imports(p) - ALLOWED[package]
    }
    assert not bad, f"imports against the layout: {bad}"
