"""Persistence: the Store interface and its implementations."""
from .base import Store
from .sqlite import SQLiteStore

__all__ = ["SQLiteStore", "Store"]
