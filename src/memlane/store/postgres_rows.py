"""Shared pieces of the PostgreSQL store: the MemoryFilter -> SQL translation and the
select lists (jsonb read back as text, so the SQLite row converters apply unchanged)."""
from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..domain import MemoryFilter
from .sqlite_rows import MEMORY_COLUMNS, norm_name, now_ts, to_ts

JSON_COLUMNS = {"metadata", "details", "payload", "result", "phases", "strategies"}


def select_list(columns: tuple[str, ...], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{c}::text AS {c}" if c in JSON_COLUMNS else
                     f'{prefix}"{c}"' if c == "end" else f"{prefix}{c}" for c in columns)


MEMORY_SELECT = f"SELECT {select_list(MEMORY_COLUMNS, 'm')} FROM memories m"


def placeholders(n: int) -> str:
    return ", ".join(["%s"] * n)


def pg_vector(vector: Any) -> np.ndarray | None:
    """A chunk vector for a pgvector column (float32; None stays NULL)."""
    if vector is None:
        return None
    return np.ascontiguousarray(vector, dtype=np.float32).ravel()


def filter_sql(flt: MemoryFilter) -> tuple[str, list[Any]]:
    """Conditions on alias ``m`` (memories), as sqlite_rows.filter_sql: an empty ``types``
    list means no filter; since/until are inclusive bounds on the event time; metadata
    values match exactly and by JSON type (1 = 1.0, but 1 != true != "1")."""
    clauses: list[str] = []
    params: list[Any] = []
    if flt.types:
        clauses.append("m.type = ANY(%s)")
        params.append([str(t) for t in flt.types])
    if flt.since is not None:
        clauses.append("m.event_at >= %s")
        params.append(to_ts(flt.since))
    if flt.until is not None:
        clauses.append("m.event_at <= %s")
        params.append(to_ts(flt.until))
    if not flt.include_superseded:
        clauses.append("(m.valid_until IS NULL OR m.valid_until > %s)")
        params.append(now_ts())
    if flt.entity:
        clauses.append("EXISTS (SELECT 1 FROM memory_entities fe JOIN entities e "
                       "ON e.id = fe.entity_id WHERE fe.memory_id = m.id AND e.norm_name = %s)")
        params.append(norm_name(flt.entity))
    for key, value in (flt.metadata or {}).items():
        clauses.append("m.metadata -> %s = %s::jsonb")
        params.extend([str(key), json.dumps(value)])
    return (" AND ".join(clauses) or "true"), params
