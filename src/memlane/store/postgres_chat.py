"""Conversation, message, summary and persona-chunk SQL of the PostgreSQL store. Every
function is scoped by user_id: another user's conversation is a missing one."""
from __future__ import annotations

import psycopg

from .. import errors
from ..domain import Chunk, Conversation, Message, Summary
from .postgres_memories import fetch, fetch_one
from .postgres_rows import placeholders, select_list
from .sqlite_chat import (
    _CONVERSATION_COLUMNS,
    _MESSAGE_COLUMNS,
    _SUMMARY_COLUMNS,
    _conversation_params,
    _message_params,
    _row_to_chunk,
    _row_to_conversation,
    _row_to_message,
    _row_to_summary,
)
from .sqlite_rows import dump_json, to_ts, vector_blob

Conn = psycopg.AsyncConnection
_CONVERSATIONS = f"SELECT {select_list(_CONVERSATION_COLUMNS)} FROM conversations"
_MESSAGES = f"SELECT {select_list(_MESSAGE_COLUMNS)} FROM messages"
_SUMMARIES = f"SELECT {select_list(_SUMMARY_COLUMNS)} FROM summaries"
_CHUNKS = 'SELECT idx, text, start, "end", vector FROM persona_chunks'


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders(len(columns))})"


async def _insert(conn: Conn, sql: str, params: tuple, what: str) -> None:
    try:
        async with conn.transaction():
            await conn.execute(sql, params)
    except psycopg.errors.UniqueViolation as exc:
        raise errors.Conflict(f"{what} already exists") from exc


async def _lock_conversation(conn: Conn, user_id: str, conversation_id: str) -> None:
    """The user's conversation, locked for this transaction (appends queue up on it)."""
    if await fetch_one(conn, "SELECT 1 FROM conversations WHERE id = %s AND user_id = %s "
                       "FOR UPDATE", (conversation_id, user_id)) is None:
        raise errors.NotFound(f"conversation {conversation_id} not found")


# conversations -----------------------------------------------------------------------
async def create_conversation(conn: Conn, conversation: Conversation) -> Conversation:
    await _insert(conn, _insert_sql("conversations", _CONVERSATION_COLUMNS),
                  _conversation_params(conversation), f"conversation {conversation.id}")
    return _row_to_conversation(await fetch_one(conn, f"{_CONVERSATIONS} WHERE id = %s",
                                                (conversation.id,)))


async def get_conversation(conn: Conn, user_id: str,
                           conversation_id: str) -> Conversation | None:
    row = await fetch_one(conn, f"{_CONVERSATIONS} WHERE id = %s AND user_id = %s",
                          (conversation_id, user_id))
    return _row_to_conversation(row) if row else None


async def list_conversations(conn: Conn, user_id: str, limit: int,
                             offset: int) -> tuple[list[Conversation], int]:
    rows = await fetch(conn, f"{_CONVERSATIONS} WHERE user_id = %s ORDER BY updated_at DESC, "
                       "id DESC LIMIT %s OFFSET %s", (user_id, max(limit, 0), max(offset, 0)))
    total = await fetch_one(conn, "SELECT count(*) AS n FROM conversations WHERE user_id = %s",
                            (user_id,))
    return [_row_to_conversation(r) for r in rows], total["n"]


async def update_conversation(conn: Conn, conversation: Conversation) -> Conversation:
    c = conversation
    cur = await conn.execute(
        "UPDATE conversations SET title = %s, persona = %s, agent = %s, metadata = %s, "
        "updated_at = %s WHERE id = %s AND user_id = %s",
        (c.title, c.persona, c.agent, dump_json(c.metadata), to_ts(c.updated_at), c.id,
         c.user_id))
    if cur.rowcount == 0:
        raise errors.NotFound(f"conversation {c.id} not found")
    return _row_to_conversation(await fetch_one(conn, f"{_CONVERSATIONS} WHERE id = %s",
                                                (c.id,)))


async def delete_conversation(conn: Conn, user_id: str, conversation_id: str) -> bool:
    cur = await conn.execute("DELETE FROM conversations WHERE id = %s AND user_id = %s",
                             (conversation_id, user_id))
    return cur.rowcount > 0


