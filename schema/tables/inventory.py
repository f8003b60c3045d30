"""Projection tables of the inventory domain."""

from __future__ import annotations
