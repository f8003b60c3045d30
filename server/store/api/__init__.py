"""The tablet REST API of the store node, one module of routes per domain."""
