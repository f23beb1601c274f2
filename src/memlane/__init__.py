"""memlane: a local-first memory server."""
__version__ = "0.1.0"
