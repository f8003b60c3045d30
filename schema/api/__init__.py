"""REST request and response types (msgspec), one module per domain."""
