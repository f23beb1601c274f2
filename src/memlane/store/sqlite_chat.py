"""Synchronous conversation, message, summary and persona-chunk SQL. Write functions run on
the writer thread inside its transaction; read functions on a reader connection.

Every function is scoped by user_id: another user's conversation is a missing one.
Messages, summaries and persona chunks cascade with their conversation (foreign keys on).
"""
from __future__ import annotations

import json
import sqlite3
import sys

from .. import errors
from ..domain import Chunk, Conversation, Message, Role, Summary
from .sqlite_rows import blob_vector, dump_json, from_ts, to_ts, vector_blob

_CONVERSATION_COLUMNS = ("id", "user_id", "title", "persona", "agent", "created_at",
                         "updated_at", "metadata")
_MESSAGE_COLUMNS = ("id", "conversation_id", "user_id", "seq", "role", "content",
                    "created_at", "tokens", "emotion", "importance", "metadata", "vector")
_SUMMARY_COLUMNS = ("id", "conversation_id", "user_id", "text", "upto_seq", "created_at")


def _insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})")


# row conversion ----------------------------------------------------------------------
def _conversation_params(c: Conversation) -> tuple:
    return (c.id, c.user_id, c.title, c.persona, c.agent, to_ts(c.created_at),
            to_ts(c.updated_at), dump_json(c.metadata))


def _row_to_conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(id=row["id"], user_id=row["user_id"], title=row["title"],
                        persona=row["persona"], agent=row["agent"],
                        created_at=from_ts(row["created_at"]),
                        updated_at=from_ts(row["updated_at"]),
                        metadata=json.loads(row["metadata"]))


def _message_params(m: Message, seq: int) -> tuple:
    return (m.id, m.conversation_id, m.user_id, seq, str(m.role), m.content,
            to_ts(m.created_at), int(m.tokens), m.emotion, float(m.importance),
            dump_json(m.metadata), vector_blob(m.vector))


def _row_to_message(row: sqlite3.Row) -> Message:
    return Message(id=row["id"], conversation_id=row["conversation_id"],
                   user_id=row["user_id"], role=Role(row["role"]), content=row["content"],
                   created_at=from_ts(row["created_at"]), seq=row["seq"],
                   tokens=row["tokens"], emotion=row["emotion"],
                   importance=row["importance"], metadata=json.loads(row["metadata"]),
                   vector=blob_vector(row["vector"]))


def _row_to_summary(row: sqlite3.Row) -> Summary:
    return Summary(id=row["id"], conversation_id=row["conversation_id"],
                   user_id=row["user_id"], text=row["text"], upto_seq=row["upto_seq"],
                   created_at=from_ts(row["created_at"]))


def _row_to_chunk(row: sqlite3.Row) -> Chunk:
    return Chunk(index=row["idx"], text=row["text"], start=row["start"], end=row["end"],
                 vector=blob_vector(row["vector"]))


def _by_id(conn: sqlite3.Connection, table: str, row_id: str) -> sqlite3.Row:
    return conn.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()


def _require_conversation(conn: sqlite3.Connection, user_id: str,
                          conversation_id: str) -> None:
    if conn.execute("SELECT 1 FROM conversations WHERE id = ? AND user_id = ?",
                    (conversation_id, user_id)).fetchone() is None:
        raise errors.NotFound(f"conversation {conversation_id} not found")


def _insert(conn: sqlite3.Connection, sql: str, params: tuple, what: str) -> None:
    try:
        conn.execute(sql, params)
    except sqlite3.IntegrityError as exc:
        raise errors.Conflict(f"{what} already exists") from exc


# conversations -----------------------------------------------------------------------
def create_conversation(conn: sqlite3.Connection, conversation: Conversation) -> Conversation:
    _insert(conn, _insert_sql("conversations", _CONVERSATION_COLUMNS),
            _conversation_params(conversation), f"conversation {conversation.id}")
    return _row_to_conversation(_by_id(conn, "conversations", conversation.id))


def get_conversation(conn: sqlite3.Connection, user_id: str,
                     conversation_id: str) -> Conversation | None:
    row = conn.execute("SELECT * FROM conversations WHERE id = ? AND user_id = ?",
                       (conversation_id, user_id)).fetchone()
    return _row_to_conversation(row) if row else None


def list_conversations(conn: sqlite3.Connection, user_id: str, limit: int,
                       offset: int) -> tuple[list[Conversation], int]:
    rows = conn.execute("SELECT * FROM conversations WHERE user_id = ? "
                        "ORDER BY updated_at DESC, id DESC LIMIT ? OFFSET ?",
                        (user_id, max(limit, 0), max(offset, 0)))
    total = conn.execute("SELECT count(*) FROM conversations WHERE user_id = ?",
                         (user_id,)).fetchone()[0]
    return [_row_to_conversation(r) for r in rows], total


def update_conversation(conn: sqlite3.Connection, conversation: Conversation) -> Conversation:
    c = conversation
    cur = conn.execute("UPDATE conversations SET title = ?, persona = ?, agent = ?, "
                       "metadata = ?, updated_at = ? WHERE id = ? AND user_id = ?",
                       (c.title, c.persona, c.agent, dump_json(c.metadata),
                        to_ts(c.updated_at), c.id, c.user_id))
    if cur.rowcount == 0:
        raise errors.NotFound(f"conversation {c.id} not found")
    return _row_to_conversation(_by_id(conn, "conversations", c.id))


