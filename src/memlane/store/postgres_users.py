"""Users, API keys, refresh tokens, analytics records and the replicas' shared state on
PostgreSQL."""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg

from .. import errors
from ..domain import AnalyticsRecord, ApiKey, User
from .postgres_memories import fetch, fetch_one
from .postgres_rows import placeholders, select_list
from .sqlite_analytics import _COLUMNS as _ANALYTICS_COLUMNS
from .sqlite_analytics import _params as _analytics_params
from .sqlite_analytics import _row_to_record
from .sqlite_rows import now_ts, row_to_key, row_to_user, to_ts
from .sqlite_users import USER_FIELDS

Conn = psycopg.AsyncConnection


async def insert_user(conn: Conn, user: User) -> User:
    try:
        async with conn.transaction():
            await conn.execute("INSERT INTO users (id, name, is_admin, created_at) "
                               "VALUES (%s, %s, %s, %s)",
                               (user.id, user.name, bool(user.is_admin), to_ts(user.created_at)))
    except psycopg.errors.UniqueViolation as exc:
        raise errors.Conflict(f"user {user.name!r} already exists", param="name") from exc
    return user


async def one_user(conn: Conn, column: str, value: str) -> User | None:
    row = await fetch_one(conn, f"SELECT * FROM users WHERE {column} = %s", (value,))
    return row_to_user(row) if row else None


async def list_users(conn: Conn) -> list[User]:
    return [row_to_user(r) for r in await fetch(conn, "SELECT * FROM users "
                                                 "ORDER BY created_at, name")]


async def update_user(conn: Conn, user_id: str, changes: dict) -> User | None:
    unknown = set(changes) - set(USER_FIELDS)
    if unknown:
        raise ValueError(f"not user fields: {sorted(unknown)}")
    if changes:
        sets = ", ".join(f"{name} = %s" for name in changes)
        await conn.execute(f"UPDATE users SET {sets} WHERE id = %s",
                           (*changes.values(), user_id))
    return await one_user(conn, "id", user_id)


async def password_hash(conn: Conn, user_id: str) -> str | None:
    row = await fetch_one(conn, "SELECT password_hash FROM users WHERE id = %s", (user_id,))
    return row["password_hash"] if row else None


async def insert_key(conn: Conn, key: ApiKey, key_hash: str) -> ApiKey:
    if await fetch_one(conn, "SELECT 1 FROM users WHERE id = %s", (key.user_id,)) is None:
        raise errors.NotFound(f"user {key.user_id} not found")
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (key.id, key.user_id, key.name, key.prefix, key_hash, to_ts(key.created_at)))
    except psycopg.errors.UniqueViolation as exc:
        raise errors.Conflict("an identical key already exists") from exc
    return key


async def key_owner(conn: Conn, key_hash: str) -> tuple[User, ApiKey] | None:
    key = await fetch_one(conn, "SELECT * FROM api_keys WHERE key_hash = %s AND NOT revoked",
                          (key_hash,))
    if key is None:
        return None
    user = await one_user(conn, "id", key["user_id"])
    return (user, row_to_key(key)) if user else None


async def list_keys(conn: Conn, user_id: str | None) -> list[ApiKey]:
    rows = await fetch(conn, "SELECT * FROM api_keys WHERE (%s::text IS NULL OR user_id = %s) "
                       "ORDER BY created_at, id", (user_id, user_id))
    return [row_to_key(r) for r in rows]


async def use_refresh_token(conn: Conn, jti: str, now: float) -> str | None:
    row = await fetch_one(conn, "UPDATE refresh_tokens SET used_at = %s WHERE jti = %s AND "
                          "used_at IS NULL AND expires_at > %s RETURNING user_id",
                          (now, jti, now))
    return row["user_id"] if row else None


# analytics -----------------------------------------------------------------------------
_INSERT_RECORD = (f"INSERT INTO analytics ({', '.join(_ANALYTICS_COLUMNS)}) "
                  f"SELECT {placeholders(len(_ANALYTICS_COLUMNS))} "
                  "WHERE EXISTS (SELECT 1 FROM users WHERE id = %s) "
                  "ON CONFLICT (id) DO NOTHING")


async def add_records(conn: Conn, records: list[AnalyticsRecord]) -> int:
    stored = 0
    for record in records:
        stored += (await conn.execute(_INSERT_RECORD, _analytics_params(record))).rowcount
    return stored


async def analytics_records(conn: Conn, user_id: str | None, since: float | None,
                            until: float | None, conversation_id: str | None,
                            limit: int | None) -> list[AnalyticsRecord]:
    tests = [("user_id = %s", user_id), ("at >= %s", since), ("at < %s", until),
             ("conversation_id = %s", conversation_id)]
    used = [(sql, value) for sql, value in tests if value is not None]
    where = " AND ".join(sql for sql, _ in used) or "true"
    rows = await fetch(conn, f"SELECT {select_list(_ANALYTICS_COLUMNS)} FROM analytics "
                       f"WHERE {where} ORDER BY at, id LIMIT %s",
                       (*(value for _, value in used), limit))
    return [_row_to_record(r) for r in rows]


# shared state ----------------------------------------------------------------------------
async def update_state(conn: Conn, key: str, fn: Callable[[Any], tuple[Any, Any]],
                       ttl_s: float) -> Any:
    """Runs ``fn`` on the key's value (None when absent or expired) with the row locked;
    stores what it returns first (None: deleted), answers its second."""
    now = now_ts()
    await conn.execute("INSERT INTO shared_state (key, value, expires_at) VALUES "
                       "(%s, 'null', 0) ON CONFLICT (key) DO NOTHING", (key,))
    row = await fetch_one(conn, "SELECT value::text AS value, expires_at FROM shared_state "
                          "WHERE key = %s FOR UPDATE", (key,))
    old = json.loads(row["value"]) if row["expires_at"] > now else None
    new, answer = fn(old)
    if new is None:
        await conn.execute("DELETE FROM shared_state WHERE key = %s", (key,))
    else:
        await conn.execute("UPDATE shared_state SET value = %s, expires_at = %s WHERE key = %s",
                           (json.dumps(new), now + ttl_s, key))
    return answer


async def prune_state(conn: Conn) -> int:
    return (await conn.execute("DELETE FROM shared_state WHERE expires_at < %s",
                               (now_ts(),))).rowcount
