"""The hall's live queue display board (叫号屏): pushes queue state to displays on change."""

from __future__ import annotations

from collections.abc import Iterable

from schema.events import Event
from server.store.db import Reader


class QueueBoard:
    """Holds the display subscribers and pushes fresh queue state after queue events commit."""

    def __init__(self, reader: Reader, store_id: str) -> None:
        self.reader = reader
        self.store_id = store_id

    def on_commit(self, events: Iterable[Event]) -> None:
        """Called on the event loop after each commit with the events it made durable."""

    async def close(self) -> None:
        """Disconnect every display (at shutdown)."""
