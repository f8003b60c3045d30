"""The fold: how central turns a store's uploaded events into its rows.

- ``ingest`` stores a run of one store's events and folds them into the projections, in the
  upload's transaction, setting aside what it cannot read or apply;
- ``batching`` sends the projectors' writes of a whole run a few statements per table;
- ``json_rows`` carries many rows to PostgreSQL as one JSON parameter;
- ``quarantine`` replays quarantined events through the same checks and fold.
"""
