"""Central: the server every store node syncs with, holding every store's history for HQ."""
