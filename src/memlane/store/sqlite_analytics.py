"""Synchronous SQL of the analytics records: one row per timed pipeline run, phases and
strategy hits as JSON. A user's rows go with the user (foreign key, ON DELETE CASCADE)."""
from __future__ import annotations

import json
import sqlite3

from ..domain import AnalyticsRecord
from .sqlite_rows import dump_json, from_ts, to_ts

_COLUMNS = ("id", "user_id", "kind", "conversation_id", "at", "phases", "strategies",
            "prompt_tokens", "completion_tokens", "cost")
# A record of a user deleted while it waited in a buffer is dropped, not a key violation.
_INSERT = (f"INSERT OR IGNORE INTO analytics ({', '.join(_COLUMNS)}) "
           f"SELECT {', '.join('?' * len(_COLUMNS))} "
           "WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)")


def _params(r: AnalyticsRecord) -> tuple:
    return (r.id, r.user_id, r.kind, r.conversation_id, to_ts(r.at), dump_json(r.phases),
            dump_json(r.strategies), int(r.prompt_tokens), int(r.completion_tokens),
            float(r.cost), r.user_id)


def _row_to_record(row: sqlite3.Row) -> AnalyticsRecord:
    return AnalyticsRecord(
        id=row["id"], user_id=row["user_id"], kind=row["kind"],
        conversation_id=row["conversation_id"], at=from_ts(row["at"]),
        phases=json.loads(row["phases"]), strategies=json.loads(row["strategies"]),
        prompt_tokens=row["prompt_tokens"], completion_tokens=row["completion_tokens"],
        cost=row["cost"])


def add_records(conn: sqlite3.Connection, records: list[AnalyticsRecord]) -> int:
    return conn.executemany(_INSERT, [_params(r) for r in records]).rowcount


def prune(conn: sqlite3.Connection, before: float) -> int:
    return conn.execute("DELETE FROM analytics WHERE at < ?", (before,)).rowcount


def records(conn: sqlite3.Connection, user_id: str | None, since: float | None,
            until: float | None, conversation_id: str | None,
            limit: int | None) -> list[AnalyticsRecord]:
    tests = [("user_id = ?", user_id), ("at >= ?", since), ("at < ?", until),
             ("conversation_id = ?", conversation_id)]
    used = [(sql, value) for sql, value in tests if value is not None]
    where = " AND ".join(sql for sql, _ in used) or "1"
    params = [value for _, value in used]
    sql = f"SELECT * FROM analytics WHERE {where} ORDER BY at, id"
    if limit is not None:
        sql, params = sql + " LIMIT ?", [*params, limit]
    return [_row_to_record(row) for row in conn.execute(sql, params)]
