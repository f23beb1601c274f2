"""Synchronous SQL of users, API keys and refresh tokens."""
from __future__ import annotations

import sqlite3

from .. import errors
from ..domain import ApiKey, User
from . import sqlite_chat as chat
from . import sqlite_jobs as jobs
from . import sqlite_memories as mem
from .sqlite_rows import row_to_key, row_to_user, to_ts

USER_FIELDS = ("is_admin", "disabled", "tokens_after", "password_hash")


def insert_user(conn: sqlite3.Connection, user: User) -> User:
    try:
        conn.execute("INSERT INTO users (id, name, is_admin, created_at) VALUES (?, ?, ?, ?)",
                     (user.id, user.name, int(user.is_admin), to_ts(user.created_at)))
    except sqlite3.IntegrityError as exc:
        raise errors.Conflict(f"user {user.name!r} already exists", param="name") from exc
    return user


def one_user(conn: sqlite3.Connection, column: str, value: str) -> User | None:
    row = conn.execute(f"SELECT * FROM users WHERE {column} = ?", (value,)).fetchone()
    return row_to_user(row) if row else None


def update_user(conn: sqlite3.Connection, user_id: str, changes: dict) -> User | None:
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise ValueError(f"not user fields: {sorted(unknown)}")
    if changes:
        sets = ", ".join(f"{name} = ?" for name in changes)
        values = [int(v) if isinstance(v, bool) else v for v in changes.values()]
        conn.execute(f"UPDATE users SET {sets} WHERE id = ?", (*values, user_id))
    return one_user(conn, "id", user_id)


def password_hash(conn: sqlite3.Connection, user_id: str) -> str | None:
    row = conn.execute("SELECT password_hash FROM users WHERE id = ?", (user_id,)).fetchone()
    return row[0] if row else None


def delete_user(conn: sqlite3.Connection, user_id: str) -> bool:
    chat.delete_user_rows(conn, user_id)
    jobs.delete_user_jobs(conn, user_id)
    return mem.delete_user_rows(conn, user_id)


def insert_key(conn: sqlite3.Connection, key: ApiKey, key_hash: str) -> ApiKey:
    if conn.execute("SELECT 1 FROM users WHERE id = ?", (key.user_id,)).fetchone() is None:
        raise errors.NotFound(f"user {key.user_id} not found")
    try:
        conn.execute("INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", (key.id, key.user_id, key.name, key.prefix,
                                                   key_hash, to_ts(key.created_at)))
    except sqlite3.IntegrityError as exc:
        raise errors.Conflict("an identical key already exists") from exc
    return key


def key_owner(conn: sqlite3.Connection, key_hash: str) -> tuple[User, ApiKey] | None:
    key = conn.execute("SELECT * FROM api_keys WHERE key_hash = ? AND revoked = 0",
                       (key_hash,)).fetchone()
    if key is None:
        return None
    user = one_user(conn, "id", key["user_id"])
    return (user, row_to_key(key)) if user else None


def list_keys(conn: sqlite3.Connection, user_id: str | None) -> list[ApiKey]:
    where, params = ("WHERE user_id = ?", (user_id,)) if user_id is not None else ("", ())
    rows = conn.execute(f"SELECT * FROM api_keys {where} ORDER BY created_at, id", params)
    return [row_to_key(r) for r in rows]


def touch_key(conn: sqlite3.Connection, key_id: str, at: float) -> None:
    conn.execute("UPDATE api_keys SET last_used_at = ? WHERE id = ?", (at, key_id))


def use_refresh_token(conn: sqlite3.Connection, jti: str, now: float) -> str | None:
    row = conn.execute("UPDATE refresh_tokens SET used_at = ? WHERE jti = ? AND "
                       "used_at IS NULL AND expires_at > ? RETURNING user_id",
                       (now, jti, now)).fetchone()
    return row[0] if row else None
