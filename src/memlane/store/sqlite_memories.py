"""Synchronous memory, chunk, entity and history SQL. Write functions run on the writer
thread inside its transaction; read functions on a reader connection."""
from __future__ import annotations

import sqlite3
import uuid

from .. import errors
from ..domain import Chunk, EntityMention, HistoryEntry, Memory, MemoryFilter
from .sqlite_rows import (
    MEMORY_COLUMNS,
    MEMORY_SELECT,
    dump_json,
    filter_sql,
    ids_json,
    memory_params,
    norm_name,
    now_ts,
    row_to_history,
    row_to_memory,
    vector_blob,
)

_INSERT_MEMORY = (f"INSERT INTO memories ({', '.join(MEMORY_COLUMNS)}) "
                  f"VALUES ({', '.join('?' * len(MEMORY_COLUMNS))})")
# access_count / last_accessed_at belong to record_access: an update never rewinds them.
_UPDATABLE = [c for c in MEMORY_COLUMNS
              if c not in ("id", "user_id", "access_count", "last_accessed_at")]
_UPDATE_MEMORY = (f"UPDATE memories SET {', '.join(f'{c} = ?' for c in _UPDATABLE)} "
                  "WHERE id = ? AND user_id = ?")
_IN_IDS = "IN (SELECT value FROM json_each(?))"
# `+user_id = ?` below keeps SQLite from scanning all of the user's rows instead of
# looking the listed ids up by key.


# reads -------------------------------------------------------------------------------
def load_memories(conn: sqlite3.Connection, user_id: str, ids: list[str]) -> dict[str, Memory]:
    rows = conn.execute(f"{MEMORY_SELECT} WHERE +m.user_id = ? AND m.id {_IN_IDS}",
                        (user_id, ids_json(ids))).fetchall()
    found = {row["id"]: row_to_memory(row) for row in rows}
    fill_entities(conn, list(found.values()))
    return {i: found[i] for i in dict.fromkeys(ids) if i in found}


def fill_entities(conn: sqlite3.Connection, memories: list[Memory]) -> None:
    by_id = {m.id: m for m in memories}
    rows = conn.execute(
        "SELECT me.memory_id, e.name FROM memory_entities me JOIN entities e "
        f"ON e.id = me.entity_id WHERE me.memory_id {_IN_IDS} ORDER BY me.memory_id, me.pos",
        (ids_json(list(by_id)),))
    for memory in memories:
        memory.entities = []
    for memory_id, name in rows:
        by_id[memory_id].entities.append(name)


def find_memory(conn: sqlite3.Connection, user_id: str, client_id: str | None,
                content_hash: str | None) -> Memory | None:
    """client_id wins when given and found; a hash match prefers still-valid, newest."""
    row = None
    if client_id is not None:
        row = conn.execute(f"{MEMORY_SELECT} WHERE m.user_id = ? AND m.client_id = ?",
                           (user_id, client_id)).fetchone()
    if row is None and content_hash:
        row = conn.execute(
            f"{MEMORY_SELECT} WHERE m.user_id = ? AND m.content_hash = ? "
            "ORDER BY m.valid_until IS NULL DESC, m.created_at DESC LIMIT 1",
            (user_id, content_hash)).fetchone()
    if row is None:
        return None
    memory = row_to_memory(row)
    fill_entities(conn, [memory])
    return memory


def list_memories(conn: sqlite3.Connection, user_id: str, flt: MemoryFilter, limit: int,
                  offset: int, newest_first: bool) -> tuple[list[Memory], int]:
    where, params = filter_sql(flt)
    order = "DESC" if newest_first else "ASC"
    rows = conn.execute(
        f"{MEMORY_SELECT} WHERE m.user_id = ? AND {where} "
        f"ORDER BY m.event_at {order}, m.id {order} LIMIT ? OFFSET ?",
        (user_id, *params, limit, offset)).fetchall()
    total = conn.execute(f"SELECT count(*) FROM memories m WHERE m.user_id = ? AND {where}",
                         (user_id, *params)).fetchone()[0]
    memories = [row_to_memory(row) for row in rows]
    fill_entities(conn, memories)
    return memories, total


