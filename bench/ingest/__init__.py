"""The parts of the sync ingest benchmark (``bench/sync_ingest.py``, which runs them): the
processes it starts and measures, the days it uploads, the PostgreSQL it times and checks,
central's set-up and the client processes."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "bench-admin-pass-1"
CONTACT_KEY = "hc2$argon2id$m=8,t=1$YmVuY2gtY2hhaW4tY29udGFjdC1rZXktMDAwMQ"
"""A cheap chain key (``ContactHasher.cheap``): the benchmark measures sync, not Argon2."""
