"""The layout holds: dependencies point one way (schema ← sync ← server, schema ← clients), the
apps inside ``server`` stay apart, the sync core imports none of its adapters, and only the
settings read the environment."""

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

SYNC_ADAPTERS = {"sync.central_ws", "sync.store_ws", "sync.wakeup"}
"""The I/O glue around the sans-I/O core: the two websocket adapters, and the wake-up broadcast
central's adapter waits on (anyio)."""

FORBIDDEN = {
    "server.central": {"server.store"},
    "server.store": {"server.central"},
    "server.domain": {"server.store", "server.central"},
    "sync": {*SYNC_ADAPTERS, "websockets", "litestar", "anyio", "asyncio", "socket", "sqlalchemy"},
}
"""Who (a module and everything under it) may never import what (a module and everything under
it). The ``sync`` rule is for the core: the adapters are exempt (``SYNC_ADAPTERS``)."""

ENVIRONMENT_READERS = {"server.settings"}
"""The only modules of ``server`` and ``sync`` that read environment variables."""


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` (the text of ``module``) imports, as dotted names. ``from a
    import b`` counts as ``a`` and ``a.b`` (``b`` may be a submodule); relative imports are
    resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(module: str, imports: set[str]) -> list[str]:
    """The imports of ``module`` that break a rule of ``FORBIDDEN``, sorted."""
    bad: set[str] = set()
    for who, banned in FORBIDDEN.items():
        if not _under(module, who) or (who == "sync" and module in SYNC_ADAPTERS):
            continue
        bad.update(name for name in imports if any(_under(name, b) for b in banned))
    return sorted(bad)


def reads_environment(source: str) -> bool:
    """Whether ``source`` reads environment variables: ``os.environ``, ``os.getenv``, either
    imported from ``os``, or a click option's ``envvar=``."""
    names = ("environ", "getenv", "environb")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in names:
            return True
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in names for a in node.names)
        ):
            return True
        if isinstance(node, ast.keyword) and node.arg in ("envvar", "auto_envvar_prefix"):
            return True
    return False


def _sources(*packages: str) -> list[tuple[str, Path]]:
    return [
        (module_name(path, ROOT), path)
        for package in packages
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    bad = {}
    for module, path in _sources(package):
        source = path.read_text(encoding="utf-8")
        tops = {name.split(".")[0] for name in imported(source, module)} & set(ALLOWED)
        if tops - ALLOWED[package]:
            bad[str(path.relative_to(ROOT))] = sorted(tops - ALLOWED[package])
    assert not bad, f"imports against the layout: {bad}"


def test_apps_domain_and_sync_core_import_only_what_they_may() -> None:
    bad = {}
    for module, path in _sources("server", "sync"):
        source = path.read_text(encoding="utf-8")
        found = violations(module, imported(source, module, is_package=path.stem == "__init__"))
        if found:
            bad[module] = found
    assert not bad, f"imports against the layout: {bad}"


def test_only_the_settings_read_the_environment() -> None:
    readers = {
        module
        for module, path in _sources("server", "sync")
        if reads_environment(path.read_text(encoding="utf-8"))
    }
    assert readers == ENVIRONMENT_READERS


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("server.central.hq.oops", "from server.store.db import Reader\n"),
        ("server.central.oops", "from server import store\n"),
        ("server.store.oops", "import server.central.fold.ingest\n"),
        ("server.domain.queue.oops", "from ...central import db\n"),
        ("sync.oops", "import websockets\n"),
        ("sync.oops", "from litestar import WebSocket\n"),
        ("sync.oops", "from sync.store_ws import run_once\n"),
        ("sync.oops", "from .central_ws import sync_route\n"),
    ],
)
def test_a_forbidden_import_is_caught(module: str, source: str) -> None:
    assert violations(module, imported(source, module))


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("server.central.oops", "from server.web.logins import LoginGate\n"),
        ("server.cli.oops", "from server.store import db\nfrom server.central import db\n"),
        ("sync.store_ws", "import websockets\nfrom sync.client import ClientSession\n"),
        ("sync.oops", "from sync.frames import Push\nfrom schema.events import Event\n"),
    ],
)
def test_an_allowed_import_passes(module: str, source: str) -> None:
    assert violations(module, imported(source, module)) == []


def test_a_forbidden_import_in_a_module_on_disk_fails_the_layering_test(tmp_path: Path) -> None:
    """The checks above, over a tree with one deliberately added forbidden import."""
    oops = tmp_path / "server" / "central" / "oops.py"
    oops.parent.mkdir(parents=True)
    oops.write_text("def f():\n    from server.store.writer import Writer\n    return Writer\n")
    module = module_name(oops, tmp_path)
    assert module == "server.central.oops"
    assert violations(module, imported(oops.read_text(), module)) == [
        "server.store.writer",
        "server.store.writer.Writer",
    ]


@pytest.mark.parametrize(
    "source",
    [
        "import os\nurl = os.environ.get('HALLSYNC_CENTRAL_URL')\n",
        "import os\nmode = os.getenv('HALLSYNC_SYNC_MODE')\n",
        "from os import environ\n",
        "import click\nopt = click.option('--data-dir', envvar='HALLSYNC_DATA_DIR')\n",
    ],
)
def test_an_environment_read_is_caught(source: str) -> None:
    assert reads_environment(source)
    assert not reads_environment("import os\nos.umask(0o077)\n")
