"""Projection tables of the queue domain."""

from __future__ import annotations
