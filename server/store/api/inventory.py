"""Tablet routes of the inventory domain."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
