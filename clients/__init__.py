"""Who calls: the typed client of the tablet API (``tablet``, on the HTTP core in ``http``) and
the ``make demo`` driver (``demo``)."""

from clients.http import ApiError, HttpCore
from clients.tablet import TabletClient, iterate

__all__ = ["ApiError", "HttpCore", "TabletClient", "iterate"]