def delete_conversation(conn: sqlite3.Connection, user_id: str, conversation_id: str) -> bool:
    return conn.execute("DELETE FROM conversations WHERE id = ? AND user_id = ?",
                        (conversation_id, user_id)).rowcount > 0


def delete_user_rows(conn: sqlite3.Connection, user_id: str) -> None:
    """Every conversation of the user, with its messages, summaries and persona chunks."""
    conn.execute("DELETE FROM conversations WHERE user_id = ?", (user_id,))


# messages ----------------------------------------------------------------------------
def add_message(conn: sqlite3.Connection, message: Message) -> Message:
    _require_conversation(conn, message.user_id, message.conversation_id)
    seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM messages "
                       "WHERE conversation_id = ?", (message.conversation_id,)).fetchone()[0]
    _insert(conn, _insert_sql("messages", _MESSAGE_COLUMNS), _message_params(message, seq),
            f"message {message.id}")
    conn.execute("UPDATE conversations SET updated_at = ? WHERE id = ?",
                 (to_ts(message.created_at), message.conversation_id))
    return _row_to_message(_by_id(conn, "messages", message.id))


def list_messages(conn: sqlite3.Connection, user_id: str, conversation_id: str,
                  limit: int | None, last: bool, after_seq: int,
                  upto_seq: int | None) -> list[Message]:
    """after_seq < seq <= upto_seq, oldest first; the first or (``last``) final ``limit``."""
    if limit is not None and limit <= 0:
        return []
    order = "DESC" if last and limit is not None else "ASC"
    rows = conn.execute(
        "SELECT * FROM messages WHERE conversation_id = ? AND user_id = ? "
        f"AND seq > ? AND seq <= ? ORDER BY seq {order} LIMIT ?",
        (conversation_id, user_id, after_seq, sys.maxsize if upto_seq is None else upto_seq,
         -1 if limit is None else limit)).fetchall()
    messages = [_row_to_message(r) for r in rows]
    return messages[::-1] if order == "DESC" else messages


def emotion_timeline(conn: sqlite3.Connection, user_id: str, conversation_id: str | None,
                     emotion: str | None, since: float | None, until: float | None,
                     limit: int) -> list[Message]:
    """The user's own messages that carry an emotion, oldest first (the last ``limit``)."""
    where, params = ["user_id = ?", "role = 'user'", "emotion IS NOT NULL"], [user_id]
    for clause, value in (("conversation_id = ?", conversation_id), ("emotion = ?", emotion),
                          ("created_at >= ?", since), ("created_at <= ?", until)):
        if value is not None:
            where.append(clause)
            params.append(value)
    rows = conn.execute(f"SELECT * FROM messages WHERE {' AND '.join(where)} "
                        "ORDER BY created_at DESC, seq DESC LIMIT ?",
                        (*params, max(limit, 0))).fetchall()
    return [_row_to_message(r) for r in reversed(rows)]


def count_messages(conn: sqlite3.Connection, user_id: str, conversation_id: str) -> int:
    return conn.execute("SELECT count(*) FROM messages WHERE conversation_id = ? "
                        "AND user_id = ?", (conversation_id, user_id)).fetchone()[0]


# summaries ---------------------------------------------------------------------------
def add_summary(conn: sqlite3.Connection, summary: Summary) -> Summary:
    s = summary
    _require_conversation(conn, s.user_id, s.conversation_id)
    _insert(conn, _insert_sql("summaries", _SUMMARY_COLUMNS),
            (s.id, s.conversation_id, s.user_id, s.text, int(s.upto_seq),
             to_ts(s.created_at)), f"summary {s.id}")
    return _row_to_summary(_by_id(conn, "summaries", s.id))


def latest_summary(conn: sqlite3.Connection, user_id: str,
                   conversation_id: str) -> Summary | None:
    """Highest upto_seq; among equals the newest."""
    row = conn.execute("SELECT * FROM summaries WHERE conversation_id = ? AND user_id = ? "
                       "ORDER BY upto_seq DESC, created_at DESC, rowid DESC LIMIT 1",
                       (conversation_id, user_id)).fetchone()
    return _row_to_summary(row) if row else None


# persona chunks ----------------------------------------------------------------------
def replace_persona_chunks(conn: sqlite3.Connection, user_id: str, conversation_id: str,
                           chunks: list[Chunk]) -> None:
    _require_conversation(conn, user_id, conversation_id)
    conn.execute("DELETE FROM persona_chunks WHERE conversation_id = ?", (conversation_id,))
    conn.executemany(
        "INSERT INTO persona_chunks (conversation_id, user_id, idx, text, start, \"end\", "
        "vector) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(conversation_id, user_id, c.index, c.text, c.start, c.end, vector_blob(c.vector))
         for c in chunks])


def persona_chunks(conn: sqlite3.Connection, user_id: str,
                   conversation_id: str) -> list[Chunk]:
    rows = conn.execute("SELECT * FROM persona_chunks WHERE conversation_id = ? "
                        "AND user_id = ? ORDER BY idx", (conversation_id, user_id))
    return [_row_to_chunk(r) for r in rows]
