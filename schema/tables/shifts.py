"""Projection tables of the shifts domain."""

from __future__ import annotations
