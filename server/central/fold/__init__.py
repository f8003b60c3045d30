"""The fold: how central turns a store's uploaded events into its rows.

- ``ingest`` stores a run of one store's events and folds them into the projections, in the
  upload's transaction, setting aside what it cannot read or apply;
- ``batch_rows`` is the ``Rows`` the projectors write to for a whole run: it works out each
  row's operations in memory and sends them a few statements per table (``read_back``: what
  the database returns for a value written);
- ``json_rows`` carries many rows to PostgreSQL as one JSON parameter;
- ``quarantine`` replays quarantined events through the same checks and fold.
"""
