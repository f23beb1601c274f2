"""The default store: one SQLite file in WAL mode.

Every write is a function run by one writer thread inside BEGIN IMMEDIATE ... COMMIT on the
writer's connection; the calling coroutine awaits a future resolved after the commit
(datasette's ``_send_to_write_thread``). Reads run on two reader threads, each with its own
connection, one read transaction (one snapshot) per call.
"""
from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
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
from . import sqlite_analytics as analytics
from . import sqlite_chat as chat
from . import sqlite_jobs as jobs
from . import sqlite_keyword as keyword
from . import sqlite_memories as mem
from . import sqlite_search as search
from . import sqlite_state as state
from . import sqlite_users as users
from .base import Store
from .migrations import apply_migrations
from .sqlite_rows import from_ts, now_ts, row_to_user, to_ts

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000
READER_THREADS = 2
KEY_USE_RESOLUTION = 60.0  # seconds; last_used_at is rewritten at most this often


def connect(path: Path, *, reader: bool = False) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                           timeout=BUSY_TIMEOUT_MS / 1000)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    if reader:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
    return conn


class _WriteThread:
    """Runs queued write functions one at a time, one transaction each."""

    def __init__(self, path: Path):
        self._path = path
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="memlane-sqlite-writer",
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Blocking: finishes the queued writes, then closes the connection."""
        self._queue.put(None)
        self._thread.join()

    async def submit(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.put((fn, loop, future))
        return await future

    def _run(self) -> None:
        try:
            conn, failure = connect(self._path), None
        except Exception as exc:
            conn, failure = None, exc
        while (item := self._queue.get()) is not None:
            fn, loop, future = item
            if failure is not None:
                _resolve(loop, future, None, failure)
                continue
            try:
                conn.execute("BEGIN IMMEDIATE")
                result = fn(conn)
                conn.execute("COMMIT")
            except BaseException as exc:
                _rollback(conn)
                _resolve(loop, future, None, _translate(exc))
            else:
                _resolve(loop, future, result, None)
        if conn is not None:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("PRAGMA optimize")
            conn.close()


def _rollback(conn: sqlite3.Connection) -> None:
    """Never lets a failed rollback kill the writer thread (callers would hang)."""
    with contextlib.suppress(sqlite3.Error):
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _translate(exc: BaseException) -> BaseException:
    """Another process holding the write lock past busy_timeout is a 503, not a 500."""
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
        return errors.Unavailable("the database is busy; retry shortly")
    return exc


def _resolve(loop: asyncio.AbstractEventLoop, future: asyncio.Future, result: Any,
             exc: BaseException | None) -> None:
    def settle() -> None:
        if future.done():  # the caller was cancelled; the write still happened
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)
    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the caller's loop is closed
        pass


class SQLiteStore(Store):
    name: ClassVar[str] = "sqlite"

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._writer: _WriteThread | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._vectors = search.VectorCache()

    # plumbing ----------------------------------------------------------------------------
    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        if self._writer is None:
            raise errors.Unavailable("the SQLite store is not open")
        return await self._writer.submit(lambda conn: fn(conn, *args))

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        if self._readers is None:
            raise errors.Unavailable("the SQLite store is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self._run_read, fn, args)

    def _run_read(self, fn: Callable[..., T], args: tuple) -> T:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = connect(self.path, reader=True)
            with self._conns_lock:
                self._read_conns.append(conn)
        conn.execute("BEGIN")
        try:
            return fn(conn, *args)
        finally:
            _rollback(conn)

    # lifecycle ---------------------------------------------------------------------------
    async def open(self) -> None:
        if self._writer is not None:
            return
        await asyncio.to_thread(self.path.parent.mkdir, parents=True, exist_ok=True)
        self._writer = _WriteThread(self.path)
        self._writer.start()
        self._readers = ThreadPoolExecutor(READER_THREADS, "memlane-sqlite-read")
        try:
            await self._write(apply_migrations)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        writer, readers = self._writer, self._readers
        self._writer = self._readers = None
        if writer is not None:
            await asyncio.to_thread(writer.stop)
        if readers is not None:
            await asyncio.to_thread(readers.shutdown, wait=True)
        with self._conns_lock:
            conns, self._read_conns = self._read_conns, []
        for conn in conns:
            conn.close()
        self._local = threading.local()
        self._vectors.clear()

    async def ping(self) -> bool:
        try:
            return await self._read(lambda c: c.execute("SELECT 1").fetchone()[0] == 1)
        except (errors.MemlaneError, sqlite3.Error):
            return False

    # users and API keys --------------------------------------------------------------------
    async def create_user(self, name: str, *, is_admin: bool = False,
                          user_id: str | None = None) -> User:
        user = User(id=user_id or uuid.uuid4().hex, name=name, is_admin=is_admin)
        return await self._write(users.insert_user, user)

    async def get_user(self, user_id: str) -> User | None:
        return await self._read(users.one_user, "id", user_id)

    async def get_user_by_name(self, name: str) -> User | None:
        return await self._read(users.one_user, "name", name)

    async def list_users(self) -> list[User]:
        return await self._read(lambda c: [row_to_user(r) for r in c.execute(
            "SELECT * FROM users ORDER BY created_at, name")])

    async def update_user(self, user_id: str, **changes: Any) -> User | None:
        return await self._write(users.update_user, user_id, changes)

    async def password_hash(self, user_id: str) -> str | None:
        return await self._read(users.password_hash, user_id)

    async def delete_user(self, user_id: str) -> bool:
        return await self._write(users.delete_user, user_id)

    async def add_api_key(self, user_id: str, *, name: str, prefix: str,
                          key_hash: str) -> ApiKey:
        key = ApiKey(id=uuid.uuid4().hex, user_id=user_id, name=name, prefix=prefix)
        return await self._write(users.insert_key, key, key_hash)

    async def user_for_key_hash(self, key_hash: str) -> tuple[User, ApiKey] | None:
        """last_used_at is refreshed when older than KEY_USE_RESOLUTION, so most
        authentications are a read only."""
        found = await self._read(users.key_owner, key_hash)
        if found is None:
            return None
        user, key = found
        now = now_ts()
        if key.last_used_at is None or now - to_ts(key.last_used_at) >= KEY_USE_RESOLUTION:
            await self._write(users.touch_key, key.id, now)
            key.last_used_at = from_ts(now)
        return user, key

    async def list_api_keys(self, user_id: str | None = None) -> list[ApiKey]:
        return await self._read(users.list_keys, user_id)

    async def revoke_api_key(self, key_id: str) -> bool:
        return await self._write(lambda c: c.execute(
            "UPDATE api_keys SET revoked = 1 WHERE id = ?", (key_id,)).rowcount > 0)

    # memories ------------------------------------------------------------------------------
    async def insert_memory(self, memory: Memory, chunks: list[Chunk],
                            mentions: list[EntityMention], *, actor: str) -> Memory:
        return await self._write(mem.insert_memory, memory, chunks, mentions, actor)

    async def get_memory(self, user_id: str, memory_id: str) -> Memory | None:
        found = await self._read(mem.load_memories, user_id, [memory_id])
        return found.get(memory_id)

    async def get_memories(self, user_id: str, memory_ids: list[str]) -> dict[str, Memory]:
        if not memory_ids:
            return {}
        return await self._read(mem.load_memories, user_id, list(memory_ids))

    async def find_memory(self, user_id: str, *, client_id: str | None = None,
                          content_hash: str | None = None) -> Memory | None:
        if client_id is None and not content_hash:
            return None
        return await self._read(mem.find_memory, user_id, client_id, content_hash)

    async def list_memories(self, user_id: str, flt: MemoryFilter, *, limit: int,
                            offset: int = 0, newest_first: bool = True
                            ) -> tuple[list[Memory], int]:
        return await self._read(mem.list_memories, user_id, flt, limit, offset, newest_first)

    async def update_memory(self, memory: Memory, *, old_text: str, actor: str,
                            chunks: list[Chunk] | None = None,
                            mentions: list[EntityMention] | None = None,
                            event: str = "UPDATE") -> Memory:
        """Writes every field except access_count/last_accessed_at (see record_access)."""
        return await self._write(mem.update_memory, memory, old_text, actor, chunks, mentions,
                                 event)

    async def delete_memory(self, user_id: str, memory_id: str, *, actor: str) -> bool:
        return await self._write(mem.delete_memory, user_id, memory_id, actor)

    async def delete_all_memories(self, user_id: str, *, actor: str) -> int:
        return await self._write(mem.delete_all_memories, user_id, actor)

    async def memory_history(self, user_id: str, memory_id: str) -> list[HistoryEntry]:
        return await self._read(mem.memory_history, user_id, memory_id)

    async def record_access(self, user_id: str, memory_ids: list[str], at: datetime) -> None:
        if memory_ids:
            await self._write(mem.record_access, user_id, list(memory_ids), to_ts(at))

    # search primitives ---------------------------------------------------------------------
    async def keyword_search(self, user_id: str, terms: list[str], flt: MemoryFilter,
                             limit: int) -> list[Hit]:
        return await self._read(keyword.keyword_search, user_id, list(terms), flt, limit)

    async def vector_search(self, user_id: str, vector: np.ndarray, flt: MemoryFilter,
                            limit: int) -> list[Hit]:
        return await self._read(search.vector_search, self._vectors, user_id, vector, flt,
                                limit)

    async def vector_scores(self, user_id: str, vector: np.ndarray,
                            memory_ids: list[str]) -> dict[str, float]:
        return await self._read(search.vector_scores, user_id, vector, list(memory_ids))

    async def neighbours(self, user_id: str, memory_ids: list[str], *, window: int,
                         max_gap_s: float) -> dict[str, list[str]]:
        return await self._read(search.neighbours, user_id, list(memory_ids), window,
                                max_gap_s)

    async def entity_search(self, user_id: str, names: list[str], flt: MemoryFilter,
                            limit: int, *, related: bool = True) -> list[Hit]:
        return await self._read(search.entity_search, user_id, list(names), flt, limit,
                                related)

    async def list_entities(self, user_id: str, *, query: str | None = None,
                            limit: int = 100, offset: int = 0) -> list[Entity]:
        return await self._read(search.list_entities, user_id, query, limit, offset)

    # conversations, messages, summaries, personas ------------------------------------------
    async def create_conversation(self, conversation: Conversation) -> Conversation:
        return await self._write(chat.create_conversation, conversation)

    async def get_conversation(self, user_id: str, conversation_id: str
                               ) -> Conversation | None:
        return await self._read(chat.get_conversation, user_id, conversation_id)

    async def list_conversations(self, user_id: str, *, limit: int, offset: int = 0
                                 ) -> tuple[list[Conversation], int]:
        return await self._read(chat.list_conversations, user_id, limit, offset)

    async def update_conversation(self, conversation: Conversation) -> Conversation:
        return await self._write(chat.update_conversation, conversation)

    async def delete_conversation(self, user_id: str, conversation_id: str) -> bool:
        return await self._write(chat.delete_conversation, user_id, conversation_id)

    async def add_message(self, message: Message) -> Message:
        return await self._write(chat.add_message, message)

    async def list_messages(self, user_id: str, conversation_id: str, *,
                            limit: int | None = None, last: bool = False,
                            after_seq: int = 0, upto_seq: int | None = None
                            ) -> list[Message]:
        return await self._read(chat.list_messages, user_id, conversation_id, limit, last,
                                after_seq, upto_seq)

    async def emotion_timeline(self, user_id: str, *, conversation_id: str | None = None,
                               emotion: str | None = None, since: datetime | None = None,
                               until: datetime | None = None, limit: int = 500
                               ) -> list[Message]:
        return await self._read(chat.emotion_timeline, user_id, conversation_id, emotion,
                                to_ts(since), to_ts(until), limit)

    async def count_messages(self, user_id: str, conversation_id: str) -> int:
        return await self._read(chat.count_messages, user_id, conversation_id)

    async def add_summary(self, summary: Summary) -> Summary:
        return await self._write(chat.add_summary, summary)

    async def latest_summary(self, user_id: str, conversation_id: str) -> Summary | None:
        return await self._read(chat.latest_summary, user_id, conversation_id)

    async def replace_persona_chunks(self, user_id: str, conversation_id: str,
                                     chunks: list[Chunk]) -> None:
        await self._write(chat.replace_persona_chunks, user_id, conversation_id, list(chunks))

    async def persona_chunks(self, user_id: str, conversation_id: str) -> list[Chunk]:
        return await self._read(chat.persona_chunks, user_id, conversation_id)

    # durable jobs --------------------------------------------------------------------------
    async def enqueue_job(self, job: Job) -> Job:
        return await self._write(jobs.enqueue_job, job)

    async def claim_job(self, now: datetime) -> Job | None:
        return await self._write(jobs.claim_job, to_ts(now))

    async def renew_lease(self, job_id: str) -> None:
        await self._write(jobs.renew_lease, job_id)

    async def finish_job(self, job_id: str, *, result: dict | None = None) -> None:
        await self._write(jobs.finish_job, job_id, result)

    async def fail_job(self, job_id: str, error: str, *, retry_at: datetime | None) -> None:
        await self._write(jobs.fail_job, job_id, error, to_ts(retry_at))

    async def requeue_running_jobs(self) -> int:
        return await self._write(jobs.requeue_running_jobs)

    async def get_job(self, job_id: str) -> Job | None:
        return await self._read(jobs.get_job, job_id)

    async def list_jobs(self, *, user_id: str | None = None,
                        status: JobStatus | None = None, limit: int = 100) -> list[Job]:
        return await self._read(jobs.list_jobs, user_id, status, limit)

    async def job_counts(self) -> dict[str, int]:
        return await self._read(jobs.job_counts)

    async def add_refresh_token(self, jti: str, user_id: str, expires_at: float) -> None:
        await self._write(lambda conn: conn.execute(
            "INSERT INTO refresh_tokens (jti, user_id, expires_at) VALUES (?, ?, ?)",
            (jti, user_id, expires_at)))

    async def use_refresh_token(self, jti: str, now: float) -> str | None:
        return await self._write(users.use_refresh_token, jti, now)

    async def memory_count(self) -> int:
        return await self._read(
            lambda conn: conn.execute("SELECT count(*) FROM memories").fetchone()[0])

    # analytics -----------------------------------------------------------------------------
    async def add_analytics(self, records: list[AnalyticsRecord]) -> int:
        return await self._write(analytics.add_records, list(records)) if records else 0

    async def analytics_records(self, user_id: str | None, *, since: datetime | None = None,
                                until: datetime | None = None,
                                conversation_id: str | None = None,
                                limit: int | None = None) -> list[AnalyticsRecord]:
        return await self._read(analytics.records, user_id, to_ts(since), to_ts(until),
                                conversation_id, limit)

    async def prune_analytics(self, before: datetime) -> int:
        return await self._write(analytics.prune, to_ts(before))

    # shared state --------------------------------------------------------------------------
    async def update_state(self, key: str, fn: Callable[[Any], tuple[Any, Any]], *,
                           ttl_s: float) -> Any:
        return await self._write(state.update_state, key, fn, ttl_s)

    async def prune_state(self) -> int:
        return await self._write(state.prune_state)
