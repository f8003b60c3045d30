"""The store node: a hall's own server, on SQLite, that staff tablets talk to."""