def memory_history(conn: sqlite3.Connection, user_id: str,
                   memory_id: str) -> list[HistoryEntry]:
    rows = conn.execute("SELECT * FROM history WHERE user_id = ? AND memory_id = ? "
                        "ORDER BY seq", (user_id, memory_id))
    return [row_to_history(row) for row in rows]


# writes ------------------------------------------------------------------------------
def insert_memory(conn: sqlite3.Connection, memory: Memory, chunks: list[Chunk],
                  mentions: list[EntityMention], actor: str) -> Memory:
    if memory.client_id is not None and conn.execute(
            "SELECT 1 FROM memories WHERE user_id = ? AND client_id = ?",
            (memory.user_id, memory.client_id)).fetchone():
        raise errors.Conflict(f"client_id {memory.client_id!r} already used",
                              param="client_id")
    try:
        conn.execute(_INSERT_MEMORY, memory_params(memory))
    except sqlite3.IntegrityError as exc:
        raise errors.Conflict(f"memory {memory.id} already exists") from exc
    insert_chunks(conn, memory, chunks)
    link_entities(conn, memory.user_id, memory.id, mentions)
    add_history(conn, memory.user_id, memory.id, "ADD", None, memory.text, actor)
    bump_version(conn, memory.user_id, removed=False)
    return load_memories(conn, memory.user_id, [memory.id])[memory.id]


def update_memory(conn: sqlite3.Connection, memory: Memory, old_text: str, actor: str,
                  chunks: list[Chunk] | None, mentions: list[EntityMention] | None,
                  event: str = "UPDATE") -> Memory:
    values = dict(zip(MEMORY_COLUMNS, memory_params(memory)))
    try:
        cur = conn.execute(_UPDATE_MEMORY, (*(values[c] for c in _UPDATABLE),
                                            memory.id, memory.user_id))
    except sqlite3.IntegrityError as exc:
        raise errors.Conflict(f"client_id {memory.client_id!r} already used",
                              param="client_id") from exc
    if cur.rowcount == 0:
        raise errors.NotFound(f"memory {memory.id} not found")
    if chunks is not None:
        conn.execute("DELETE FROM chunks WHERE memory_id = ?", (memory.id,))
        insert_chunks(conn, memory, chunks)
    if mentions is not None:
        unlink_entities(conn, memory.id)
        link_entities(conn, memory.user_id, memory.id, mentions)
    add_history(conn, memory.user_id, memory.id, event, old_text, memory.text, actor,
                {"rechunked": chunks is not None, "relinked": mentions is not None})
    bump_version(conn, memory.user_id)
    return load_memories(conn, memory.user_id, [memory.id])[memory.id]


def delete_memory(conn: sqlite3.Connection, user_id: str, memory_id: str, actor: str) -> bool:
    row = conn.execute("SELECT text FROM memories WHERE id = ? AND user_id = ?",
                       (memory_id, user_id)).fetchone()
    if row is None:
        return False
    unlink_entities(conn, memory_id)
    conn.execute("DELETE FROM memories WHERE id = ?", (memory_id,))  # chunks cascade
    add_history(conn, user_id, memory_id, "DELETE", row["text"], None, actor)
    bump_version(conn, user_id)
    return True


def delete_all_memories(conn: sqlite3.Connection, user_id: str, actor: str) -> int:
    rows = conn.execute("SELECT id, text FROM memories WHERE user_id = ? ORDER BY event_at",
                        (user_id,)).fetchall()
    conn.execute("DELETE FROM relations WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM entities WHERE user_id = ?", (user_id,))  # links cascade
    conn.execute("DELETE FROM memories WHERE user_id = ?", (user_id,))
    now = now_ts()
    conn.executemany(
        "INSERT INTO history (id, memory_id, user_id, event, old_text, new_text, actor, "
        "created_at, details) VALUES (?, ?, ?, 'DELETE', ?, NULL, ?, ?, '{\"all\": true}')",
        [(uuid.uuid4().hex, r["id"], user_id, r["text"], actor, now) for r in rows])
    bump_version(conn, user_id)
    return len(rows)


