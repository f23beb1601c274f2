"""Small shared state with an expiry, on SQLite (one process: kept for the contract; the
server keeps its rate limits in memory on SQLite)."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from .sqlite_rows import now_ts


def update_state(conn: sqlite3.Connection, key: str, fn: Callable[[Any], tuple[Any, Any]],
                 ttl_s: float) -> Any:
    now = now_ts()
    row = conn.execute("SELECT value FROM shared_state WHERE key = ? AND expires_at > ?",
                       (key, now)).fetchone()
    new, answer = fn(None if row is None else json.loads(row[0]))
    if new is None:
        conn.execute("DELETE FROM shared_state WHERE key = ?", (key,))
    else:
        conn.execute("INSERT INTO shared_state (key, value, expires_at) VALUES (?, ?, ?) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                     "expires_at = excluded.expires_at", (key, json.dumps(new), now + ttl_s))
    return answer


def prune_state(conn: sqlite3.Connection) -> int:
    return conn.execute("DELETE FROM shared_state WHERE expires_at < ?", (now_ts(),)).rowcount
