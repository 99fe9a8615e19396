"""Persistence and data in: the SQLite store of worlds, and importers of AWS exports."""
