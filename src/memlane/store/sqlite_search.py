"""Search primitives of the SQLite store: exact numpy vector, entity graph, neighbours
(keyword search is in sqlite_keyword).
All functions run on a reader connection inside one read transaction (one snapshot)."""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..domain import Entity, Hit, MemoryFilter
from .sqlite_rows import filter_sql, ids_json, norm_name, now_ts, row_to_entity

_IN_IDS = "IN (SELECT value FROM json_each(?))"  # `+user_id`: look ids up by key
RELATED_LIMIT = 20  # related entities followed per entity_search


# vector ------------------------------------------------------------------------------
@dataclass
class UserVectors:
    """One user's chunk vectors of one dimension, grouped by memory."""
    version: int
    removed: int            # the user's count of changes that removed or changed rows
    last_row: int           # the highest chunk row held
    ids: list[str]          # memory id per group
    starts: np.ndarray      # first row of each group
    idxs: np.ndarray        # chunk index per row
    matrix: np.ndarray      # float32 (rows, dim)

    def best_chunk(self, group: int, scores: np.ndarray) -> int:
        lo = self.starts[group]
        hi = self.starts[group + 1] if group + 1 < len(self.starts) else len(scores)
        return int(self.idxs[lo + int(np.argmax(scores[lo:hi]))])

    def extended(self, newer: UserVectors) -> UserVectors:
        """These rows and then ``newer``'s (rows added since, of memories added since)."""
        return UserVectors(newer.version, newer.removed, max(self.last_row, newer.last_row),
                           self.ids + newer.ids,
                           np.concatenate([self.starts, newer.starts + len(self.idxs)]),
                           np.concatenate([self.idxs, newer.idxs]),
                           np.concatenate([self.matrix, newer.matrix]))


class VectorCache:
    """{(user_id, dim): UserVectors}, checked against user_versions on each use so writes
    from any process invalidate it; when rows were only added, only those are read.
    Least recently used users are dropped first."""

    def __init__(self, max_entries: int = 64):
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int], UserVectors] = OrderedDict()
        self._max = max_entries

    def get(self, conn: sqlite3.Connection, user_id: str, dim: int) -> UserVectors:
        row = conn.execute("SELECT version, removed FROM user_versions WHERE user_id = ?",
                           (user_id,)).fetchone()
        version, removed = row if row else (0, 0)
        key = (user_id, dim)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.version == version:
                self._entries.move_to_end(key)
                return entry
        if entry is not None and entry.removed == removed and entry.version < version:
            entry = entry.extended(_load_vectors(conn, user_id, dim, version, removed,
                                                 after=entry.last_row))
        else:
            entry = _load_vectors(conn, user_id, dim, version, removed)
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return entry

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _load_vectors(conn: sqlite3.Connection, user_id: str, dim: int, version: int,
                  removed: int, after: int = 0) -> UserVectors:
    # rows added since ``after``: a range of row ids, not the user's whole index
    where = "id > ? AND +user_id = ?" if after else "id > ? AND user_id = ?"
    rows = conn.execute(f"SELECT memory_id, idx, vector, id FROM chunks WHERE {where} "
                        "AND length(vector) = ? ORDER BY memory_id, idx",
                        (after, user_id, dim * 4)).fetchall()
    matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(-1, dim)
    ids: list[str] = []
    starts: list[int] = []
    for i, row in enumerate(rows):
        if not ids or ids[-1] != row[0]:
            ids.append(row[0])
            starts.append(i)
    return UserVectors(version, removed, max((r[3] for r in rows), default=after), ids,
                       np.asarray(starts, dtype=np.int64),
                       np.asarray([r[1] for r in rows], dtype=np.int64), matrix)


def unit_vector(vector) -> np.ndarray | None:
    v = np.asarray(vector, dtype=np.float32).ravel()
    norm = float(np.linalg.norm(v))
    if not np.isfinite(norm) or norm == 0.0:
        return None
    return v / norm


