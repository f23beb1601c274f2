"""Typed results (pydantic models of the server's JSON; unknown fields are kept)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Memory(Model):
    id: str
    text: str
    type: str
    source: str
    created_at: datetime
    updated_at: datetime
    occurred_at: datetime | None = None
    metadata: dict[str, Any] = {}
    importance: float = 0.5
    confidence: float = 1.0
    emotion: str | None = None
    client_id: str | None = None
    entities: list[str] = []


class SearchResult(Model):
    memory: Memory
    score: float
    reasons: dict[str, Any] = {}


class SearchResults(Model):
    results: list[SearchResult]
    query: dict[str, Any] = {}
    timings_ms: dict[str, Any] = {}


class MemoryPage(Model):
    memories: list[Memory]
    total: int
    limit: int
    offset: int


class Context(Model):
    ref: int
    memory_id: str
    text: str
    score: float
    type: str
    when: datetime | None = None


class Usage(Model):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class Answer(Model):
    """A whole answer (or chat reply) with the memories it used and cites."""
    answer: str
    citations: list[str] = []
    known: bool = True
    finish_reason: str = "stop"
    usage: Usage = Usage()
    contexts: list[Context] = []
    conversation_id: str | None = None
    message_id: str | None = None


class Event(Model):
    """One streamed event: `contexts`, `token` (its `text`), then `done` (the answer)."""
    event: Literal["contexts", "token", "done"]
    text: str = ""
    contexts: list[Context] = []
    answer: Answer | None = None


class ImportSummary(Model):
    imported: int
    existing: int
    conversations: int = 0
    errors: list[dict[str, Any]] = []


class Tokens(Model):
    access_token: str
    refresh_token: str
    expires_in: int
