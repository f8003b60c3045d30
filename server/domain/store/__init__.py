"""The store itself (门店): its settings and the staff roster with their logins.

- ``commands``: configure the store, change its settings, add and update staff, passwords;
- ``projectors``: store and staff events → ``store_info`` and ``staff`` rows;
- ``reads``: the roster, logins, token validity;
- ``rules``: a known time zone, opening hours.

The names below are the package's public face, imported from their module on first use
(``server.domain.facade``), so that loading the projectors imports no command or read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from server.domain.store.commands import add_staff as add_staff
    from server.domain.store.commands import change_own_password as change_own_password
    from server.domain.store.commands import configure_store as configure_store
    from server.domain.store.commands import set_password as set_password
    from server.domain.store.commands import update_settings as update_settings
    from server.domain.store.commands import update_staff as update_staff
    from server.domain.store.reads import find_login as find_login
    from server.domain.store.reads import get_staff as get_staff
    from server.domain.store.reads import list_staff as list_staff
    from server.domain.store.reads import staff_row_out as staff_row_out
    from server.domain.store.reads import tokens_valid_from as tokens_valid_from
    from server.domain.store.rules import check_hours as check_hours
    from server.domain.store.rules import check_tz as check_tz
else:
    from server.domain.facade import lazy_names

    __getattr__, __dir__ = lazy_names(
        __name__,
        commands=(
            "add_staff",
            "change_own_password",
            "configure_store",
            "set_password",
            "update_settings",
            "update_staff",
        ),
        reads=(
            "find_login",
            "get_staff",
            "list_staff",
            "staff_row_out",
            "tokens_valid_from",
        ),
        rules=(
            "check_hours",
            "check_tz",
        ),
    )
