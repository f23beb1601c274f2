"""Engine events as Server-Sent Events: `contexts`, `token` (many), then `done`; a failure
after the stream has started becomes an `error` event (the status line is already sent)."""
from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi.sse import EventSourceResponse

from ..chat.events import Contexts, Done, Event, Token
from ..errors import MemlaneError

log = logging.getLogger(__name__)


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
    out: dict[str, Any] = {"contexts": []}
    async for event in events:
        if isinstance(event, Contexts):
            out.update(event.extra, contexts=[c.as_dict() for c in event.items])
        elif isinstance(event, Done):
            out.update(event.as_dict())
    return out
