"""Memory, chunk, entity and history SQL of the PostgreSQL store (async, on a connection
inside the caller's transaction)."""
from __future__ import annotations

import uuid
from typing import Any

import psycopg

from .. import errors
from ..domain import Chunk, EntityMention, HistoryEntry, Memory, MemoryFilter
from .postgres_rows import MEMORY_SELECT, filter_sql, pg_vector, placeholders, select_list
from .sqlite_rows import (
    MEMORY_COLUMNS,
    dump_json,
    memory_params,
    norm_name,
    now_ts,
    row_to_history,
    row_to_memory,
)

Conn = psycopg.AsyncConnection
_INSERT_MEMORY = (f"INSERT INTO memories ({', '.join(MEMORY_COLUMNS)}) "
                  f"VALUES ({placeholders(len(MEMORY_COLUMNS))})")
_UPDATABLE = [c for c in MEMORY_COLUMNS
              if c not in ("id", "user_id", "access_count", "last_accessed_at")]
_UPDATE_MEMORY = (f"UPDATE memories SET {', '.join(f'{c} = %s' for c in _UPDATABLE)} "
                  "WHERE id = %s AND user_id = %s")
_HISTORY_COLUMNS = ("id", "memory_id", "user_id", "event", "old_text", "new_text", "actor",
                    "created_at", "details")


async def fetch(conn: Conn, sql: str, params: Any = ()) -> list[dict]:
    return await (await conn.execute(sql, params)).fetchall()


async def fetch_one(conn: Conn, sql: str, params: Any = ()) -> dict | None:
    return await (await conn.execute(sql, params)).fetchone()


# reads -------------------------------------------------------------------------------
async def load_memories(conn: Conn, user_id: str, ids: list[str]) -> dict[str, Memory]:
    rows = await fetch(conn, f"{MEMORY_SELECT} WHERE m.user_id = %s AND m.id = ANY(%s)",
                       (user_id, list(ids)))
    found = {row["id"]: row_to_memory(row) for row in rows}
    await fill_entities(conn, list(found.values()))
    return {i: found[i] for i in dict.fromkeys(ids) if i in found}


async def fill_entities(conn: Conn, memories: list[Memory]) -> None:
    by_id = {m.id: m for m in memories}
    for memory in memories:
        memory.entities = []
    if not by_id:
        return
    rows = await fetch(conn, "SELECT me.memory_id, e.name FROM memory_entities me JOIN "
                       "entities e ON e.id = me.entity_id WHERE me.memory_id = ANY(%s) "
                       "ORDER BY me.memory_id, me.pos", (list(by_id),))
    for row in rows:
        by_id[row["memory_id"]].entities.append(row["name"])


async def find_memory(conn: Conn, user_id: str, client_id: str | None,
                      content_hash: str | None) -> Memory | None:
    row = None
    if client_id is not None:
        row = await fetch_one(conn, f"{MEMORY_SELECT} WHERE m.user_id = %s AND "
                              "m.client_id = %s", (user_id, client_id))
    if row is None and content_hash:
        row = await fetch_one(
            conn, f"{MEMORY_SELECT} WHERE m.user_id = %s AND m.content_hash = %s "
            "ORDER BY m.valid_until IS NULL DESC, m.created_at DESC LIMIT 1",
            (user_id, content_hash))
    if row is None:
        return None
    memory = row_to_memory(row)
    await fill_entities(conn, [memory])
    return memory


async def list_memories(conn: Conn, user_id: str, flt: MemoryFilter, limit: int, offset: int,
                        newest_first: bool) -> tuple[list[Memory], int]:
    where, params = filter_sql(flt)
    order = "DESC" if newest_first else "ASC"
    rows = await fetch(conn, f"{MEMORY_SELECT} WHERE m.user_id = %s AND {where} "
                       f"ORDER BY m.event_at {order}, m.id {order} LIMIT %s OFFSET %s",
                       (user_id, *params, max(limit, 0), max(offset, 0)))
    total = (await fetch_one(conn, f"SELECT count(*) AS n FROM memories m WHERE "
                             f"m.user_id = %s AND {where}", (user_id, *params)))["n"]
    memories = [row_to_memory(row) for row in rows]
    await fill_entities(conn, memories)
    return memories, total


