"""The store node's API docs work in a hall without internet."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.integration.docs_pages import PAGES, assert_page_works_offline


@pytest.mark.parametrize("page", PAGES)
def test_docs_page_loads_everything_from_the_store_node(client: TestClient[Any], page: str) -> None:
    assert_page_works_offline(client, page)
