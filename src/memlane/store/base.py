"""The Store seam: everything persistent. Nothing above this interface writes SQL.

Every method that reads or writes memories takes the owner's ``user_id`` and is scoped
by it *before* any ranking or filtering: a memory of another user is indistinguishable
from a missing one (``None`` / ``False`` / absent from results).
All methods are coroutines; implementations keep blocking work off the event loop.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import numpy as np

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


class Store(ABC):
    name: ClassVar[str]
    # True when several processes (replicas) serve from one database at once: state they
    # must agree on (rate limits, sign-in failures) is then kept here, not in memory
    shared: ClassVar[bool] = False

    # lifecycle -------------------------------------------------------------
    @abstractmethod
    async def open(self) -> None:
        """Create/migrate the schema and start background resources."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> bool:
        """True when the database answers a trivial query."""

    # users and API keys ------------------------------------------------------
    @abstractmethod
    async def create_user(self, name: str, *, is_admin: bool = False,
                          user_id: str | None = None) -> User:
        """Raises errors.Conflict when the name is taken."""

    @abstractmethod
    async def get_user(self, user_id: str) -> User | None: ...

    @abstractmethod
    async def get_user_by_name(self, name: str) -> User | None: ...

    @abstractmethod
    async def list_users(self) -> list[User]: ...

    @abstractmethod
    async def update_user(self, user_id: str, **changes: Any) -> User | None:
        """Set any of is_admin, disabled, tokens_after, password_hash; the updated user, or
        None when there is no such user."""

    @abstractmethod
    async def password_hash(self, user_id: str) -> str | None: ...

    @abstractmethod
    async def delete_user(self, user_id: str) -> bool:
        """Deletes the user, their keys and every row they own."""

    @abstractmethod
    async def add_api_key(self, user_id: str, *, name: str, prefix: str,
                          key_hash: str) -> ApiKey: ...

    @abstractmethod
    async def user_for_key_hash(self, key_hash: str) -> tuple[User, ApiKey] | None:
        """The owner of a non-revoked key; records last use."""

    @abstractmethod
    async def list_api_keys(self, user_id: str | None = None) -> list[ApiKey]: ...

    @abstractmethod
    async def revoke_api_key(self, key_id: str) -> bool: ...

    # memories ------------------------------------------------------------------
    @abstractmethod
    async def insert_memory(self, memory: Memory, chunks: list[Chunk],
                            mentions: list[EntityMention], *, actor: str) -> Memory:
        """One transaction: the memory row, its chunks (text, vector, keyword rows),
        entity upserts and links, co-occurrence relations between its entities, and an
        ADD history entry. Raises errors.Conflict if (user_id, client_id) exists.
        Returns the stored memory with ``entities`` filled."""

    @abstractmethod
    async def get_memory(self, user_id: str, memory_id: str) -> Memory | None: ...

    @abstractmethod
    async def get_memories(self, user_id: str, memory_ids: list[str]) -> dict[str, Memory]:
        """The user's memories among ``memory_ids`` (others silently absent)."""

    @abstractmethod
    async def find_memory(self, user_id: str, *, client_id: str | None = None,
                          content_hash: str | None = None) -> Memory | None:
        """Lookup for idempotency (client id) and exact-duplicate detection (hash)."""

    @abstractmethod
    async def list_memories(self, user_id: str, flt: MemoryFilter, *, limit: int,
                            offset: int = 0, newest_first: bool = True
                            ) -> tuple[list[Memory], int]:
        """A page ordered by event time (occurred_at, else created_at), and the total."""

    @abstractmethod
    async def update_memory(self, memory: Memory, *, old_text: str, actor: str,
                            chunks: list[Chunk] | None = None,
                            mentions: list[EntityMention] | None = None,
                            event: str = "UPDATE") -> Memory:
        """Write ``memory``'s fields (matched by id *and* user_id). When ``chunks`` is given
        the chunks/vectors/keyword rows are replaced; when ``mentions`` is given the entity
        links are replaced. Adds a history entry of ``event`` (UPDATE, SUPERSEDE, RESTORE).
        errors.NotFound if absent."""

    @abstractmethod
    async def delete_memory(self, user_id: str, memory_id: str, *, actor: str) -> bool:
        """Removes the memory and every derived row; keeps a DELETE history entry."""

    @abstractmethod
    async def delete_all_memories(self, user_id: str, *, actor: str) -> int: ...

    @abstractmethod
    async def memory_history(self, user_id: str, memory_id: str) -> list[HistoryEntry]:
        """Oldest first; still answers after the memory is deleted."""

    @abstractmethod
    async def record_access(self, user_id: str, memory_ids: list[str], at: datetime) -> None:
        """access_count += 1 and last_accessed_at = at, for the user's memories."""

    # search primitives -----------------------------------------------------------
    @abstractmethod
    async def keyword_search(self, user_id: str, terms: list[str], flt: MemoryFilter,
                             limit: int) -> list[Hit]:
        """BM25 over chunks (any term may match; stemmed), best chunk per memory,
        score higher = better. Terms are plain words; the store escapes them."""

    @abstractmethod
    async def vector_search(self, user_id: str, vector: np.ndarray, flt: MemoryFilter,
                            limit: int) -> list[Hit]:
        """Exact cosine over the user's chunk vectors, best chunk per memory."""

    @abstractmethod
    async def vector_scores(self, user_id: str, vector: np.ndarray,
                            memory_ids: list[str]) -> dict[str, float]:
        """Best-chunk cosine for the given memories of the user."""

    @abstractmethod
    async def entity_search(self, user_id: str, names: list[str], flt: MemoryFilter,
                            limit: int, *, related: bool = True) -> list[Hit]:
        """Memories linked to entities named (case-insensitive), score 1.0 per matched
        entity; with ``related``, also memories linked to entities that co-occur with them
        (score 0.5 x relation strength in 0..1). detail: {"entities": [...], "related": bool}."""

    @abstractmethod
    async def neighbours(self, user_id: str, memory_ids: list[str], *, window: int,
                         max_gap_s: float) -> dict[str, list[str]]:
        """For each of the user's memories, the ids of up to ``window`` memories told just
        before and just after it (insertion order), whose event times lie within
        ``max_gap_s`` of its own: the turns around a turn of the same conversation.
        Superseded memories (validity ended) are skipped."""

    @abstractmethod
    async def list_entities(self, user_id: str, *, query: str | None = None,
                            limit: int = 100, offset: int = 0) -> list[Entity]:
        """The user's entities with how many memories link to them, most linked first;
        ``query`` filters by case-insensitive substring of the name."""

    # conversations, messages, summaries, personas ---------------------------------
    # Every method is scoped by user_id: another user's conversation is a missing one.
    @abstractmethod
    async def create_conversation(self, conversation: Conversation) -> Conversation: ...

    @abstractmethod
    async def get_conversation(self, user_id: str, conversation_id: str
                               ) -> Conversation | None: ...

    @abstractmethod
    async def list_conversations(self, user_id: str, *, limit: int, offset: int = 0
                                 ) -> tuple[list[Conversation], int]:
        """A page, most recently active (updated_at) first, and the total."""

    @abstractmethod
    async def update_conversation(self, conversation: Conversation) -> Conversation:
        """Writes title, persona, agent, metadata, updated_at (matched by id and user_id).
        errors.NotFound if absent."""

    @abstractmethod
    async def delete_conversation(self, user_id: str, conversation_id: str) -> bool:
        """Removes the conversation with its messages, summaries and persona chunks."""

    @abstractmethod
    async def add_message(self, message: Message) -> Message:
        """Appends with the next ``seq`` of its conversation (1-based) and sets the
        conversation's updated_at to the message's created_at. errors.NotFound if the
        conversation is not the user's. Returns the stored message with ``seq`` set."""

    @abstractmethod
    async def list_messages(self, user_id: str, conversation_id: str, *,
                            limit: int | None = None, last: bool = False,
                            after_seq: int = 0, upto_seq: int | None = None
                            ) -> list[Message]:
        """Messages with after_seq < seq <= upto_seq, oldest first. With ``limit``: the
        first ``limit`` of them, or the last ``limit`` when ``last`` (still oldest first).
        Vectors are included."""

    @abstractmethod
    async def emotion_timeline(self, user_id: str, *, conversation_id: str | None = None,
                               emotion: str | None = None, since: datetime | None = None,
                               until: datetime | None = None, limit: int = 500
                               ) -> list[Message]:
        """The user's own messages that carry an emotion (optionally one conversation's,
        one label's, within [since, until]), oldest first: the last ``limit`` of them."""

    @abstractmethod
    async def count_messages(self, user_id: str, conversation_id: str) -> int: ...

    @abstractmethod
    async def add_summary(self, summary: Summary) -> Summary: ...

    @abstractmethod
    async def latest_summary(self, user_id: str, conversation_id: str) -> Summary | None:
        """The summary with the highest upto_seq."""

    @abstractmethod
    async def replace_persona_chunks(self, user_id: str, conversation_id: str,
                                     chunks: list[Chunk]) -> None:
        """Replaces the conversation's indexed persona chunks (with vectors)."""

    @abstractmethod
    async def persona_chunks(self, user_id: str, conversation_id: str) -> list[Chunk]:
        """In index order, with vectors."""

    # durable jobs -------------------------------------------------------------------
    @abstractmethod
    async def enqueue_job(self, job: Job) -> Job: ...

    @abstractmethod
    async def claim_job(self, now: datetime) -> Job | None:
        """Atomically takes the oldest queued job whose run_after is unset or <= now:
        status running, attempts + 1, updated_at now. None when there is none."""

    @abstractmethod
    async def renew_lease(self, job_id: str) -> None:
        """A running job's heartbeat (updated_at now): a store shared by replicas hands a
        job whose lease ran out (its replica died) to the next claim."""

    @abstractmethod
    async def finish_job(self, job_id: str, *, result: dict | None = None) -> None:
        """status done, result kept."""

    @abstractmethod
    async def fail_job(self, job_id: str, error: str, *, retry_at: datetime | None) -> None:
        """last_error kept; queued again with run_after=retry_at, or failed when None."""

    @abstractmethod
    async def requeue_running_jobs(self) -> int:
        """At start-up: jobs left running by a dead process go back to queued. Count."""

    @abstractmethod
    async def get_job(self, job_id: str) -> Job | None: ...

    @abstractmethod
    async def list_jobs(self, *, user_id: str | None = None,
                        status: JobStatus | None = None, limit: int = 100) -> list[Job]:
        """Newest first."""

    @abstractmethod
    async def add_refresh_token(self, jti: str, user_id: str, expires_at: float) -> None:
        """Record an issued refresh token (by its id) until it expires."""

    @abstractmethod
    async def use_refresh_token(self, jti: str, now: float) -> str | None:
        """The user id of an unused, unexpired refresh token, marking it used in the same
        step (so it works once, even when two requests race); None otherwise."""

    @abstractmethod
    async def memory_count(self) -> int:
        """Memories stored, of every user (superseded ones included)."""

    @abstractmethod
    async def job_counts(self) -> dict[str, int]:
        """How many jobs in each status (every JobStatus key present)."""

    # analytics -----------------------------------------------------------------------
    @abstractmethod
    async def add_analytics(self, records: list[AnalyticsRecord]) -> int:
        """Stores the records in one step; one whose id is stored already, or whose user
        no longer exists, is skipped. How many were stored."""

    @abstractmethod
    async def analytics_records(self, user_id: str | None, *, since: datetime | None = None,
                                until: datetime | None = None,
                                conversation_id: str | None = None,
                                limit: int | None = None) -> list[AnalyticsRecord]:
        """The user's records (every user's when None) with since <= at < until, oldest
        first: the first ``limit`` of them."""

    @abstractmethod
    async def prune_analytics(self, before: datetime) -> int:
        """Deletes every user's records older than ``before``; how many."""

    # shared state ----------------------------------------------------------------------
    @abstractmethod
    async def update_state(self, key: str, fn: Callable[[Any], tuple[Any, Any]], *,
                           ttl_s: float) -> Any:
        """Atomically: ``fn(value)`` on the key's JSON value (None when absent or older
        than its ttl) returns (new value or None to delete, answer); the answer is
        returned. Concurrent updates of one key run one after the other."""

    @abstractmethod
    async def prune_state(self) -> int:
        """Deletes expired state; how many keys."""