async def memory_history(conn: Conn, user_id: str, memory_id: str) -> list[HistoryEntry]:
    rows = await fetch(conn, f"SELECT {select_list(_HISTORY_COLUMNS)} FROM history "
                       "WHERE user_id = %s AND memory_id = %s ORDER BY seq",
                       (user_id, memory_id))
    return [row_to_history(row) for row in rows]


# writes ------------------------------------------------------------------------------
async def insert_memory(conn: Conn, memory: Memory, chunks: list[Chunk],
                        mentions: list[EntityMention], actor: str) -> Memory:
    try:
        async with conn.transaction():  # a savepoint: the conflict leaves the rest usable
            await conn.execute(_INSERT_MEMORY, memory_params(memory))
    except psycopg.errors.UniqueViolation as exc:
        if memory.client_id is not None and "client" in str(exc.diag.constraint_name):
            raise errors.Conflict(f"client_id {memory.client_id!r} already used",
                                  param="client_id") from exc
        raise errors.Conflict(f"memory {memory.id} already exists") from exc
    await insert_chunks(conn, memory, chunks)
    await link_entities(conn, memory.user_id, memory.id, mentions)
    await add_history(conn, memory.user_id, memory.id, "ADD", None, memory.text, actor)
    return (await load_memories(conn, memory.user_id, [memory.id]))[memory.id]


async def update_memory(conn: Conn, memory: Memory, old_text: str, actor: str,
                        chunks: list[Chunk] | None, mentions: list[EntityMention] | None,
                        event: str = "UPDATE") -> Memory:
    values = dict(zip(MEMORY_COLUMNS, memory_params(memory)))
    try:
        async with conn.transaction():
            cur = await conn.execute(_UPDATE_MEMORY, (*(values[c] for c in _UPDATABLE),
                                                      memory.id, memory.user_id))
    except psycopg.errors.UniqueViolation as exc:
        raise errors.Conflict(f"client_id {memory.client_id!r} already used",
                              param="client_id") from exc
    if cur.rowcount == 0:
        raise errors.NotFound(f"memory {memory.id} not found")
    if chunks is not None:
        await conn.execute("DELETE FROM chunks WHERE memory_id = %s", (memory.id,))
        await insert_chunks(conn, memory, chunks)
    if mentions is not None:
        await unlink_entities(conn, memory.id)
        await link_entities(conn, memory.user_id, memory.id, mentions)
    await add_history(conn, memory.user_id, memory.id, event, old_text, memory.text, actor,
                      {"rechunked": chunks is not None, "relinked": mentions is not None})
    return (await load_memories(conn, memory.user_id, [memory.id]))[memory.id]


async def delete_memory(conn: Conn, user_id: str, memory_id: str, actor: str) -> bool:
    row = await fetch_one(conn, "SELECT text FROM memories WHERE id = %s AND user_id = %s "
                          "FOR UPDATE", (memory_id, user_id))
    if row is None:
        return False
    await unlink_entities(conn, memory_id)
    await conn.execute("DELETE FROM memories WHERE id = %s", (memory_id,))
    await add_history(conn, user_id, memory_id, "DELETE", row["text"], None, actor)
    return True


async def delete_all_memories(conn: Conn, user_id: str, actor: str) -> int:
    rows = await fetch(conn, "SELECT id, text FROM memories WHERE user_id = %s "
                       "ORDER BY event_at", (user_id,))
    for table in ("relations", "entities", "memories"):
        await conn.execute(f"DELETE FROM {table} WHERE user_id = %s", (user_id,))
    now = now_ts()
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO history (id, memory_id, user_id, event, old_text, new_text, actor, "
            "created_at, details) VALUES (%s, %s, %s, 'DELETE', %s, NULL, %s, %s, "
            "'{\"all\": true}')",
            [(uuid.uuid4().hex, r["id"], user_id, r["text"], actor, now) for r in rows])
    return len(rows)