def vector_search(conn: sqlite3.Connection, cache: VectorCache, user_id: str, vector,
                  flt: MemoryFilter, limit: int) -> list[Hit]:
    """Score every chunk of the user and keep each memory's best; check the best few
    memories against the filter in SQL, and when too few pass, the whole user at once."""
    q = unit_vector(vector)
    if q is None or limit <= 0:
        return []
    vecs = cache.get(conn, user_id, q.size)
    if not vecs.ids:
        return []
    # einsum, not BLAS matmul: multithreaded gemv stalls ~8 ms when cores are busy
    scores = np.einsum("ij,j->i", vecs.matrix, q)
    best = np.maximum.reduceat(scores, vecs.starts)
    head = _best(best, max(2 * limit, 100))
    groups = _passing(head, vecs.ids, allowed_ids(conn, user_id, [vecs.ids[i] for i in head],
                                                   flt), limit)
    if len(groups) < limit and len(best) > len(head):
        order = np.argsort(-best, kind="stable")
        tail = order[~np.isin(order, head)]
        groups += _passing(tail, vecs.ids, allowed_ids(conn, user_id, None, flt),
                           limit - len(groups))
    return [Hit(vecs.ids[g], float(best[g]), {"chunk": vecs.best_chunk(g, scores)})
            for g in groups]


