"""The PostgreSQL store (pgvector), for a team: any number of stateless replicas share one
database. psycopg 3 with an async connection pool; every call is one transaction on a
pooled connection. Jobs are claimed with FOR UPDATE SKIP LOCKED and leased; small shared
state (rate-limit buckets, sign-in failures) lives in a table, so replicas agree on it.

Needs the ``postgres`` extra: ``pip install 'memlane[postgres]'``.
"""
from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import numpy as np

from .. import errors
from ..domain import (
    AnalyticsRecord,
    ApiKey,
    Chunk,
    Conversation,
    Entity,
    EntityMention,
    HistoryEntry,
    Hit,
    Job,
    JobStatus,
    Memory,
    MemoryFilter,
    Message,
    Summary,
    User,
)
from .base import Store
from .sqlite_rows import from_ts, now_ts, to_ts

try:
    import psycopg
    from pgvector.psycopg import register_vector_async
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool
except ImportError as exc:  # pragma: no cover - exercised by the optional-extra test
    raise ImportError("the PostgreSQL store needs the 'postgres' extra: "
                      "pip install 'memlane[postgres]'") from exc

from . import postgres_chat as chat
from . import postgres_jobs as jobs
from . import postgres_memories as mem
from . import postgres_search as search
from . import postgres_users as users
from .postgres_migrations import apply_migrations

T = TypeVar("T")
KEY_USE_RESOLUTION = 60.0  # seconds; last_used_at is rewritten at most this often


