"""Central's API docs work without internet (an HQ network that blocks public CDNs)."""

from __future__ import annotations

import pytest

from tests.integration.central.conftest import CentralApp
from tests.integration.docs_pages import PAGES, assert_page_works_offline


@pytest.mark.parametrize("page", PAGES)
def test_docs_page_loads_everything_from_central(app: CentralApp, page: str) -> None:
    assert_page_works_offline(app.client, page)
