"""What the MCP tools return (their output schemas), built from engine results."""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ..chat.events import ContextItem
from ..schemas import MemoryOut


class Remembered(BaseModel):
    memory: MemoryOut
    created: bool = Field(description="False: it was already remembered (same text or id)")


class Found(BaseModel):
    memory: MemoryOut
    score: float


class SearchOut(BaseModel):
    results: list[Found]


class Cited(BaseModel):
    ref: int = Field(description="[n] in the answer or the context")
    memory_id: str
    text: str
    when: datetime | None


class AnswerOut(BaseModel):
    answer: str
    known: bool = Field(description="False: nothing relevant was remembered")
    citations: list[Cited] = Field(description="The memories the answer cites")


class MemoryPage(BaseModel):
    memories: list[MemoryOut]
    total: int
    limit: int
    offset: int


class Forgotten(BaseModel):
    deleted: str


class RecallOut(BaseModel):
    context: str = Field(description="Ready to add to the system prompt; empty when "
                                     "nothing relevant is remembered")
    memories: list[Cited]


class Turn(BaseModel):
    role: str = Field(description="user, assistant or system")
    content: str


def cited(items: list[ContextItem], ids: list[str] | None = None) -> list[Cited]:
    """The context items (those with ``ids`` only, when given) as citations."""
    keep = set(ids) if ids is not None else None
    return [Cited(ref=c.ref, memory_id=c.memory_id, text=c.text, when=c.when) for c in items
            if keep is None or c.memory_id in keep]