class PostgresStore(Store):
    name: ClassVar[str] = "postgres"
    shared: ClassVar[bool] = True

    def __init__(self, url: str, *, pool_size: int = 10, job_lease_s: float = 60.0):
        self.url, self.pool_size, self.job_lease_s = url, pool_size, job_lease_s
        self._pool: AsyncConnectionPool | None = None

    # plumbing ----------------------------------------------------------------------------
    async def _tx(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        if self._pool is None:
            raise errors.Unavailable("the PostgreSQL store is not open")
        try:
            async with self._pool.connection() as conn, conn.transaction():
                return await fn(conn, *args)
        except (psycopg.OperationalError, psycopg.errors.SerializationFailure,
                psycopg.errors.DeadlockDetected) as exc:
            raise errors.Unavailable(f"the database is unavailable; retry shortly ({exc})"
                                     ) from exc

    async def _configure(self, conn: psycopg.AsyncConnection) -> None:
        await register_vector_async(conn)
        conn.row_factory = dict_row

    # lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        if self._pool is not None:
            return
        await self._migrate()
        pool = AsyncConnectionPool(self.url, min_size=1, max_size=self.pool_size, open=False,
                                   kwargs={"autocommit": True}, configure=self._configure)
        try:
            await pool.open(wait=True, timeout=30)
        except Exception as exc:
            await pool.close()
            raise errors.Unavailable(f"cannot reach PostgreSQL: {exc}") from exc
        self._pool = pool

    async def _migrate(self) -> None:
        try:
            async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                await apply_migrations(conn)
        except psycopg.OperationalError as exc:
            raise errors.Unavailable(f"cannot reach PostgreSQL: {exc}") from exc

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    async def ping(self) -> bool:
        try:
            return await self._tx(lambda c: mem.fetch_one(c, "SELECT 1 AS one")) is not None
        except (errors.MemlaneError, psycopg.Error):
            return False

    # users and API keys --------------------------------------------------------------------
    async def create_user(self, name: str, *, is_admin: bool = False,
                          user_id: str | None = None) -> User:
        user = User(id=user_id or uuid.uuid4().hex, name=name, is_admin=is_admin)
        return await self._tx(users.insert_user, user)

    async def get_user(self, user_id: str) -> User | None:
        return await self._tx(users.one_user, "id", user_id)

    async def get_user_by_name(self, name: str) -> User | None:
        return await self._tx(users.one_user, "name", name)

    async def list_users(self) -> list[User]:
        return await self._tx(users.list_users)

    async def update_user(self, user_id: str, **changes: Any) -> User | None:
        return await self._tx(users.update_user, user_id, changes)

    async def password_hash(self, user_id: str) -> str | None:
        return await self._tx(users.password_hash, user_id)

    async def delete_user(self, user_id: str) -> bool:
        return await self._tx(mem.delete_user_rows, user_id)

    async def add_api_key(self, user_id: str, *, name: str, prefix: str,
                          key_hash: str) -> ApiKey:
        key = ApiKey(id=uuid.uuid4().hex, user_id=user_id, name=name, prefix=prefix)
        return await self._tx(users.insert_key, key, key_hash)

    async def user_for_key_hash(self, key_hash: str) -> tuple[User, ApiKey] | None:
        found = await self._tx(users.key_owner, key_hash)
        if found is None:
            return None
        user, key = found
        now = now_ts()
        if key.last_used_at is None or now - to_ts(key.last_used_at) >= KEY_USE_RESOLUTION:
            await self._tx(lambda c: c.execute(
                "UPDATE api_keys SET last_used_at = %s WHERE id = %s", (now, key.id)))
            key.last_used_at = from_ts(now)
        return user, key

    async def list_api_keys(self, user_id: str | None = None) -> list[ApiKey]:
        return await self._tx(users.list_keys, user_id)

    async def revoke_api_key(self, key_id: str) -> bool:
        async def revoke(conn) -> bool:
            cur = await conn.execute("UPDATE api_keys SET revoked = true WHERE id = %s",
                                     (key_id,))
            return cur.rowcount > 0
        return await self._tx(revoke)

    # memories ------------------------------------------------------------------------------
    async def insert_memory(self, memory: Memory, chunks: list[Chunk],
                            mentions: list[EntityMention], *, actor: str) -> Memory:
        return await self._tx(mem.insert_memory, memory, chunks, mentions, actor)

    async def get_memory(self, user_id: str, memory_id: str) -> Memory | None:
        return (await self._tx(mem.load_memories, user_id, [memory_id])).get(memory_id)

    async def get_memories(self, user_id: str, memory_ids: list[str]) -> dict[str, Memory]:
        if not memory_ids:
            return {}
        return await self._tx(mem.load_memories, user_id, list(memory_ids))

    async def find_memory(self, user_id: str, *, client_id: str | None = None,
                          content_hash: str | None = None) -> Memory | None:
        if client_id is None and not content_hash:
            return None
        return await self._tx(mem.find_memory, user_id, client_id, content_hash)

    async def list_memories(self, user_id: str, flt: MemoryFilter, *, limit: int,
                            offset: int = 0, newest_first: bool = True
                            ) -> tuple[list[Memory], int]:
        return await self._tx(mem.list_memories, user_id, flt, limit, offset, newest_first)

    async def update_memory(self, memory: Memory, *, old_text: str, actor: str,
                            chunks: list[Chunk] | None = None,
                            mentions: list[EntityMention] | None = None,
                            event: str = "UPDATE") -> Memory:
        return await self._tx(mem.update_memory, memory, old_text, actor, chunks, mentions,
                              event)

    async def delete_memory(self, user_id: str, memory_id: str, *, actor: str) -> bool:
        return await self._tx(mem.delete_memory, user_id, memory_id, actor)

    async def delete_all_memories(self, user_id: str, *, actor: str) -> int:
        return await self._tx(mem.delete_all_memories, user_id, actor)

    async def memory_history(self, user_id: str, memory_id: str) -> list[HistoryEntry]:
        return await self._tx(mem.memory_history, user_id, memory_id)

    async def record_access(self, user_id: str, memory_ids: list[str], at: datetime) -> None:
        if memory_ids:
            await self._tx(mem.record_access, user_id, list(memory_ids), to_ts(at))

    # search primitives ---------------------------------------------------------------------
    async def keyword_search(self, user_id: str, terms: list[str], flt: MemoryFilter,
                             limit: int) -> list[Hit]:
        return await self._tx(search.keyword_search, user_id, list(terms), flt, limit)

    async def vector_search(self, user_id: str, vector: np.ndarray, flt: MemoryFilter,
                            limit: int) -> list[Hit]:
        return await self._tx(search.vector_search, user_id, vector, flt, limit)

    async def vector_scores(self, user_id: str, vector: np.ndarray,
                            memory_ids: list[str]) -> dict[str, float]:
        return await self._tx(search.vector_scores, user_id, vector, list(memory_ids))

    async def neighbours(self, user_id: str, memory_ids: list[str], *, window: int,
                         max_gap_s: float) -> dict[str, list[str]]:
        return await self._tx(search.neighbours, user_id, list(memory_ids), window, max_gap_s)

    async def entity_search(self, user_id: str, names: list[str], flt: MemoryFilter,
                            limit: int, *, related: bool = True) -> list[Hit]:
        return await self._tx(search.entity_search, user_id, list(names), flt, limit, related)

    async def list_entities(self, user_id: str, *, query: str | None = None,
                            limit: int = 100, offset: int = 0) -> list[Entity]:
        return await self._tx(search.list_entities, user_id, query, limit, offset)

    # conversations, messages, summaries, personas ------------------------------------------
    async def create_conversation(self, conversation: Conversation) -> Conversation:
        return await self._tx(chat.create_conversation, conversation)

    async def get_conversation(self, user_id: str, conversation_id: str
                               ) -> Conversation | None:
        return await self._tx(chat.get_conversation, user_id, conversation_id)

    async def list_conversations(self, user_id: str, *, limit: int, offset: int = 0
                                 ) -> tuple[list[Conversation], int]:
        return await self._tx(chat.list_conversations, user_id, limit, offset)

    async def update_conversation(self, conversation: Conversation) -> Conversation:
        return await self._tx(chat.update_conversation, conversation)

    async def delete_conversation(self, user_id: str, conversation_id: str) -> bool:
        return await self._tx(chat.delete_conversation, user_id, conversation_id)

    async def add_message(self, message: Message) -> Message:
        return await self._tx(chat.add_message, message)

    async def list_messages(self, user_id: str, conversation_id: str, *,
                            limit: int | None = None, last: bool = False,
                            after_seq: int = 0, upto_seq: int | None = None
                            ) -> list[Message]:
        return await self._tx(chat.list_messages, user_id, conversation_id, limit, last,
                              after_seq, upto_seq)

    async def emotion_timeline(self, user_id: str, *, conversation_id: str | None = None,
                               emotion: str | None = None, since: datetime | None = None,
                               until: datetime | None = None, limit: int = 500
                               ) -> list[Message]:
        return await self._tx(chat.emotion_timeline, user_id, conversation_id, emotion,
                              to_ts(since), to_ts(until), limit)

    async def count_messages(self, user_id: str, conversation_id: str) -> int:
        return await self._tx(chat.count_messages, user_id, conversation_id)

    async def add_summary(self, summary: Summary) -> Summary:
        return await self._tx(chat.add_summary, summary)

    async def latest_summary(self, user_id: str, conversation_id: str) -> Summary | None:
        return await self._tx(chat.latest_summary, user_id, conversation_id)

    async def replace_persona_chunks(self, user_id: str, conversation_id: str,
                                     chunks: list[Chunk]) -> None:
        await self._tx(chat.replace_persona_chunks, user_id, conversation_id, list(chunks))

    async def persona_chunks(self, user_id: str, conversation_id: str) -> list[Chunk]:
        return await self._tx(chat.persona_chunks, user_id, conversation_id)

    # durable jobs --------------------------------------------------------------------------
    async def enqueue_job(self, job: Job) -> Job:
        return await self._tx(jobs.enqueue_job, job)

    async def claim_job(self, now: datetime) -> Job | None:
        return await self._tx(jobs.claim_job, to_ts(now), self.job_lease_s)

    async def renew_lease(self, job_id: str) -> None:
        await self._tx(jobs.renew_lease, job_id)

    async def finish_job(self, job_id: str, *, result: dict | None = None) -> None:
        await self._tx(jobs.finish_job, job_id, result)

    async def fail_job(self, job_id: str, error: str, *, retry_at: datetime | None) -> None:
        await self._tx(jobs.fail_job, job_id, error, to_ts(retry_at))

    async def requeue_running_jobs(self) -> int:
        return await self._tx(jobs.requeue_running_jobs, self.job_lease_s)

    async def get_job(self, job_id: str) -> Job | None:
        return await self._tx(jobs.get_job, job_id)

    async def list_jobs(self, *, user_id: str | None = None,
                        status: JobStatus | None = None, limit: int = 100) -> list[Job]:
        return await self._tx(jobs.list_jobs, user_id, status, limit)

    async def job_counts(self) -> dict[str, int]:
        return await self._tx(jobs.job_counts)

    async def add_refresh_token(self, jti: str, user_id: str, expires_at: float) -> None:
        await self._tx(lambda c: c.execute(
            "INSERT INTO refresh_tokens (jti, user_id, expires_at) VALUES (%s, %s, %s)",
            (jti, user_id, expires_at)))

    async def use_refresh_token(self, jti: str, now: float) -> str | None:
        return await self._tx(users.use_refresh_token, jti, now)

    async def memory_count(self) -> int:
        row = await self._tx(mem.fetch_one, "SELECT count(*) AS n FROM memories")
        return row["n"]

    # analytics -----------------------------------------------------------------------------
    async def add_analytics(self, records: list[AnalyticsRecord]) -> int:
        return await self._tx(users.add_records, list(records)) if records else 0

    async def analytics_records(self, user_id: str | None, *, since: datetime | None = None,
                                until: datetime | None = None,
                                conversation_id: str | None = None,
                                limit: int | None = None) -> list[AnalyticsRecord]:
        return await self._tx(users.analytics_records, user_id, to_ts(since), to_ts(until),
                              conversation_id, limit)

    async def prune_analytics(self, before: datetime) -> int:
        async def prune(conn) -> int:
            return (await conn.execute("DELETE FROM analytics WHERE at < %s",
                                       (to_ts(before),))).rowcount
        return await self._tx(prune)

    # shared state --------------------------------------------------------------------------
    async def update_state(self, key: str, fn: Callable[[Any], tuple[Any, Any]], *,
                           ttl_s: float) -> Any:
        return await self._tx(users.update_state, key, fn, ttl_s)

    async def prune_state(self) -> int:
        return await self._tx(users.prune_state)
