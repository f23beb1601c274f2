"""Row conversion and the MemoryFilter -> SQL translation shared by the SQLite store."""
from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np

from ..domain import ApiKey, Entity, HistoryEntry, Memory, MemoryFilter, MemoryType, Source, User

MEMORY_COLUMNS = ("id", "user_id", "text", "type", "source", "created_at", "updated_at",
                  "occurred_at", "metadata", "importance", "confidence", "access_count",
                  "last_accessed_at", "emotion", "client_id", "content_hash", "valid_until")
MEMORY_SELECT = "SELECT " + ", ".join(f"m.{c}" for c in MEMORY_COLUMNS) + " FROM memories m"


def to_ts(value: datetime | None) -> float | None:
    """Epoch seconds; naive datetimes are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def from_ts(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def now_ts() -> float:
    return time.time()


def norm_name(name: str) -> str:
    """The case-insensitive key of an entity name."""
    return " ".join(name.split()).lower()


def ids_json(ids: list[str]) -> str:
    """One bound parameter for ``IN (SELECT value FROM json_each(?))``: no variable limit."""
    return json.dumps(list(ids))


def dump_json(value: dict[str, Any] | None) -> str:
    return json.dumps(value or {}, ensure_ascii=False, default=str)


def vector_blob(vector: Any) -> bytes | None:
    """A vector as float32 bytes (None stays NULL)."""
    if vector is None:
        return None
    return np.ascontiguousarray(vector, dtype=np.float32).ravel().tobytes()


def blob_vector(blob: bytes | None) -> np.ndarray | None:
    """A writable float32 vector from vector_blob's bytes."""
    return None if blob is None else np.frombuffer(blob, dtype=np.float32).copy()


def memory_params(m: Memory) -> tuple:
    return (m.id, m.user_id, m.text, str(m.type), str(m.source), to_ts(m.created_at),
            to_ts(m.updated_at), to_ts(m.occurred_at), dump_json(m.metadata),
            float(m.importance), float(m.confidence), int(m.access_count),
            to_ts(m.last_accessed_at), m.emotion, m.client_id, m.content_hash,
            to_ts(m.valid_until))


def row_to_memory(row: sqlite3.Row) -> Memory:
    return Memory(
        id=row["id"], user_id=row["user_id"], text=row["text"], type=MemoryType(row["type"]),
        source=Source(row["source"]), created_at=from_ts(row["created_at"]),
        updated_at=from_ts(row["updated_at"]), occurred_at=from_ts(row["occurred_at"]),
        metadata=json.loads(row["metadata"]), importance=row["importance"],
        confidence=row["confidence"], access_count=row["access_count"],
        last_accessed_at=from_ts(row["last_accessed_at"]), emotion=row["emotion"],
        client_id=row["client_id"], content_hash=row["content_hash"],
        valid_until=from_ts(row["valid_until"]))


def row_to_user(row: sqlite3.Row) -> User:
    return User(id=row["id"], name=row["name"], is_admin=bool(row["is_admin"]),
                created_at=from_ts(row["created_at"]), disabled=bool(row["disabled"]),
                tokens_after=row["tokens_after"])


def row_to_key(row: sqlite3.Row) -> ApiKey:
    return ApiKey(id=row["id"], user_id=row["user_id"], name=row["name"],
                  prefix=row["prefix"], created_at=from_ts(row["created_at"]),
                  last_used_at=from_ts(row["last_used_at"]), revoked=bool(row["revoked"]))


def row_to_history(row: sqlite3.Row) -> HistoryEntry:
    return HistoryEntry(id=row["id"], memory_id=row["memory_id"], user_id=row["user_id"],
                        event=row["event"], old_text=row["old_text"], new_text=row["new_text"],
                        actor=row["actor"], created_at=from_ts(row["created_at"]),
                        details=json.loads(row["details"]))


def row_to_entity(row: sqlite3.Row) -> Entity:
    return Entity(id=row["id"], user_id=row["user_id"], name=row["name"], label=row["label"],
                  memory_count=row["memory_count"])


def filter_sql(flt: MemoryFilter) -> tuple[str, list[Any]]:
    """SQL conditions on alias ``m`` (memories). An empty ``types`` list means no filter;
    since/until are inclusive bounds on coalesce(occurred_at, created_at)."""
    clauses: list[str] = []
    params: list[Any] = []
    if flt.types:
        clauses.append(f"m.type IN ({', '.join('?' * len(flt.types))})")
        params.extend(str(t) for t in flt.types)
    if flt.since is not None:
        clauses.append("m.event_at >= ?")
        params.append(to_ts(flt.since))
    if flt.until is not None:
        clauses.append("m.event_at <= ?")
        params.append(to_ts(flt.until))
    if not flt.include_superseded:
        clauses.append("(m.valid_until IS NULL OR m.valid_until > ?)")
        params.append(now_ts())
    if flt.entity:
        clauses.append("EXISTS (SELECT 1 FROM memory_entities fe JOIN entities e "
                       "ON e.id = fe.entity_id WHERE fe.memory_id = m.id AND e.norm_name = ?)")
        params.append(norm_name(flt.entity))
    for key, value in (flt.metadata or {}).items():
        clause, values = _metadata_clause(value)
        clauses.append("EXISTS (SELECT 1 FROM json_each(m.metadata) j WHERE j.key = ? AND "
                       f"{clause})")
        params.extend([str(key), *values])
    return (" AND ".join(clauses) or "1"), params


def _metadata_clause(value: Any) -> tuple[str, list[Any]]:
    """Exact, type-aware match of one top-level metadata value (1 != true != "1")."""
    if value is None:
        return "j.type = 'null'", []
    if isinstance(value, bool):
        return "j.type = ?", ["true" if value else "false"]
    if isinstance(value, (int, float)):
        return "j.type IN ('integer', 'real') AND j.atom = ?", [value]
    if isinstance(value, str):
        return "j.type = 'text' AND j.atom = ?", [value]
    return "j.type IN ('object', 'array') AND j.value = json(?)", [json.dumps(value)]
