"""Core types shared by the engine, the stores and the doors."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


def utcnow() -> datetime:
    return datetime.now(UTC)


class MemoryType(StrEnum):
    profile = "profile"
    semantic = "semantic"
    episodic = "episodic"
    procedural = "procedural"


class Source(StrEnum):
    typed = "typed"
    voice = "voice"
    chat = "chat"
    import_ = "import"
    extraction = "extraction"


@dataclass
class User:
    id: str
    name: str
    is_admin: bool = False
    created_at: datetime = field(default_factory=utcnow)
    disabled: bool = False
    tokens_after: float = 0.0  # epoch seconds: access and refresh tokens issued before fail


@dataclass
class ApiKey:
    id: str
    user_id: str
    name: str
    prefix: str
    created_at: datetime = field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked: bool = False


@dataclass
class Memory:
    id: str
    user_id: str
    text: str
    type: MemoryType = MemoryType.semantic
    source: Source = Source.typed
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    occurred_at: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    importance: float = 0.5
    confidence: float = 1.0
    access_count: int = 0
    last_accessed_at: datetime | None = None
    emotion: str | None = None
    client_id: str | None = None
    content_hash: str = ""
    valid_until: datetime | None = None
    entities: list[str] = field(default_factory=list)

    @property
    def event_time(self) -> datetime:
        """When the remembered thing happened, else when it was told."""
        return self.occurred_at or self.created_at


@dataclass
class Chunk:
    """A piece of a memory's text that is indexed on its own (keyword and vector)."""
    index: int
    text: str
    start: int
    end: int
    vector: Any = None  # float32 numpy vector, normalised


@dataclass
class EntityMention:
    name: str
    label: str  # spaCy label: PERSON, GPE, ORG, DATE, ...


@dataclass
class Entity:
    id: str
    user_id: str
    name: str
    label: str
    memory_count: int = 0


@dataclass
class HistoryEntry:
    id: str
    memory_id: str
    user_id: str
    event: str  # ADD | UPDATE | DELETE
    old_text: str | None
    new_text: str | None
    actor: str
    created_at: datetime = field(default_factory=utcnow)
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class MemoryFilter:
    """Filters applied inside the store, after the user scope and before ranking."""
    types: list[MemoryType] | None = None
    since: datetime | None = None  # on event_time (occurred_at, else created_at)
    until: datetime | None = None
    metadata: dict[str, Any] | None = None  # exact match on top-level keys
    entity: str | None = None  # entity name, case-insensitive
    include_superseded: bool = False


@dataclass
class Hit:
    """A store-level search hit: a memory id and the raw score of one strategy."""
    memory_id: str
    score: float
    detail: dict[str, Any] = field(default_factory=dict)


class Role(StrEnum):
    system = "system"
    user = "user"
    assistant = "assistant"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


@dataclass
class Conversation:
    """A chat session. ``updated_at`` is the last activity (sessions expire when idle)."""
    id: str
    user_id: str
    title: str | None = None
    persona: str | None = None  # character / system definition, chunked and indexed
    agent: str | None = None  # name of the agent configuration it was created with
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Message:
    """One message of a conversation; ``seq`` (1, 2, …) is assigned by the store."""
    id: str
    conversation_id: str
    user_id: str
    role: Role
    content: str
    created_at: datetime = field(default_factory=utcnow)
    seq: int = 0
    tokens: int = 0
    emotion: str | None = None
    importance: float = 0.5
    metadata: dict[str, Any] = field(default_factory=dict)
    vector: Any = None  # float32 numpy embedding of the content, or None


@dataclass
class Summary:
    """A summary of a conversation's messages with seq <= ``upto_seq``."""
    id: str
    conversation_id: str
    user_id: str
    text: str
    upto_seq: int
    created_at: datetime = field(default_factory=utcnow)


@dataclass
class Job:
    """Durable background work (fact extraction, summarisation): a row in the store."""
    id: str
    kind: str
    user_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    status: JobStatus = JobStatus.queued
    attempts: int = 0
    last_error: str | None = None
    result: dict[str, Any] | None = None
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    run_after: datetime | None = None  # not claimed before this time (retry backoff)


@dataclass
class AnalyticsRecord:
    """One timed pipeline run (kind "chat", "ask", "search" or "completion"): phase ms, hits
    per retrieval strategy, tokens used and their estimated cost."""
    id: str
    user_id: str
    kind: str
    at: datetime = field(default_factory=utcnow)
    conversation_id: str | None = None
    phases: dict[str, float] = field(default_factory=dict)
    strategies: dict[str, int] = field(default_factory=dict)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
