"""Who calls: typed clients for the tablet and HQ APIs, demo and load drivers."""

from clients.http import ApiError, HttpCore
from clients.tablet import TabletClient, iterate

__all__ = ["ApiError", "HttpCore", "TabletClient", "iterate"]
