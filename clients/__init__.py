"""Who calls: typed clients for the tablet and HQ APIs, demo and load drivers."""
