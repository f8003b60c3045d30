"""The shifts domain: commands, projectors and reads."""

from __future__ import annotations