def _best(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of k highest scores, best first; a partial sort, as a user's whole set is
    only sorted when a filter rejects most of the best."""
    if len(scores) <= k:
        return np.argsort(-scores, kind="stable")
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.lexsort((top, -scores[top]))]


def _passing(groups: np.ndarray, ids: list[str], allowed: set[str], limit: int) -> list[int]:
    out: list[int] = []
    for group in groups:
        if ids[group] in allowed:
            out.append(int(group))
            if len(out) == limit:
                break
    return out


def allowed_ids(conn: sqlite3.Connection, user_id: str, ids: list[str] | None,
                flt: MemoryFilter) -> set[str]:
    """Which of ``ids`` (None: all the user's memories) pass the filter."""
    where, params = filter_sql(flt)
    if ids is None:
        sql, args = "SELECT m.id FROM memories m WHERE m.user_id = ?", [user_id]
    else:
        sql = f"SELECT m.id FROM memories m WHERE +m.user_id = ? AND m.id {_IN_IDS}"
        args = [user_id, ids_json(ids)]
    return {r[0] for r in conn.execute(f"{sql} AND {where}", (*args, *params))}


def vector_scores(conn: sqlite3.Connection, user_id: str, vector,
                  memory_ids: list[str]) -> dict[str, float]:
    q = unit_vector(vector)
    if q is None or not memory_ids:
        return {}
    rows = conn.execute(f"SELECT memory_id, vector FROM chunks WHERE +user_id = ? AND "
                        f"memory_id {_IN_IDS} AND length(vector) = ?",
                        (user_id, ids_json(memory_ids), q.size * 4)).fetchall()
    if not rows:
        return {}
    matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(-1, q.size)
    out: dict[str, float] = {}
    for (memory_id, _), score in zip(rows, np.einsum("ij,j->i", matrix, q).tolist()):
        out[memory_id] = max(score, out.get(memory_id, -np.inf))
    return out


# entities ----------------------------------------------------------------------------
def entity_search(conn: sqlite3.Connection, user_id: str, names: list[str],
                  flt: MemoryFilter, limit: int, related: bool) -> list[Hit]:
    """1.0 per named entity a memory links; 0.5 x strength per related entity it links,
    where strength(r) = max over named e of weight(e, r) / max weight of e's relations."""
    keys = list(dict.fromkeys(k for k in map(norm_name, names) if k))
    if not keys or limit <= 0:
        return []
    labels = dict(conn.execute(f"SELECT id, name FROM entities WHERE user_id = ? "
                               f"AND norm_name {_IN_IDS}", (user_id, ids_json(keys))).fetchall())
    if not labels:
        return []
    weights = dict.fromkeys(labels, 1.0)
    if related:
        for eid, name, strength in _related(conn, user_id, list(labels)):
            weights[eid], labels[eid] = 0.5 * strength, name
    where, params = filter_sql(flt)
    ranked = conn.execute(
        "SELECT me.memory_id, sum(w.value) AS score, max(w.value) AS top "
        "FROM json_each(?) w JOIN memory_entities me ON me.entity_id = w.key "
        f"JOIN memories m ON m.id = me.memory_id WHERE +m.user_id = ? AND {where} "
        "GROUP BY me.memory_id ORDER BY score DESC, m.event_at DESC, me.memory_id LIMIT ?",
        (json.dumps(weights), user_id, *params, limit)).fetchall()
    linked = _linked_names(conn, [r[0] for r in ranked], labels)
    return [Hit(mid, score, {"entities": linked.get(mid, []), "related": top < 1.0})
            for mid, score, top in ranked]


def _linked_names(conn: sqlite3.Connection, memory_ids: list[str],
                  labels: dict[str, str]) -> dict[str, list[str]]:
    """Names of the searched-for entities each memory links, in link order."""
    out: dict[str, list[str]] = {}
    rows = conn.execute(f"SELECT memory_id, entity_id FROM memory_entities WHERE memory_id "
                        f"{_IN_IDS} ORDER BY memory_id, pos", (ids_json(memory_ids),))
    for memory_id, entity_id in rows:
        if entity_id in labels:
            out.setdefault(memory_id, []).append(labels[entity_id])
    return out


def _related(conn: sqlite3.Connection, user_id: str,
             entity_ids: list[str]) -> list[tuple[str, str, float]]:
    ids = ids_json(entity_ids)
    return conn.execute(
        "SELECT r.b_id, e.name, max(CAST(r.weight AS REAL) / (SELECT max(r2.weight) "
        "FROM relations r2 WHERE r2.a_id = r.a_id)) AS strength "
        "FROM relations r JOIN entities e ON e.id = r.b_id "
        f"WHERE r.user_id = ? AND r.a_id {_IN_IDS} AND r.b_id NOT {_IN_IDS} "
        "GROUP BY r.b_id ORDER BY strength DESC, e.norm_name LIMIT ?",
        (user_id, ids, ids, RELATED_LIMIT)).fetchall()


def list_entities(conn: sqlite3.Connection, user_id: str, query: str | None, limit: int,
                  offset: int) -> list[Entity]:
    needle = norm_name(query or "")
    rows = conn.execute(
        "SELECT e.id, e.user_id, e.name, e.label, count(me.memory_id) AS memory_count "
        "FROM entities e LEFT JOIN memory_entities me ON me.entity_id = e.id "
        "WHERE e.user_id = ? AND instr(e.norm_name, ?) > 0 GROUP BY e.id "
        "ORDER BY memory_count DESC, e.norm_name, e.id LIMIT ? OFFSET ?",
        (user_id, needle, limit, offset))
    return [row_to_entity(row) for row in rows]


# neighbours --------------------------------------------------------------------------
# A memory's exchange: its conversation, transcript or session id (an explicit one only).
SESSION = ("coalesce(json_extract(metadata, '$.session'), "
           "json_extract(metadata, '$.conversation_id'))")
NEIGHBOUR_SCAN = 50  # rows looked at either side for the same session


def neighbours(conn: sqlite3.Connection, user_id: str, memory_ids: list[str], window: int,
               max_gap_s: float) -> dict[str, list[str]]:
    """The memories told just before and after each one in the same session (none for a
    memory without a session): independent memories are never neighbours."""
    out: dict[str, list[str]] = {}
    for memory_id in dict.fromkeys(memory_ids):
        row = conn.execute(f"SELECT rowid, event_at, {SESSION} FROM memories "
                           "WHERE id = ? AND user_id = ?", (memory_id, user_id)).fetchone()
        if row is None:
            continue
        rowid, event_at, session = row
        around = []
        for op, order in (("<", "DESC"), (">", "ASC")) if session is not None else ():
            around += conn.execute(
                f"SELECT id, event_at FROM (SELECT rowid AS r, id, event_at, metadata, "
                f"valid_until FROM memories INDEXED BY memories_user_order "
                f"WHERE user_id = ? AND rowid {op} ? ORDER BY rowid {order} LIMIT ?) "
                f"WHERE {SESSION} = ? AND (valid_until IS NULL OR valid_until > ?) "
                f"ORDER BY r {order} LIMIT ?",
                (user_id, rowid, NEIGHBOUR_SCAN, session, now_ts(), window)).fetchall()
        out[memory_id] = [mid for mid, at in around if abs(at - event_at) <= max_gap_s]
    return out
