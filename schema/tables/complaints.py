"""Projection tables of the complaints domain."""

from __future__ import annotations
