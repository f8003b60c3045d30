"""Tablet routes of the queue domain."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