async def delete_user_rows(conn: Conn, user_id: str) -> bool:
    existed = await fetch_one(conn, "SELECT 1 FROM users WHERE id = %s", (user_id,))
    for table in ("relations", "entities", "memories", "history", "conversations", "jobs"):
        await conn.execute(f"DELETE FROM {table} WHERE user_id = %s", (user_id,))
    await conn.execute("DELETE FROM users WHERE id = %s", (user_id,))
    return existed is not None


async def record_access(conn: Conn, user_id: str, ids: list[str], at: float) -> None:
    await conn.execute("UPDATE memories SET access_count = access_count + 1, "
                       "last_accessed_at = %s WHERE user_id = %s AND id = ANY(%s)",
                       (at, user_id, list(ids)))


async def insert_chunks(conn: Conn, memory: Memory, chunks: list[Chunk]) -> None:
    if not chunks:
        return
    async with conn.cursor() as cur:
        await cur.executemany(
            'INSERT INTO chunks (memory_id, user_id, idx, text, start, "end", vector) '
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(memory.id, memory.user_id, c.index, c.text, c.start, c.end,
              pg_vector(c.vector)) for c in chunks])


async def link_entities(conn: Conn, user_id: str, memory_id: str,
                        mentions: list[EntityMention]) -> None:
    """Upsert entities (first-seen name and label kept), link them, count co-occurrences.
    Entities are upserted in name order, so concurrent inserts lock them alike."""
    unique: dict[str, EntityMention] = {}
    for mention in mentions:
        key = norm_name(mention.name)
        if key and key not in unique:
            unique[key] = mention
    ids: dict[str, str] = {}
    for key in sorted(unique):
        mention = unique[key]
        row = await fetch_one(
            conn, "INSERT INTO entities (id, user_id, name, norm_name, label) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (user_id, norm_name) DO UPDATE SET "
            "label = CASE WHEN entities.label = '' THEN excluded.label "
            "ELSE entities.label END RETURNING id",
            (uuid.uuid4().hex, user_id, " ".join(mention.name.split()), key,
             mention.label or ""))
        ids[key] = row["id"]
    entity_ids = [ids[key] for key in unique]  # mention order
    if not entity_ids:
        return
    async with conn.cursor() as cur:
        await cur.executemany("INSERT INTO memory_entities (memory_id, entity_id, pos) "
                              "VALUES (%s, %s, %s)",
                              [(memory_id, eid, pos) for pos, eid in enumerate(entity_ids)])
        pairs = sorted((a, b) for a in entity_ids for b in entity_ids if a != b)
        await cur.executemany(
            "INSERT INTO relations (user_id, a_id, b_id, weight) VALUES (%s, %s, %s, 1) "
            "ON CONFLICT (a_id, b_id) DO UPDATE SET weight = relations.weight + 1",
            [(user_id, a, b) for a, b in pairs])


async def unlink_entities(conn: Conn, memory_id: str) -> None:
    """Undo link_entities: decrement co-occurrences, drop entities left without memories."""
    entity_ids = [r["entity_id"] for r in await fetch(
        conn, "SELECT entity_id FROM memory_entities WHERE memory_id = %s", (memory_id,))]
    if not entity_ids:
        return
    await conn.execute("UPDATE relations SET weight = weight - 1 "
                       "WHERE a_id = ANY(%s) AND b_id = ANY(%s)", (entity_ids, entity_ids))
    await conn.execute("DELETE FROM relations WHERE a_id = ANY(%s) AND weight <= 0",
                       (entity_ids,))
    await conn.execute("DELETE FROM memory_entities WHERE memory_id = %s", (memory_id,))
    await conn.execute("DELETE FROM entities WHERE id = ANY(%s) AND NOT EXISTS "
                       "(SELECT 1 FROM memory_entities me WHERE me.entity_id = entities.id)",
                       (entity_ids,))


async def add_history(conn: Conn, user_id: str, memory_id: str, event: str,
                      old_text: str | None, new_text: str | None, actor: str,
                      details: dict | None = None) -> None:
    await conn.execute(
        f"INSERT INTO history ({', '.join(_HISTORY_COLUMNS)}) "
        f"VALUES ({placeholders(len(_HISTORY_COLUMNS))})",
        (uuid.uuid4().hex, memory_id, user_id, event, old_text, new_text, actor, now_ts(),
         dump_json(details)))
