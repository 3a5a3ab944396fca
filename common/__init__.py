"""The shared layer behind every function: config, database, HTTP edge, sync and shop capabilities."""

__version__ = "1.0.0"
