"""Garbage-collector settings of the serving processes (store node, central).

A request or an uploaded batch makes thousands of short-lived objects (rows, parameters,
decoded events, response parts). At Python's default young-generation threshold (700) the
collector runs every few hundred of them and, each time, walks whatever start-up made too
(modules, tables, the app). Serving processes therefore freeze what start-up made
(``gc.freeze``: a full collection no longer walks it) and collect the young generation far
less often. Reference cycles are still collected, just in larger, rarer sweeps.
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 10)


def tune_for_serving() -> None:
    """Call once, after the app is built and before it serves."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
