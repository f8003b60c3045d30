"""Headquarters on central: who HQ users are and what they may do, and the HQ events they send
down to the stores.

- ``auth`` — HQ logins, roles and region scopes, the JWT guard;
- ``users`` and ``users_api`` — HQ user accounts and their API;
- ``api`` — the HQ API of login, stores and their sync status, enrollment, quarantine, KPIs;
- ``publish``, ``checks`` and ``publish_api`` — stamping, checking and publishing HQ events;
- ``log`` — the ordered log of HQ events each store downloads;
- ``conflicts`` and ``conflicts_api`` — HQ events the stores refused after merge, and HQ's
  resolution of them;
- ``notify`` — waking every replica's sync connections (PostgreSQL ``LISTEN/NOTIFY``).
"""
