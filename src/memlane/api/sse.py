"""Engine events as Server-Sent Events: `contexts`, `token` (many), then `done`; a failure
after the stream has started becomes an `error` event (the status line is already sent)."""
from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi.sse import EventSourceResponse
from pydantic import BaseModel, Field

from ..chat.events import Contexts, Done, Event, Token, whole
from ..errors import MemlaneError
from ..schemas import UsageOut
from .openapi import inline

log = logging.getLogger(__name__)


class ContextOut(BaseModel):
    ref: int = Field(description="[n] in the prompt and the answer")
    memory_id: str
    text: str
    score: float
    type: str
    when: datetime | None


class ContextsEvent(BaseModel):
    contexts: list[ContextOut]


class TokenEvent(BaseModel):
    text: str


class DoneEvent(BaseModel):
    answer: str
    citations: list[str] = Field(description="Ids of the memories the answer cites")
    known: bool = Field(description="False: nothing relevant was found, and the answer "
                                    "says so")
    finish_reason: str
    usage: UsageOut
    timings_ms: dict[str, float]


class ErrorEvent(BaseModel):
    detail: str
    code: str
    status: int


class AnswerOut(DoneEvent):
    """A whole answer as one object (`stream: false`)."""
    contexts: list[ContextOut]


EVENTS = {"contexts": ContextsEvent, "token": TokenEvent, "done": DoneEvent,
          "error": ErrorEvent}


def responses(answer: type[AnswerOut]) -> dict[int | str, dict[str, Any]]:
    """The 200 of a streamed route, for its OpenAPI document: the events (`stream: true`),
    each with its JSON data, or ``answer`` as one object."""
    item = {"oneOf": [{"type": "object", "required": ["event", "data"], "properties": {
        "event": {"const": name},
        "data": {"type": "string", "contentMediaType": "application/json",
                 "contentSchema": inline(model)}}} for name, model in EVENTS.items()]}
    return {200: {"model": answer, "description": "Server-Sent Events, or one JSON object",
                  "content": {"text/event-stream": {"itemSchema": item}}}}


def sse(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n"


def render(event: Event) -> str:
    if isinstance(event, Token):
        return sse("token", {"text": event.text})
    if isinstance(event, Contexts):
        return sse("contexts", {"contexts": [c.as_dict() for c in event.items], **event.extra})
    if isinstance(event, Done):
        return sse("done", event.as_dict())
    raise TypeError(f"not an event: {event!r}")


async def _rendered(events: AsyncIterator[Event]) -> AsyncIterator[str]:
    try:
        async for event in events:
            yield render(event)
    except MemlaneError as exc:
        yield sse("error", {"detail": exc.message, "code": exc.code, "status": exc.status})
    except Exception:
        log.exception("stream failed")
        yield sse("error", {"detail": "internal error", "code": "internal_error",
                            "status": 500})


def stream(events: AsyncIterator[Event]) -> EventSourceResponse:
    return EventSourceResponse(_rendered(events), headers={"Cache-Control": "no-cache",
                                                           "X-Accel-Buffering": "no"})


async def collect(events: AsyncIterator[Event]) -> dict[str, Any]:
    """The whole answer as one JSON object (for `stream: false`)."""
    contexts, done = await whole(events)
    return {**contexts.extra, "contexts": [c.as_dict() for c in contexts.items],
            **done.as_dict()}
