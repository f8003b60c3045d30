"""Tablet routes of the ops domain."""

from __future__ import annotations

from typing import Any

ROUTES: list[Any] = []
