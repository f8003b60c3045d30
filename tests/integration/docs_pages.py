"""Checks shared by the store's and central's API docs tests: a docs page must work in a hall
with no internet, so everything it loads comes from the server itself."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from litestar.testing import TestClient

# Every docs page of both apps; /schema answers with the first renderer.
PAGES = ("/schema", "/schema/swagger", "/schema/redoc")

# What each kind of asset must be served as; bundles are hundreds of KB, so a tiny body is an
# error page or a stub, not the renderer.
KINDS = {
    "script": ("javascript", 10_000),
    "stylesheet": ("text/css", 10_000),
    "icon": ("image/", 100),
}


class _Refs(HTMLParser):
    """Every ``src``/``href`` on a page, with the kind of thing the browser loads from it."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for attr in ("src", "href"):
            ref = found.get(attr)
            if ref is None:
                continue
            kind = "script" if tag == "script" else (found.get("rel") or tag)
            self.refs.append((kind, ref))


def page_refs(html: str) -> list[tuple[str, str]]:
    parser = _Refs()
    parser.feed(html)
    parser.close()
    return parser.refs


def assert_page_works_offline(client: TestClient[Any], page: str) -> None:
    """The page answers without signing in, loads a renderer, and every file it references is
    served by this server as the right kind of file."""
    r = client.get(page)
    assert r.status_code == 200, (page, r.status_code)
    assert r.headers["content-type"].startswith("text/html")
    refs = page_refs(r.text)
    assert any(kind == "script" for kind, _ in refs), (page, refs)
    for kind, ref in refs:
        parts = urlsplit(ref)
        assert not parts.scheme and not parts.netloc, f"{page} loads {ref} from another host"
        assert kind in KINDS, (page, kind, ref)
        content_type, min_size = KINDS[kind]
        asset = client.get(ref)
        assert asset.status_code == 200, (page, ref, asset.status_code)
        assert content_type in asset.headers["content-type"], (ref, asset.headers)
        assert len(asset.content) >= min_size, (ref, len(asset.content))
