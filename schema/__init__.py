"""What hallsync's data *is*: events, REST types, tables and migrations."""
