"""How hallsync's data *moves*: the sans-I/O sync core and its thin adapters."""
