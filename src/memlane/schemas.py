"""Input and output shapes shared by the engine and every door (validated by pydantic)."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from .domain import HistoryEntry, Memory, MemoryType, Source
from .jsonsafe import check_filter, check_metadata, valid_text

Emotion = Literal["joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral"]
MAX_OFFSET = 2**63 - 1  # SQLite's largest integer: a larger offset cannot be bound
MAX_RESULTS = 500  # at most this many memories in one search or page


def aware_utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def storable(value: datetime | None) -> datetime | None:
    """Aware (naive means UTC) and still a datetime in UTC, as the store keeps it: an offset
    can push 0001-01-01 or 9999-12-31 out of range."""
    value = aware_utc(value)
    if value is not None:
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("date out of range once converted to UTC") from None
    return value


# Bounded (depth, key length, size), storable (finite, 64-bit), valid Unicode: refused with
# 422 before anything is stored, so every stored memory can be read back.
Metadata = Annotated[dict[str, Any], AfterValidator(check_metadata)]
MetadataFilter = Annotated[dict[str, Any], AfterValidator(check_filter)]


class UsageOut(BaseModel):
    """Tokens of one reply (or a sum of them), on every door."""
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class MemoryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, description="What to remember.")
    type: MemoryType = MemoryType.semantic
    source: Source = Source.typed
    occurred_at: datetime | None = Field(None, description="When it happened (ISO 8601).")
    metadata: Metadata = Field(default_factory=dict)
    importance: float | None = Field(None, ge=0, le=1)
    confidence: float | None = Field(None, ge=0, le=1)
    emotion: str | None = Field(None, max_length=32)
    client_id: str | None = Field(
        None, min_length=1, max_length=200,
        description="Idempotency key: the same key returns the same memory.")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("text must not be blank")
        if not valid_text(v):
            raise ValueError("text is not valid Unicode (it holds a lone surrogate)")
        return v

    _aware_occurred = field_validator("occurred_at")(lambda cls, v: storable(v))


class MemoryPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str | None = Field(None, min_length=1)
    type: MemoryType | None = None
    occurred_at: datetime | None = None
    metadata: Metadata | None = None
    importance: float | None = Field(None, ge=0, le=1)
    confidence: float | None = Field(None, ge=0, le=1)
    emotion: str | None = Field(None, max_length=32)

    _aware_occurred = field_validator("occurred_at")(lambda cls, v: storable(v))


class SearchFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    since: datetime | None = None
    until: datetime | None = None
    metadata: MetadataFilter | None = None
    entity: str | None = None

    _aware = field_validator("since", "until")(lambda cls, v: aware_utc(v))


class SearchQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, max_length=2000)
    limit: int = Field(10, ge=1, le=MAX_RESULTS)
    types: list[MemoryType] | None = None
    filters: SearchFilters | None = None
    emotion: Emotion | None = Field(None, description=(
        "Boost memories with this emotion (joy, sadness, ...): relevance x "
        "(1 + importance x emotion_boost)."))
    explain: bool = True


class MemoryOut(BaseModel):
    id: str
    text: str
    type: MemoryType
    source: Source
    created_at: datetime
    updated_at: datetime
    occurred_at: datetime | None
    metadata: dict[str, Any]
    importance: float
    confidence: float
    access_count: int
    last_accessed_at: datetime | None
    emotion: str | None
    client_id: str | None
    valid_until: datetime | None
    entities: list[str]

    @classmethod
    def of(cls, m: Memory) -> MemoryOut:
        fields = {k: getattr(m, k) for k in cls.model_fields}
        return cls(**fields)


class HistoryOut(BaseModel):
    id: str
    memory_id: str
    event: str
    old_text: str | None
    new_text: str | None
    actor: str
    created_at: datetime
    details: dict[str, Any]

    @classmethod
    def of(cls, h: HistoryEntry) -> HistoryOut:
        return cls(**{k: getattr(h, k) for k in cls.model_fields})


class SearchResultOut(BaseModel):
    memory: MemoryOut
    score: float
    reasons: dict[str, Any]