# messages ----------------------------------------------------------------------------
async def add_message(conn: Conn, message: Message) -> Message:
    await _lock_conversation(conn, message.user_id, message.conversation_id)
    seq = (await fetch_one(conn, "SELECT coalesce(max(seq), 0) + 1 AS seq FROM messages "
                           "WHERE conversation_id = %s", (message.conversation_id,)))["seq"]
    await _insert(conn, _insert_sql("messages", _MESSAGE_COLUMNS),
                  _message_params(message, seq), f"message {message.id}")
    await conn.execute("UPDATE conversations SET updated_at = %s WHERE id = %s",
                       (to_ts(message.created_at), message.conversation_id))
    return _row_to_message(await fetch_one(conn, f"{_MESSAGES} WHERE id = %s", (message.id,)))


async def list_messages(conn: Conn, user_id: str, conversation_id: str, limit: int | None,
                        last: bool, after_seq: int, upto_seq: int | None) -> list[Message]:
    if limit is not None and limit <= 0:
        return []
    order = "DESC" if last and limit is not None else "ASC"
    rows = await fetch(
        conn, f"{_MESSAGES} WHERE conversation_id = %s AND user_id = %s AND seq > %s "
        f"AND (%s::int IS NULL OR seq <= %s) ORDER BY seq {order} LIMIT %s",
        (conversation_id, user_id, after_seq, upto_seq, upto_seq, limit))
    messages = [_row_to_message(r) for r in rows]
    return messages[::-1] if order == "DESC" else messages


async def emotion_timeline(conn: Conn, user_id: str, conversation_id: str | None,
                           emotion: str | None, since: float | None, until: float | None,
                           limit: int) -> list[Message]:
    where, params = ["user_id = %s", "role = 'user'", "emotion IS NOT NULL"], [user_id]
    for clause, value in (("conversation_id = %s", conversation_id), ("emotion = %s", emotion),
                          ("created_at >= %s", since), ("created_at <= %s", until)):
        if value is not None:
            where.append(clause)
            params.append(value)
    rows = await fetch(conn, f"{_MESSAGES} WHERE {' AND '.join(where)} "
                       "ORDER BY created_at DESC, seq DESC LIMIT %s", (*params, max(limit, 0)))
    return [_row_to_message(r) for r in reversed(rows)]


async def count_messages(conn: Conn, user_id: str, conversation_id: str) -> int:
    row = await fetch_one(conn, "SELECT count(*) AS n FROM messages WHERE conversation_id = %s "
                          "AND user_id = %s", (conversation_id, user_id))
    return row["n"]


# summaries ---------------------------------------------------------------------------
async def add_summary(conn: Conn, summary: Summary) -> Summary:
    s = summary
    await _lock_conversation(conn, s.user_id, s.conversation_id)
    await _insert(conn, _insert_sql("summaries", _SUMMARY_COLUMNS),
                  (s.id, s.conversation_id, s.user_id, s.text, int(s.upto_seq),
                   to_ts(s.created_at)), f"summary {s.id}")
    return _row_to_summary(await fetch_one(conn, f"{_SUMMARIES} WHERE id = %s", (s.id,)))


async def latest_summary(conn: Conn, user_id: str, conversation_id: str) -> Summary | None:
    row = await fetch_one(conn, f"{_SUMMARIES} WHERE conversation_id = %s AND user_id = %s "
                          "ORDER BY upto_seq DESC, created_at DESC, seq DESC LIMIT 1",
                          (conversation_id, user_id))
    return _row_to_summary(row) if row else None


# persona chunks ----------------------------------------------------------------------
async def replace_persona_chunks(conn: Conn, user_id: str, conversation_id: str,
                                 chunks: list[Chunk]) -> None:
    await _lock_conversation(conn, user_id, conversation_id)
    await conn.execute("DELETE FROM persona_chunks WHERE conversation_id = %s",
                       (conversation_id,))
    if chunks:
        async with conn.cursor() as cur:
            await cur.executemany(
                'INSERT INTO persona_chunks (conversation_id, user_id, idx, text, start, "end", '
                "vector) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [(conversation_id, user_id, c.index, c.text, c.start, c.end,
                  vector_blob(c.vector)) for c in chunks])


async def persona_chunks(conn: Conn, user_id: str, conversation_id: str) -> list[Chunk]:
    rows = await fetch(conn, f"{_CHUNKS} WHERE conversation_id = %s AND user_id = %s "
                       "ORDER BY idx", (conversation_id, user_id))
    return [_row_to_chunk(r) for r in rows]
