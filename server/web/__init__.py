"""The web pieces both apps (the store node's tablet API and central's HQ API) are built from,
in one place: the app factory (``app``), bearer tokens and role guards (``guards``), the
OpenAPI contract and strict request decoding (``contract``), offline API docs (``docs``),
problem details (``problems``), request-text checks (``inputs``), the login throttle
(``logins``) and the metrics token (``metrics_access``)."""
