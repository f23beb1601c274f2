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