def delete_user_rows(conn: sqlite3.Connection, user_id: str) -> bool:
    existed = conn.execute("SELECT 1 FROM users WHERE id = ?", (user_id,)).fetchone()
    for table in ("relations", "entities", "memories", "history", "user_versions"):
        conn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM users WHERE id = ?", (user_id,))  # api_keys cascade
    return existed is not None


def record_access(conn: sqlite3.Connection, user_id: str, ids: list[str], at: float) -> None:
    """Not a content change: the user's version is left alone (keeps vector caches warm)."""
    conn.execute("UPDATE memories SET access_count = access_count + 1, last_accessed_at = ? "
                 f"WHERE +user_id = ? AND id {_IN_IDS}", (at, user_id, ids_json(ids)))


def insert_chunks(conn: sqlite3.Connection, memory: Memory, chunks: list[Chunk]) -> None:
    conn.executemany(
        'INSERT INTO chunks (memory_id, user_id, idx, text, start, "end", vector) '
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(memory.id, memory.user_id, c.index, c.text, c.start, c.end, vector_blob(c.vector))
         for c in chunks])



def link_entities(conn: sqlite3.Connection, user_id: str, memory_id: str,
                  mentions: list[EntityMention]) -> None:
    """Upsert entities (first-seen name and label kept), link them, count co-occurrences."""
    unique: dict[str, EntityMention] = {}
    for mention in mentions:
        key = norm_name(mention.name)
        if key and key not in unique:
            unique[key] = mention
    entity_ids = []
    for key, mention in unique.items():
        row = conn.execute(
            "INSERT INTO entities (id, user_id, name, norm_name, label) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (user_id, norm_name) DO UPDATE SET label = "
            "CASE WHEN entities.label = '' THEN excluded.label ELSE entities.label END "
            "RETURNING id",
            (uuid.uuid4().hex, user_id, " ".join(mention.name.split()), key,
             mention.label or "")).fetchall()
        entity_ids.append(row[0][0])
    conn.executemany("INSERT INTO memory_entities (memory_id, entity_id, pos) VALUES (?, ?, ?)",
                     [(memory_id, eid, pos) for pos, eid in enumerate(entity_ids)])
    conn.executemany(
        "INSERT INTO relations (user_id, a_id, b_id, weight) VALUES (?, ?, ?, 1) "
        "ON CONFLICT (a_id, b_id) DO UPDATE SET weight = weight + 1",
        [(user_id, a, b) for a in entity_ids for b in entity_ids if a != b])


def unlink_entities(conn: sqlite3.Connection, memory_id: str) -> None:
    """Undo link_entities: decrement co-occurrences, drop entities left without memories."""
    entity_ids = [r[0] for r in conn.execute(
        "SELECT entity_id FROM memory_entities WHERE memory_id = ?", (memory_id,))]
    if not entity_ids:
        return
    conn.executemany("UPDATE relations SET weight = weight - 1 WHERE a_id = ? AND b_id = ?",
                     [(a, b) for a in entity_ids for b in entity_ids if a != b])
    ids = ids_json(entity_ids)
    conn.execute(f"DELETE FROM relations WHERE a_id {_IN_IDS} AND weight <= 0", (ids,))
    conn.execute("DELETE FROM memory_entities WHERE memory_id = ?", (memory_id,))
    conn.execute(f"DELETE FROM entities WHERE id {_IN_IDS} AND NOT EXISTS "
                 "(SELECT 1 FROM memory_entities me WHERE me.entity_id = entities.id)", (ids,))


def add_history(conn: sqlite3.Connection, user_id: str, memory_id: str, event: str,
                old_text: str | None, new_text: str | None, actor: str,
                details: dict | None = None) -> None:
    conn.execute(
        "INSERT INTO history (id, memory_id, user_id, event, old_text, new_text, actor, "
        "created_at, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (uuid.uuid4().hex, memory_id, user_id, event, old_text, new_text, actor, now_ts(),
         dump_json(details)))


def bump_version(conn: sqlite3.Connection, user_id: str, *, removed: bool = True) -> None:
    """A new version of the user's content; ``removed=False``: only rows were added."""
    conn.execute("INSERT INTO user_versions (user_id, version, removed) VALUES (?, 1, 1) "
                 "ON CONFLICT (user_id) DO UPDATE SET version = version + 1, "
                 "removed = removed + ?", (user_id, int(removed)))

