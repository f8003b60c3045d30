"""Tablet routes of the complaints domain."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
