"""What an answer or a chat turn streams, in order: the contexts it used, the tokens, done.
The doors render these (SSE, OpenAI chunks, WebSocket frames); the engine yields them."""
from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..models.llm import Usage


@dataclass
class ContextItem:
    ref: int  # [n] in the prompt
    memory_id: str
    text: str
    score: float
    type: str = "semantic"
    when: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "memory_id": self.memory_id, "text": self.text,
                "score": self.score, "type": self.type,
                "when": self.when.isoformat() if self.when else None}


@dataclass
class Contexts:
    items: list[ContextItem]
    extra: dict[str, Any] = field(default_factory=dict)  # conversation and message ids


@dataclass
class Token:
    text: str


@dataclass
class Done:
    answer: str
    citations: list[str]  # memory ids
    usage: Usage
    timings_ms: dict[str, float]
    known: bool = True  # False: nothing relevant was found and the reply says so
    finish_reason: str = "stop"
    extra: dict[str, Any] = field(default_factory=dict)  # conversation and message ids

    def as_dict(self) -> dict[str, Any]:
        return {"answer": self.answer, "citations": self.citations, "known": self.known,
                "finish_reason": self.finish_reason,
                "usage": self.usage.as_dict(),
                "timings_ms": self.timings_ms, **self.extra}


Event = Contexts | Token | Done


async def whole(events: AsyncIterator[Event]) -> tuple[Contexts, Done]:
    """A streamed answer's contexts and its final event, for callers that want it whole."""
    contexts, done = Contexts([]), None
    async for event in events:
        if isinstance(event, Contexts):
            contexts = event
        elif isinstance(event, Done):
            done = event
    if done is None:
        raise RuntimeError("the answer ended without its done event")
    return contexts, done
